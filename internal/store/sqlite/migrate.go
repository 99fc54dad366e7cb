package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"

	"github.com/atomcp/atomcp/internal/store/sqlcore"
)

// migrationFiles holds the schema, one file per version:
// migrations/NNNN_name.sql. A released file is never edited; a change is a
// new file with the next number.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrate applies the migrations the database lacks (see
// sqlcore.Migrator.Apply), each in an IMMEDIATE transaction on the writer,
// so that two processes migrating at once apply each migration once.
func (s *Store) Migrate(ctx context.Context) ([]int, error) {
	applied, err := sqlcore.Migrator{
		Files:      migrationFiles,
		Q:          s.writer,
		Atomically: conn{pool: s.writer}.Atomically,
		D:          s.D,
		CreateTable: `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    INTEGER PRIMARY KEY,
			applied_at TEXT NOT NULL
		) STRICT`,
		// The file name is not recorded: the table has no column for it.
		Record: `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $3)`,
		// A migration that rebuilds a table can leave dangling references
		// behind without an error; refuse to commit those.
		Check: foreignKeyCheck,
	}.Apply(ctx)
	if err != nil {
		return applied, fmt.Errorf("migrate sqlite database %q: %w", s.path, err)
	}
	return applied, nil
}

// foreignKeyCheck fails if any row references a row that does not exist.
func foreignKeyCheck(ctx context.Context, q sqlcore.Querier) error {
	var table, parent string
	err := q.QueryRow(ctx, `SELECT "table", parent FROM pragma_foreign_key_check LIMIT 1`).Scan(&table, &parent)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	return fmt.Errorf("foreign key check: a row of %s references a missing row of %s", table, parent)
}
