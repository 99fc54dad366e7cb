package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"time"

	"github.com/atomcp/atomcp/internal/store/sqlcore"
)

// migrationFiles holds the schema, one file per version:
// migrations/NNNN_name.sql. A released file is never edited; a change is a
// new file with the next number.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one schema version.
type migration = sqlcore.Migration

// Migrate applies the migrations the database lacks, each in its own
// transaction, and returns their versions (empty when the schema was
// current). A database that has a version this binary does not know was
// migrated by a newer atomcp; Migrate then changes nothing and fails.
func (s *Store) Migrate(ctx context.Context) ([]int, error) {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	migs, err := sqlcore.LoadMigrations(sub)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	applied, err := migrate(ctx, s.writer, migs)
	if err != nil {
		return applied, fmt.Errorf("migrate sqlite database %q: %w", s.path, err)
	}
	return applied, nil
}

func migrate(ctx context.Context, db *sql.DB, migs []migration) ([]int, error) {
	_, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		applied_at TEXT NOT NULL
	) STRICT`)
	if err != nil {
		return nil, err
	}

	latest := migs[len(migs)-1].Version
	var newest sql.NullInt64
	if err := db.QueryRowContext(ctx, `SELECT max(version) FROM schema_migrations`).Scan(&newest); err != nil {
		return nil, err
	}
	if newest.Valid && int(newest.Int64) > latest {
		return nil, fmt.Errorf("the database has schema version %d but this atomcp knows versions up to %d; "+
			"it was migrated by a newer atomcp, so upgrade atomcp (or restore a backup)", newest.Int64, latest)
	}

	applied := []int{}
	for _, m := range migs {
		done, err := applyMigration(ctx, db, m)
		if err != nil {
			return applied, err
		}
		if done {
			applied = append(applied, m.Version)
		}
	}
	return applied, nil
}

// applyMigration applies m unless it is recorded already, and reports
// whether it did. The check runs inside the migration's IMMEDIATE
// transaction, so two processes migrating at once apply it once.
func applyMigration(ctx context.Context, db *sql.DB, m migration) (applied bool, err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer func() {
		if !applied {
			_ = tx.Rollback()
		}
	}()

	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, m.Version).Scan(&n); err != nil {
		return false, err
	}
	if n > 0 {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return false, fmt.Errorf("apply migration %s: %w", m.Name, err)
	}
	// A migration that rebuilds a table can leave dangling references
	// behind without an error; refuse to commit those.
	if err := foreignKeyCheck(ctx, tx); err != nil {
		return false, fmt.Errorf("apply migration %s: %w", m.Name, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`,
		m.Version, encodeTime(time.Now())); err != nil {
		return false, fmt.Errorf("record migration %s: %w", m.Name, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("commit migration %s: %w", m.Name, err)
	}
	return true, nil
}

// foreignKeyCheck fails if any row references a row that does not exist.
func foreignKeyCheck(ctx context.Context, q querier) error {
	rows, err := q.QueryContext(ctx, `PRAGMA foreign_key_check`)
	if err != nil {
		return err
	}
	defer rows.Close()
	if rows.Next() {
		var table string
		var rowid sql.NullInt64
		var parent string
		var fkid int
		if err := rows.Scan(&table, &rowid, &parent, &fkid); err != nil {
			return err
		}
		return fmt.Errorf("foreign key check: a row of %s references a missing row of %s", table, parent)
	}
	return rows.Err()
}
