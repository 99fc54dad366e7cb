package sqlcore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"time"
)

// Migration is one schema version, read from migrations/NNNN_name.sql.
// The SQL (DDL) is each backend's own; how the files are named and ordered
// is shared.
type Migration struct {
	Version int
	Name    string // file name, for messages
	SQL     string
}

var migrationName = regexp.MustCompile(`^([0-9]{4})_[a-z0-9_]+\.sql$`)

// EmbeddedMigrations reads a backend's migrations/*.sql, ordered by
// version, from the files it embeds.
func EmbeddedMigrations(files fs.FS) ([]Migration, error) {
	sub, err := fs.Sub(files, "migrations")
	if err != nil {
		return nil, err
	}
	return LoadMigrations(sub)
}

// LoadMigrations reads the *.sql files at the top of fsys, ordered by
// version.
func LoadMigrations(fsys fs.FS) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	var migs []Migration
	seen := map[int]string{}
	for _, ent := range entries {
		if ent.IsDir() || path.Ext(ent.Name()) != ".sql" {
			continue
		}
		m := migrationName.FindStringSubmatch(ent.Name())
		if m == nil {
			return nil, fmt.Errorf("migration file %q is not named NNNN_name.sql", ent.Name())
		}
		version, _ := strconv.Atoi(m[1]) // four digits: cannot fail
		if version == 0 {
			return nil, fmt.Errorf("migration file %q: versions start at 0001", ent.Name())
		}
		if other, ok := seen[version]; ok {
			return nil, fmt.Errorf("migration files %q and %q have the same version", other, ent.Name())
		}
		seen[version] = ent.Name()
		data, err := fs.ReadFile(fsys, ent.Name())
		if err != nil {
			return nil, err
		}
		migs = append(migs, Migration{Version: version, Name: ent.Name(), SQL: string(data)})
	}
	if len(migs) == 0 {
		return nil, fmt.Errorf("no migration files")
	}
	sort.Slice(migs, func(i, j int) bool { return migs[i].Version < migs[j].Version })
	return migs, nil
}

// ErrNewerSchema is returned, wrapped, when the database was migrated by a
// newer atomcp: this binary must not write to it.
var ErrNewerSchema = errors.New("the database schema is newer than this atomcp")

// Migrator applies a backend's migrations; the backend supplies its DDL
// and how it runs a migration's transaction. Each backend serialises
// migrating processes its own way (SQLite's IMMEDIATE transactions, a
// PostgreSQL advisory lock held around Apply).
type Migrator struct {
	// Files holds the migrations (see EmbeddedMigrations).
	Files fs.FS
	// Q runs the statements outside the migrations' transactions.
	Q Querier
	// Atomically runs fn in one transaction, for one migration.
	Atomically func(ctx context.Context, fn func(q Querier) error) error
	D          *Dialect
	// CreateTable creates schema_migrations if it does not exist; Record
	// inserts a row of it from $1 (version), $2 (file name) and $3 (when).
	CreateTable, Record string
	// Check, if set, runs after a migration's SQL in its transaction; an
	// error keeps the migration from being committed.
	Check func(ctx context.Context, q Querier) error
}

// Apply applies the migrations the database lacks, each in its own
// transaction, and returns their versions (empty when the schema was
// current). A database that has a version this binary does not know was
// migrated by a newer atomcp; Apply then changes nothing and fails with
// ErrNewerSchema.
func (m Migrator) Apply(ctx context.Context) ([]int, error) {
	migs, err := EmbeddedMigrations(m.Files)
	if err != nil {
		return nil, err
	}
	if _, err := m.Q.Exec(ctx, m.CreateTable); err != nil {
		return nil, err
	}
	latest := migs[len(migs)-1].Version
	var newest *int64
	if err := m.Q.QueryRow(ctx, `SELECT max(version) FROM schema_migrations`).Scan(&newest); err != nil {
		return nil, err
	}
	if newest != nil && int(*newest) > latest {
		return nil, fmt.Errorf("%w: the database has schema version %d but this atomcp knows versions up to %d; "+
			"it was migrated by a newer atomcp, so upgrade atomcp (or restore a backup)", ErrNewerSchema, *newest, latest)
	}
	applied := []int{}
	for _, mig := range migs {
		done, err := m.apply(ctx, mig)
		if err != nil {
			return applied, err
		}
		if done {
			applied = append(applied, mig.Version)
		}
	}
	return applied, nil
}

// apply applies mig unless it is recorded already, and reports whether it
// did. The check runs inside the migration's transaction, so two processes
// migrating at once apply it once.
func (m Migrator) apply(ctx context.Context, mig Migration) (applied bool, err error) {
	err = m.Atomically(ctx, func(q Querier) error {
		var n int
		if err := q.QueryRow(ctx, `SELECT count(*) FROM schema_migrations WHERE version = $1`, mig.Version).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		// No arguments: each backend then runs every statement of the file
		// (pgx through the simple protocol).
		if _, err := q.Exec(ctx, mig.SQL); err != nil {
			return fmt.Errorf("apply migration %s: %w", mig.Name, err)
		}
		if m.Check != nil {
			if err := m.Check(ctx, q); err != nil {
				return fmt.Errorf("apply migration %s: %w", mig.Name, err)
			}
		}
		if _, err := q.Exec(ctx, m.Record, mig.Version, mig.Name, m.D.Time(time.Now())); err != nil {
			return fmt.Errorf("record migration %s: %w", mig.Name, err)
		}
		applied = true
		return nil
	})
	if err != nil {
		return false, err
	}
	return applied, nil
}
