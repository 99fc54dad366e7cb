package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/atomcp/atomcp/internal/config"
	"github.com/atomcp/atomcp/internal/store/storeopen"
)

func newMigrateCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply pending database migrations (serve does this at start-up too)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, logger, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			st, err := openStore(cmd.Context(), cfg, logger)
			if err != nil {
				return err
			}
			defer st.Close()
			fmt.Fprintln(cmd.OutOrStdout(), "database is up to date:", storeopen.Redact(cfg.DatabaseURL))
			return nil
		},
	}
	config.BindFlagsFor(cmd.Flags(), storeSettings...)
	return cmd
}
