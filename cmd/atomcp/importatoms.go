package main

import (
	"errors"
	"fmt"
	"text/tabwriter"

	"github.com/jackc/pgx/v5"
	"github.com/spf13/cobra"

	"github.com/atomcp/atomcp/internal/atomsimport"
	"github.com/atomcp/atomcp/internal/config"
)

func newImportCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "import",
		Short: "Import data from another system",
	}
	cmd.AddCommand(newImportAtomsCmd())
	return cmd
}

func newImportAtomsCmd() *cobra.Command {
	var (
		from, issuer string
		dryRun       bool
	)
	cmd := &cobra.Command{
		Use:   "atoms --from postgres://…",
		Short: "Copy an Atoms (Supabase) database — the Python Atoms server's tables — into atomcp's database",
		Long: `Read the tables of an Atoms database (profiles, organizations,
organization_members, projects, project_members, documents, blocks,
requirements, test_req, requirement_tests, trace_links) and write them into
the database ATOMCP_DATABASE_URL names, keeping every id. It is one
transaction, and idempotent: running it again updates what it copied and
creates nothing twice. --dry-run reads and checks everything and prints the
counts without writing.

Users are the profiles; each signs in to atomcp with the identity in
profiles.workos_id under --issuer (by default the configured AuthKit domain
or OIDC issuer), and then finds their organizations.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if from == "" {
				return errors.New("--from is required: the URL of the Atoms PostgreSQL database")
			}
			ctx := cmd.Context()
			cfg, logger, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			if issuer == "" {
				switch cfg.Auth {
				case config.AuthAuthKit:
					issuer = cfg.AuthKitDomain
				case config.AuthOIDC:
					issuer = cfg.OIDCIssuer
				default:
					return errors.New("--issuer is required: the issuer of the WorkOS identities in profiles.workos_id (the default is the AuthKit domain or OIDC issuer of ATOMCP_AUTH)")
				}
			}
			src, err := pgx.Connect(ctx, from)
			if err != nil {
				return fmt.Errorf("--from: %w", err)
			}
			defer src.Close(ctx)
			st, err := openStore(ctx, cfg, logger)
			if err != nil {
				return err
			}
			defer st.Close()
			counts, err := atomsimport.Import(ctx, src, st, atomsimport.Options{Issuer: issuer, DryRun: dryRun})
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "table\tread\tcreated\tupdated")
			for _, c := range counts.Tables {
				fmt.Fprintf(w, "%s\t%d\t%d\t%d\n", c.Table, c.Read, c.Created, c.Updated)
			}
			if err := w.Flush(); err != nil {
				return err
			}
			for _, s := range counts.Skipped {
				fmt.Fprintln(out, "skipped:", s)
			}
			if dryRun {
				fmt.Fprintln(out, "dry run: nothing was written")
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "the Atoms PostgreSQL database (postgres://user:password@host:5432/postgres)")
	cmd.Flags().StringVar(&issuer, "issuer", "", "the issuer of the identities in profiles.workos_id")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print the counts without writing")
	return cmd
}
