package postgres

import (
	"context"
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

// ErrNewerSchema is returned, wrapped, when the database was migrated by a
// newer atomcp: this binary must not write to it.
var ErrNewerSchema = sqlcore.ErrNewerSchema

// Migrate applies the migrations the database lacks (see
// sqlcore.Migrator.Apply). It holds a session advisory lock (one per
// schema) meanwhile, so that replicas starting together apply each
// migration once: the others wait, then find nothing to do.
func (s *Store) Migrate(ctx context.Context) ([]int, error) {
	applied, err := s.migrate(ctx)
	if err != nil {
		return applied, fmt.Errorf("migrate PostgreSQL database %s: %w", s.where, err)
	}
	return applied, nil
}

// migrationLock is the advisory lock key of the migrations of the current
// schema (search_path decides it).
const migrationLock = `hashtextextended('atomcp:migrate:' || current_schema(), 0)`

func (s *Store) migrate(ctx context.Context) ([]int, error) {
	// A session lock lives on one connection: hold that connection.
	pc, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("connect: %s", describe(err))
	}
	defer pc.Release()

	var schema *string
	if err := pc.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return nil, err
	}
	if schema == nil {
		return nil, errors.New("no schema of the search_path exists; create it (CREATE SCHEMA …) or fix search_path")
	}
	// A migration may rightly run longer than the statement timeout (an
	// index on a large table); RESET below restores the connection's.
	if _, err := pc.Exec(ctx, `SET statement_timeout = 0`); err != nil {
		return nil, fmt.Errorf("lift the statement timeout: %w", err)
	}
	defer pc.Exec(context.WithoutCancel(ctx), `RESET statement_timeout`) //nolint:errcheck // a broken connection is discarded below
	if _, err := pc.Exec(ctx, `SELECT pg_advisory_lock(`+migrationLock+`)`); err != nil {
		return nil, fmt.Errorf("take the migration lock: %w", err)
	}
	defer func() {
		// If the unlock fails the connection is broken, and its session
		// lock went with it.
		if _, uerr := pc.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(`+migrationLock+`)`); uerr != nil {
			pc.Conn().Close(context.WithoutCancel(ctx)) //nolint:errcheck // discarding a broken connection
		}
	}()

	return sqlcore.Migrator{
		Files: migrationFiles,
		Q:     coreQuerier{q: pc},
		// PostgreSQL's DDL is transactional: a migration that fails halfway
		// leaves nothing behind.
		Atomically: conn{q: pc}.Atomically,
		D:          s.D,
		CreateTable: `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    integer PRIMARY KEY,
			name       text NOT NULL,
			applied_at timestamptz NOT NULL
		)`,
		Record: `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
	}.Apply(ctx)
}
