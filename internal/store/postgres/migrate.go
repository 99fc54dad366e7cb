package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

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

// embeddedMigrations returns the migrations built into this binary.
func embeddedMigrations() ([]migration, error) {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	return sqlcore.LoadMigrations(sub)
}

// LatestVersion is the newest schema version this binary knows.
func LatestVersion() int {
	migs, err := embeddedMigrations()
	if err != nil {
		return 0
	}
	return migs[len(migs)-1].Version
}

// ErrNewerSchema is returned, wrapped, when the database was migrated by a
// newer atomcp: this binary must not write to it.
var ErrNewerSchema = errors.New("the database schema is newer than this atomcp")

// Migrate applies the migrations the database lacks, each in its own
// transaction, and returns their versions (empty when the schema was
// current). It holds a session advisory lock (one per schema) meanwhile,
// so that replicas starting together apply each migration once: the others
// wait, then find nothing to do. A database that has a version this binary
// does not know was migrated by a newer atomcp; Migrate then changes
// nothing and fails with ErrNewerSchema.
func (s *Store) Migrate(ctx context.Context) ([]int, error) {
	migs, err := embeddedMigrations()
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	applied, err := migrate(ctx, s.pool, migs)
	if err != nil {
		return applied, fmt.Errorf("migrate PostgreSQL database %s: %w", s.where, err)
	}
	return applied, nil
}

// migrationLock is the advisory lock key of the migrations of the current
// schema (search_path decides it).
const migrationLock = `hashtextextended('atomcp:migrate:' || current_schema(), 0)`

func migrate(ctx context.Context, pool *pgxpool.Pool, migs []migration) (applied []int, err error) {
	// A session lock lives on one connection: hold that connection.
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("connect: %s", describe(err))
	}
	defer conn.Release()

	var schema *string
	if err := conn.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return nil, err
	}
	if schema == nil {
		return nil, errors.New("no schema of the search_path exists; create it (CREATE SCHEMA …) or fix search_path")
	}
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(`+migrationLock+`)`); err != nil {
		return nil, fmt.Errorf("take the migration lock: %w", err)
	}
	defer func() {
		// If the unlock fails the connection is broken, and its session
		// lock went with it.
		if _, uerr := conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(`+migrationLock+`)`); uerr != nil {
			conn.Conn().Close(context.WithoutCancel(ctx)) //nolint:errcheck // discarding a broken connection
		}
	}()

	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer PRIMARY KEY,
		name       text NOT NULL,
		applied_at timestamptz NOT NULL
	)`); err != nil {
		return nil, err
	}
	if err := checkNotNewer(ctx, conn.Conn(), migs); err != nil {
		return nil, err
	}

	applied = []int{}
	for _, m := range migs {
		done, err := applyMigration(ctx, conn.Conn(), m)
		if err != nil {
			return applied, err
		}
		if done {
			applied = append(applied, m.Version)
		}
	}
	return applied, nil
}

// checkNotNewer fails if the database has a version newer than migs know.
func checkNotNewer(ctx context.Context, conn *pgx.Conn, migs []migration) error {
	latest := migs[len(migs)-1].Version
	var newest *int
	if err := conn.QueryRow(ctx, `SELECT max(version) FROM schema_migrations`).Scan(&newest); err != nil {
		return err
	}
	if newest != nil && *newest > latest {
		return fmt.Errorf("%w: the database has schema version %d but this atomcp knows versions up to %d; "+
			"it was migrated by a newer atomcp, so upgrade atomcp (or restore a backup)", ErrNewerSchema, *newest, latest)
	}
	return nil
}

// applyMigration applies m unless it is recorded already, and reports
// whether it did, in one transaction (PostgreSQL's DDL is transactional:
// a migration that fails halfway leaves nothing behind).
func applyMigration(ctx context.Context, conn *pgx.Conn, m migration) (applied bool, err error) {
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM schema_migrations WHERE version = $1`, m.Version).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		// No arguments: pgx sends it with the simple protocol, which runs
		// every statement of the file.
		if _, err := tx.Exec(ctx, m.SQL); err != nil {
			return fmt.Errorf("apply migration %s: %w", m.Name, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
			m.Version, m.Name, time.Now()); err != nil {
			return fmt.Errorf("record migration %s: %w", m.Name, err)
		}
		applied = true
		return nil
	})
	if err != nil {
		return false, err
	}
	return applied, nil
}

// SchemaVersion returns the newest schema version recorded in the
// database, 0 when it was never migrated.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v *int
	err := s.pool.QueryRow(ctx, `SELECT max(version) FROM schema_migrations`).Scan(&v)
	if pe := pgError(err); pe != nil && pe.Code == "42P01" { // undefined_table
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read the schema version of %s: %w", s.where, err)
	}
	if v == nil {
		return 0, nil
	}
	return *v, nil
}
