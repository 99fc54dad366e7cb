package postgres

import (
	"context"
	"fmt"

	"github.com/atomcp/atomcp/internal/store/sqlcore"
)

// LatestVersion is the newest schema version this binary knows, for the
// tests.
func LatestVersion() int {
	migs, err := sqlcore.EmbeddedMigrations(migrationFiles)
	if err != nil {
		return 0
	}
	return migs[len(migs)-1].Version
}

// SchemaVersion returns the newest schema version recorded in the
// database, 0 when it was never migrated, for the tests.
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
