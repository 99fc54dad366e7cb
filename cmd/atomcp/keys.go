package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/atomcp/atomcp/internal/authserver"
	"github.com/atomcp/atomcp/internal/store"
)

// newKeysCmd is `atomcp keys`: the signing keys of the embedded
// authorization server.
func newKeysCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Manage the signing keys of the embedded authorization server",
	}
	rotate := adminCmd("rotate", "Generate a new signing key; the old one keeps verifying until its tokens expire", cobra.NoArgs,
		func(cmd *cobra.Command, st store.Store, _ []string) error {
			cfg, _, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			kid, err := authserver.RotateKeys(cmd.Context(), st, authserver.KeyRetention(cfg.AccessTokenTTL), time.Now())
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "new signing key %s; a running server signs with it within a minute\n", kid)
			return nil
		})
	cmd.AddCommand(rotate)
	return cmd
}
