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

// ReplaySearchRecency drops search_index.seq and applies the migration
// that adds it again, as on a database indexed before it, for the tests.
func (s *Store) ReplaySearchRecency(ctx context.Context) error {
	ddl, err := migrationFiles.ReadFile("migrations/0011_search_recency.sql")
	if err != nil {
		return err
	}
	_, err = s.pool.Exec(ctx, `ALTER TABLE search_index DROP COLUMN seq; `+string(ddl))
	return err
}

// SearchRecency returns the entity ids of the search index, oldest write
// first, for the tests.
func (s *Store) SearchRecency(ctx context.Context) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT entity_id FROM search_index ORDER BY seq`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}
