package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
	"github.com/atomcp/atomcp/internal/store/sqlite"
	"github.com/atomcp/atomcp/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return openMigrated(t, filepath.Join(t.TempDir(), "atomcp.db"))
	})
}

// openMigrated opens and migrates the database at path, closing it when
// the test ends.
func openMigrated(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	if _, err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s
}

// rawDB opens the file with the plain driver, for looking at the schema.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func TestMigrateIdempotent(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "atomcp.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	applied, err := s.Migrate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(applied) == 0 || applied[0] != 1 {
		t.Fatalf("first Migrate applied %v; want [1 …]", applied)
	}
	again, err := s.Migrate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(again) != 0 {
		t.Errorf("second Migrate applied %v; want nothing", again)
	}

	rows, err := rawDB(t, path).QueryContext(ctx, `SELECT version, applied_at FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var recorded []int
	for rows.Next() {
		var v int
		var at string
		if err := rows.Scan(&v, &at); err != nil {
			t.Fatal(err)
		}
		if _, err := time.Parse(time.RFC3339Nano, at); err != nil {
			t.Errorf("applied_at %q of version %d: %v", at, v, err)
		}
		recorded = append(recorded, v)
	}
	if !reflect.DeepEqual(recorded, applied) {
		t.Errorf("recorded versions %v; want %v", recorded, applied)
	}
}

func TestMigrateRefusesNewerDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "atomcp.db")
	s := openMigrated(t, path)
	if _, err := rawDB(t, path).ExecContext(t.Context(),
		`INSERT INTO schema_migrations (version, applied_at) VALUES (9999, '2030-01-01T00:00:00.000000000Z')`); err != nil {
		t.Fatal(err)
	}
	_, err := s.Migrate(t.Context())
	if err == nil || !strings.Contains(err.Error(), "9999") || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("Migrate on a newer database = %v; want an error naming version 9999 and a newer atomcp", err)
	}
}

// TestMigrationMatchesDomain holds the hand-written schema to domain.Kinds:
// a field added to the domain without a migration fails here.
func TestMigrationMatchesDomain(t *testing.T) {
	path := filepath.Join(t.TempDir(), "atomcp.db")
	openMigrated(t, path)
	db := rawDB(t, path)

	type column struct {
		Name    string
		Type    string
		NotNull bool
	}
	for _, k := range domain.Kinds() {
		t.Run(k.Table, func(t *testing.T) {
			// A STRICT table's primary key is NOT NULL.
			want := []column{{"id", "TEXT", true}, {"organization_id", "TEXT", true}}
			wantRefs := map[string]string{} // column → referenced table
			if k.Type != domain.Organization {
				wantRefs["organization_id"] = "organizations"
			}
			for _, f := range k.Fields {
				if f.Kind == domain.Ref {
					ref, err := domain.KindOf(f.Ref)
					if err != nil {
						t.Fatal(err)
					}
					wantRefs[f.Name] = ref.Table
				}
				if f.Name == "organization_id" {
					continue // the bookkeeping column
				}
				typ := "TEXT"
				if f.Kind == domain.Int || f.Kind == domain.Bool {
					typ = "INTEGER"
				}
				want = append(want, column{f.Name, typ, f.Required})
			}
			want = append(want,
				column{"created_at", "TEXT", true}, column{"updated_at", "TEXT", true},
				column{"created_by", "TEXT", false}, column{"updated_by", "TEXT", false},
				column{"is_deleted", "INTEGER", true}, column{"deleted_at", "TEXT", false}, column{"deleted_with", "TEXT", false})

			var got []column
			rows, err := db.QueryContext(t.Context(), `SELECT name, type, "notnull" FROM pragma_table_info(?) ORDER BY cid`, k.Table)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var c column
				if err := rows.Scan(&c.Name, &c.Type, &c.NotNull); err != nil {
					t.Fatal(err)
				}
				got = append(got, c)
			}
			rows.Close()
			// Columns added by a later migration (ALTER TABLE … ADD COLUMN)
			// come after the bookkeeping ones; the domain lists them after
			// its first fields, so compare with the bookkeeping moved last.
			got = bookkeepingLast(got, func(c column) string { return c.Name })
			if !reflect.DeepEqual(got, want) {
				t.Errorf("columns of %s:\n got  %v\n want %v\nadd a migration for the domain change", k.Table, got, want)
			}

			gotRefs := map[string]string{}
			rows, err = db.QueryContext(t.Context(), `SELECT "from", "table", "to" FROM pragma_foreign_key_list(?)`, k.Table)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var from, table, to string
				if err := rows.Scan(&from, &table, &to); err != nil {
					t.Fatal(err)
				}
				if to != "id" {
					t.Errorf("%s.%s references %s(%s); want %s(id)", k.Table, from, table, to, table)
				}
				gotRefs[from] = table
			}
			rows.Close()
			if !reflect.DeepEqual(gotRefs, wantRefs) {
				t.Errorf("foreign keys of %s = %v; want %v", k.Table, gotRefs, wantRefs)
			}

			// Every reference leads an index, so that lookups by parent and
			// deletes of the referenced row do not scan the table.
			leading := map[string]bool{}
			rows, err = db.QueryContext(t.Context(),
				`SELECT ii.name FROM pragma_index_list(?) AS il, pragma_index_info(il.name) AS ii WHERE ii.seqno = 0`, k.Table)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var col string
				if err := rows.Scan(&col); err != nil {
					t.Fatal(err)
				}
				leading[col] = true
			}
			rows.Close()
			for col := range wantRefs {
				if !leading[col] {
					t.Errorf("no index of %s starts with %s", k.Table, col)
				}
			}
		})
	}
}

func TestDataSurvivesReopen(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "atomcp.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	// Nanoseconds and a non-UTC zone: stored exactly, read back in UTC.
	at := time.Date(2025, 1, 2, 3, 4, 5, 123456789, time.FixedZone("CET", 3600))
	org := &domain.Entity{Type: domain.Organization, ID: "org-1", Fields: map[string]any{"name": "Acme", "slug": "acme"},
		CreatedAt: at, UpdatedAt: at}
	if err := s.CreateEntity(ctx, org); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openMigrated(t, path)
	if applied, err := s.Migrate(ctx); err != nil || len(applied) != 0 {
		t.Errorf("Migrate after reopen = %v, %v; want nothing applied", applied, err)
	}
	got, err := s.GetEntity(ctx, domain.Organization, "org-1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Str("name") != "Acme" || !got.CreatedAt.Equal(at) || got.CreatedAt.Location() != time.UTC {
		t.Errorf("after reopen: %+v; want Acme created at %v in UTC", got, at)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	notADatabase := filepath.Join(dir, "garbage.db")
	if err := os.WriteFile(notADatabase, []byte(strings.Repeat("this is not a database\n", 100)), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, words string
	}{
		{"missing directory", filepath.Join(dir, "no", "such", "dir", "atomcp.db"), "does not exist"},
		{"empty", "", "empty"},
		{"memory", ":memory:", "in-memory"},
		{"query", filepath.Join(dir, "x.db?mode=ro"), "?"},
		{"not a database", notADatabase, "not a database"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := sqlite.Open(t.Context(), tc.path)
			if err == nil {
				s.Close()
				t.Fatalf("Open(%q) succeeded", tc.path)
			}
			if !strings.Contains(err.Error(), tc.words) {
				t.Errorf("Open(%q) = %v; want it to mention %q", tc.path, err, tc.words)
			}
		})
	}
}

// TestTwoStoresOneFile writes from two Stores on the same file at once, as
// two atomcp processes would: their writers meet at SQLite's file lock and
// must wait for each other (busy_timeout, BEGIN IMMEDIATE), not fail.
func TestTwoStoresOneFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "atomcp.db")
	stores := []*sqlite.Store{openMigrated(t, path), openMigrated(t, path)}
	ctx := t.Context()
	org := &domain.Entity{Type: domain.Organization, ID: "org", Fields: map[string]any{"name": "o"}, CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := stores[0].CreateEntity(ctx, org); err != nil {
		t.Fatal(err)
	}

	const goroutines, perGoroutine = 4, 10
	var wg sync.WaitGroup
	errs := make(chan error, len(stores)*goroutines*perGoroutine)
	for si, s := range stores {
		for g := range goroutines {
			wg.Go(func() {
				for i := range perGoroutine {
					id := fmt.Sprintf("p-%d-%d-%d", si, g, i)
					errs <- s.InTx(ctx, func(tx store.Ops) error {
						if _, err := tx.GetEntity(ctx, domain.Organization, "org"); err != nil {
							return err
						}
						return tx.CreateEntity(ctx, &domain.Entity{Type: domain.Project, ID: id, OrganizationID: "org",
							Fields: map[string]any{"name": id, "slug": id}, CreatedAt: time.Now(), UpdatedAt: time.Now()})
					})
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	page, err := stores[1].ListEntities(ctx, store.EntityQuery{Type: domain.Project, OrganizationIDs: []string{"org"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := len(stores) * goroutines * perGoroutine; page.Total != want {
		t.Errorf("projects = %d; want %d", page.Total, want)
	}
}

// TestIntFieldsAcceptGoIntegers checks the documented leniency: any Go
// integer, or an integral float (decoded JSON), is stored as int64.
func TestIntFieldsAcceptGoIntegers(t *testing.T) {
	s := openMigrated(t, filepath.Join(t.TempDir(), "atomcp.db"))
	ctx := t.Context()
	now := time.Now()
	mustCreate(t, s, &domain.Entity{Type: domain.Organization, ID: "o", Fields: map[string]any{"name": "o"}, CreatedAt: now, UpdatedAt: now})
	mustCreate(t, s, &domain.Entity{Type: domain.Project, ID: "p", OrganizationID: "o", Fields: map[string]any{"name": "p"}, CreatedAt: now, UpdatedAt: now})

	for i, v := range []any{int(7), int32(7), uint8(7), float64(7), float32(7)} {
		id := fmt.Sprintf("d%d", i)
		mustCreate(t, s, &domain.Entity{Type: domain.Document, ID: id, OrganizationID: "o",
			Fields: map[string]any{"project_id": "p", "name": id, "version": v}, CreatedAt: now, UpdatedAt: now})
		got, err := s.GetEntity(ctx, domain.Document, id)
		if err != nil {
			t.Fatal(err)
		}
		if got.Fields["version"] != int64(7) {
			t.Errorf("version given as %T: read back %#v; want int64(7)", v, got.Fields["version"])
		}
	}
	for _, v := range []any{1.5, uint64(1 << 63)} {
		err := s.CreateEntity(ctx, &domain.Entity{Type: domain.Document, ID: "bad", OrganizationID: "o",
			Fields: map[string]any{"project_id": "p", "name": "bad", "version": v}, CreatedAt: now, UpdatedAt: now})
		if !errors.Is(err, domain.ErrInvalid) {
			t.Errorf("version %v: %v; want ErrInvalid", v, err)
		}
	}
}

func mustCreate(t *testing.T, s *sqlite.Store, e *domain.Entity) {
	t.Helper()
	if err := s.CreateEntity(context.Background(), e); err != nil {
		t.Fatal(err)
	}
}

// bookkeepingLast moves the bookkeeping columns (created_at … deleted_at)
// to the end, keeping the order of the rest.
func bookkeepingLast[C any](cols []C, name func(C) string) []C {
	var fields, book []C
	for _, c := range cols {
		switch name(c) {
		case "created_at", "updated_at", "created_by", "updated_by", "is_deleted", "deleted_at", "deleted_with":
			book = append(book, c)
		default:
			fields = append(fields, c)
		}
	}
	return append(fields, book...)
}
