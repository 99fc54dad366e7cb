package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/atomcp/atomcp/internal/atoms"
	"github.com/atomcp/atomcp/internal/config"
	"github.com/atomcp/atomcp/internal/demo"
)

func newSeedCmd() *cobra.Command {
	var withDemo bool
	cmd := &cobra.Command{
		Use:   "seed --demo",
		Short: "Create a demo organization (one project, two documents, 20 requirements, tests) for the local user",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !withDemo {
				return errors.New("nothing to seed: pass --demo to create the demo organization")
			}
			ctx := cmd.Context()
			cfg, logger, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			st, err := openStore(ctx, cfg, logger)
			if err != nil {
				return err
			}
			defer st.Close()
			svc := atoms.New(st, atoms.WithLogger(logger))
			a, err := svc.Actor(ctx, atoms.LocalCaller)
			if err != nil {
				return err
			}
			res, err := demo.Seed(ctx, svc, a)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if !res.Created {
				fmt.Fprintf(out, "the demo organization %q already exists (%s); nothing changed\n", demo.OrganizationName, res.OrganizationID)
				return nil
			}
			fmt.Fprintf(out, "created %q (%s): %d project, %d documents, %d requirements, %d tests, %d links\n",
				demo.OrganizationName, res.OrganizationID, res.Projects, res.Documents, res.Requirements, res.Tests, res.Links)
			return nil
		},
	}
	cmd.Flags().BoolVar(&withDemo, "demo", false, "create the demo organization")
	config.BindFlags(cmd.Flags())
	return cmd
}
