package main

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/spf13/cobra"

	"github.com/atomcp/atomcp/internal/config"
	"github.com/atomcp/atomcp/internal/store/sqlite"
	"github.com/atomcp/atomcp/internal/store/storeopen"
)

func newDBBackupCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "backup FILE",
		Short: "Write a consistent copy of the SQLite database to FILE, while the server runs",
		Long: `Write a consistent copy of the SQLite database that ATOMCP_DATABASE_URL (or
--database-url) names to FILE, with VACUUM INTO: it reads one snapshot, so
atomcp serve may keep running and writing; the copy has every write
committed before the backup started. FILE must not exist; it is created
mode 0600 (it holds password and token hashes and sealed keys) and checked
(PRAGMA integrity_check, schema version) before the command succeeds.

For PostgreSQL, it prints the pg_dump and pg_restore commands to use.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, _, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			backend, path, err := storeopen.ParseURL(cfg.DatabaseURL)
			if err != nil {
				return fmt.Errorf("ATOMCP_DATABASE_URL: %w", err)
			}
			if backend == storeopen.BackendPostgres {
				return postgresBackupHelp(cmd.OutOrStdout(), path, args[0])
			}
			info, err := sqlite.Backup(cmd.Context(), path, args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "backed up %s to %s (%d bytes, schema version %d, integrity check ok)\n",
				path, info.Path, info.Bytes, info.SchemaVersion)
			return nil
		},
	}
	config.BindFlagsFor(cmd.Flags(), storeSettings...)
	return cmd
}

func newDBRestoreCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "restore FILE",
		Short: "Replace the SQLite database with the backup FILE (stop atomcp serve first)",
		Long: `Replace the SQLite database that ATOMCP_DATABASE_URL (or --database-url)
names with the backup FILE. The backup is checked first (PRAGMA
integrity_check, and a schema version this atomcp can run; an older one is
migrated when atomcp serve starts). The command refuses while a process
has the database open: stop atomcp serve first. The database it replaces
is kept beside it as DATABASE.before-restore.

For PostgreSQL, it prints the pg_restore command to use.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, _, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			backend, path, err := storeopen.ParseURL(cfg.DatabaseURL)
			if err != nil {
				return fmt.Errorf("ATOMCP_DATABASE_URL: %w", err)
			}
			if backend == storeopen.BackendPostgres {
				return postgresBackupHelp(cmd.OutOrStdout(), path, args[0])
			}
			info, err := sqlite.Restore(cmd.Context(), args[0], path)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "restored %s from %s (schema version %d, integrity check ok)\n", info.Path, args[0], info.SchemaVersion)
			if info.Previous != "" {
				fmt.Fprintf(out, "the database it replaced is kept as %s\n", info.Previous)
			}
			fmt.Fprintln(out, "next: start atomcp serve")
			return nil
		},
	}
	config.BindFlagsFor(cmd.Flags(), storeSettings...)
	return cmd
}

// postgresBackupHelp prints how to back up and restore a PostgreSQL
// database with its own tools, naming the database without its password,
// and fails: no file was written.
func postgresBackupHelp(w io.Writer, rawURL, file string) error {
	safe := passwordless(rawURL)
	fmt.Fprintf(w, `atomcp does not copy a PostgreSQL database itself: use PostgreSQL's tools,
which take a consistent snapshot while the replicas keep running.

  back up:  pg_dump --format=custom --file=%[2]s '%[1]s'
  restore:  pg_restore --clean --if-exists --no-owner --dbname='%[1]s' %[2]s
            (stop the replicas first; restore into an empty database, or with --clean as here)

The password is not shown: give it to pg_dump and pg_restore with PGPASSWORD
or ~/.pgpass. See docs/deployment.md, "Backup and restore".
`, safe, shellQuote(file))
	return errors.New("no backup written: the database is PostgreSQL (see the commands above)")
}

// passwordless is the URL without a password, in the userinfo or in a
// password= parameter.
func passwordless(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return storeopen.Redact(raw)
	}
	if u.User != nil {
		u.User = url.User(u.User.Username())
	}
	q := u.Query()
	if q.Has("password") {
		q.Del("password")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r == '/' || r == '.' || r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
