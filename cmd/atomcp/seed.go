package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/atomcp/atomcp/internal/atoms"
	"github.com/atomcp/atomcp/internal/authserver"
	"github.com/atomcp/atomcp/internal/config"
	"github.com/atomcp/atomcp/internal/demo"
)

func newSeedCmd() *cobra.Command {
	var (
		withDemo bool
		forEmail string
	)
	cmd := &cobra.Command{
		Use:   "seed --demo",
		Short: "Create a demo organization (one project, two documents, 20 requirements, tests, links) for the local user or --for an account",
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
			caller := atoms.LocalCaller
			if forEmail != "" {
				// An account of the embedded authorization server: its users
				// are stored under the embedded issuer (see authserver.EmbeddedIssuer).
				acct, err := st.GetLocalAccountByEmail(ctx, strings.ToLower(strings.TrimSpace(forEmail)))
				if err != nil {
					return fmt.Errorf("--for %s: no account with this email (create one with atomcp users add, or sign in once through the first-account link): %w", forEmail, err)
				}
				caller = atoms.Caller{Issuer: authserver.EmbeddedIssuer, Subject: acct.ID, Email: acct.Email, EmailVerified: true, Name: acct.Name}
			}
			a, err := svc.Actor(ctx, caller)
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
	cmd.Flags().StringVar(&forEmail, "for", "", "the email of an account of the embedded authorization server to own the demo (default: the local user of ATOMCP_AUTH=none and stdio)")
	config.BindFlagsFor(cmd.Flags(), storeSettings...)
	return cmd
}
