package main

import (
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/atomcp/atomcp/internal/config"
	"github.com/atomcp/atomcp/internal/store/postgres"
	"github.com/atomcp/atomcp/internal/store/sqlite"
	"github.com/atomcp/atomcp/internal/store/storeopen"
)

func newDBCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "db",
		Short: "Database administration beyond migrations",
	}
	cmd.AddCommand(newDBCopyCmd(), newDBBackupCmd(), newDBRestoreCmd())
	return cmd
}

func newDBCopyCmd() *cobra.Command {
	var to string
	cmd := &cobra.Command{
		Use:   "copy --to postgres://user:password@host:5432/database",
		Short: "Copy the SQLite database (ATOMCP_DATABASE_URL) into a new PostgreSQL database, verifying row counts",
		Long: `Copy every row of the embedded SQLite database that ATOMCP_DATABASE_URL (or
--database-url) names into a PostgreSQL database: data, accounts, OAuth
clients and tokens, signing keys, audit log and embeddings. The target is
migrated first and must be empty; the copy is one transaction, so it is
complete or nothing, and it ends by comparing the row count of every table.

Stop atomcp serve first (a server writing meanwhile makes the counts
differ, and nothing is copied). Then point ATOMCP_DATABASE_URL at the
PostgreSQL database and start the replicas.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, logger, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if to == "" {
				return errors.New("--to is required: the URL of the PostgreSQL database to copy into")
			}
			if backend, _, err := storeopen.ParseURL(to); err != nil {
				return fmt.Errorf("--to: %w", err)
			} else if backend != storeopen.BackendPostgres {
				return errors.New("--to must be a postgres:// or postgresql:// URL")
			}
			backend, path, err := storeopen.ParseURL(cfg.DatabaseURL)
			if err != nil {
				return fmt.Errorf("the database to copy from (ATOMCP_DATABASE_URL): %w", err)
			}
			if backend != storeopen.BackendSQLite {
				return errors.New("db copy copies from a SQLite database; ATOMCP_DATABASE_URL names a PostgreSQL one")
			}
			if _, err := os.Stat(path); err != nil {
				return fmt.Errorf("no SQLite database to copy at %s (ATOMCP_DATABASE_URL): %w", path, err)
			}

			// Bring the source to this binary's schema, as serve would.
			src, err := sqlite.Open(ctx, path)
			if err != nil {
				return err
			}
			if applied, err := src.Migrate(ctx); err != nil {
				src.Close()
				return fmt.Errorf("migrate the SQLite database: %w", err)
			} else if len(applied) > 0 {
				logger.Info("SQLite database migrated before the copy", "applied", applied)
			}
			abs := src.Path()
			if err := src.Close(); err != nil {
				return err
			}
			raw, err := sql.Open("sqlite", (&url.URL{Scheme: "file", Path: abs, RawQuery: "mode=ro"}).String())
			if err != nil {
				return fmt.Errorf("open the SQLite database %s: %w", abs, err)
			}
			defer raw.Close()

			dst, err := postgres.Open(ctx, to)
			if err != nil {
				return err
			}
			defer dst.Close()
			if applied, err := dst.Migrate(ctx); err != nil {
				return err
			} else if len(applied) > 0 {
				logger.Info("PostgreSQL database migrated", "applied", applied)
			}
			report, err := dst.ImportSQLite(ctx, raw)
			if err != nil {
				return err
			}

			out := cmd.OutOrStdout()
			tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
			total := 0
			for _, c := range report.Tables {
				fmt.Fprintf(tw, "%s\t%d\t\n", c.Table, c.Rows)
				total += c.Rows
			}
			tw.Flush()
			fmt.Fprintf(out, "copied %d rows from %s to %s (row counts verified); %d entities indexed for search\n",
				total, abs, dst.Where(), report.Indexed)
			fmt.Fprintln(out, "next: set ATOMCP_DATABASE_URL to the PostgreSQL URL and start atomcp serve")
			return nil
		},
	}
	config.BindFlagsFor(cmd.Flags(), storeSettings...)
	cmd.Flags().StringVar(&to, "to", "", "URL of the PostgreSQL database to copy into (migrated first; must be empty)")
	return cmd
}
