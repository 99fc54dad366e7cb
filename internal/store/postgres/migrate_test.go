package postgres_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store/postgres"
)

func TestMigrateIdempotent(t *testing.T) {
	s := openStore(t, newSchema(t))
	applied, err := s.Migrate(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(applied) == 0 || applied[0] != 1 || applied[len(applied)-1] != postgres.LatestVersion() {
		t.Fatalf("first Migrate applied %v; want 1 … %d", applied, postgres.LatestVersion())
	}
	again, err := s.Migrate(t.Context())
	if err != nil || len(again) != 0 {
		t.Errorf("second Migrate = %v, %v; want nothing applied", again, err)
	}
	if v, err := s.SchemaVersion(t.Context()); err != nil || v != postgres.LatestVersion() {
		t.Errorf("SchemaVersion = %d, %v; want %d", v, err, postgres.LatestVersion())
	}
}

// TestMigrateConcurrently starts several "replicas" on one empty schema
// at once: the advisory lock lets exactly one apply each migration.
func TestMigrateConcurrently(t *testing.T) {
	url := newSchema(t)
	const replicas = 4
	stores := make([]*postgres.Store, replicas)
	for i := range stores {
		stores[i] = openStore(t, url)
	}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		applied [][]int
	)
	for _, s := range stores {
		wg.Go(func() {
			a, err := s.Migrate(t.Context())
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			applied = append(applied, a)
			mu.Unlock()
		})
	}
	wg.Wait()
	// Each version once, up to the latest (versions may have gaps while
	// branches are merged).
	seen, last := map[int]bool{}, 0
	for _, a := range applied {
		for _, v := range a {
			if seen[v] {
				t.Errorf("replicas applied %v in all: version %d twice", applied, v)
			}
			seen[v], last = true, max(last, v)
		}
	}
	if last != postgres.LatestVersion() || len(seen) == 0 {
		t.Errorf("replicas applied %v in all; want every migration up to %d once", applied, postgres.LatestVersion())
	}
}

func TestMigrateRefusesNewerDatabase(t *testing.T) {
	s := openMigrated(t)
	if _, err := s.Pool().Exec(t.Context(), `INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_future.sql', now())`); err != nil {
		t.Fatal(err)
	}
	_, err := s.Migrate(t.Context())
	if !errors.Is(err, postgres.ErrNewerSchema) || !strings.Contains(err.Error(), "9999") || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("Migrate on a newer database = %v; want ErrNewerSchema naming version 9999", err)
	}
}

func TestMigrateNeedsSchema(t *testing.T) {
	requireServer(t)
	s := openStore(t, testDB+"&search_path=no_such_schema")
	_, err := s.Migrate(t.Context())
	if err == nil || !strings.Contains(err.Error(), "search_path") {
		t.Fatalf("Migrate with a missing schema = %v; want an error about search_path", err)
	}
}

// TestMigrationMatchesDomain holds the hand-written schema to domain.Kinds:
// a field added to the domain without a migration fails here.
func TestMigrationMatchesDomain(t *testing.T) {
	s := openMigrated(t)
	type column struct {
		Name    string
		Type    string
		NotNull bool
	}
	// The column type of each field kind that is not text, as
	// information_schema.columns.data_type spells it.
	columnTypes := map[domain.FieldKind]string{domain.Int: "bigint", domain.Bool: "boolean", domain.JSON: "jsonb"}
	for _, k := range domain.Kinds() {
		t.Run(k.Table, func(t *testing.T) {
			want := []column{{"id", "text", true}, {"organization_id", "text", true}}
			wantRefs := map[string]string{}
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
					continue
				}
				typ, ok := columnTypes[f.Kind]
				if !ok {
					typ = "text"
				}
				want = append(want, column{f.Name, typ, f.Required})
			}
			want = append(want,
				column{"created_at", "timestamp with time zone", true}, column{"updated_at", "timestamp with time zone", true},
				column{"created_by", "text", false}, column{"updated_by", "text", false},
				column{"is_deleted", "boolean", true}, column{"deleted_at", "timestamp with time zone", false}, column{"deleted_with", "text", false})

			rows, err := s.Pool().Query(t.Context(), `SELECT column_name, data_type, is_nullable = 'NO'
				FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`, k.Table)
			if err != nil {
				t.Fatal(err)
			}
			got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[column])
			if err != nil {
				t.Fatal(err)
			}
			// Columns added by a later migration (ALTER TABLE … ADD COLUMN)
			// come after the bookkeeping ones; the domain lists them after
			// its first fields, so compare with the bookkeeping moved last.
			got = bookkeepingLast(got, func(c column) string { return c.Name })
			if !reflect.DeepEqual(got, want) {
				t.Errorf("columns of %s:\n got  %v\n want %v\nadd a migration for the domain change", k.Table, got, want)
			}

			// Every reference is a foreign key to the referenced table's id
			// and leads an index.
			rows, err = s.Pool().Query(t.Context(), `SELECT a.attname, c.confrelid::regclass::text,
					EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.conrelid AND i.indkey[0] = a.attnum)
				FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
				WHERE c.contype = 'f' AND c.conrelid = $1::regclass`, k.Table)
			if err != nil {
				t.Fatal(err)
			}
			gotRefs := map[string]string{}
			var col, table string
			var indexed bool
			_, err = pgx.ForEachRow(rows, []any{&col, &table, &indexed}, func() error {
				gotRefs[col] = table
				if !indexed {
					t.Errorf("no index of %s starts with %s", k.Table, col)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(gotRefs, wantRefs) {
				t.Errorf("foreign keys of %s = %v; want %v", k.Table, gotRefs, wantRefs)
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	requireServer(t)
	cfg, err := pgx.ParseConfig(testDB)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, url string
		words     []string
	}{
		{"nothing listening", "postgres://atoms:hunter2@127.0.0.1:1/atoms?connect_timeout=5", []string{"127.0.0.1:1/atoms", "refused"}},
		{"no such database", connString(cfg.Host, cfg.Port, cfg.User, "hunter2", "atomcp_no_such_db"), []string{"atomcp_no_such_db", "does not exist"}},
		{"malformed", "postgres://atoms:hunter2@127.0.0.1:notaport/atoms", []string{"open PostgreSQL database"}},
		{"password in the query", "postgres://127.0.0.1:1/atoms?password=hunter2&connect_timeout=5", []string{"127.0.0.1:1/atoms"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := postgres.Open(context.Background(), tc.url)
			if err == nil {
				s.Close()
				t.Fatalf("Open(%s) succeeded", tc.name)
			}
			msg := err.Error()
			for _, w := range tc.words {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not mention %q", msg, w)
				}
			}
			if strings.Contains(msg, "hunter2") || strings.Contains(msg, "\n") {
				t.Errorf("error %q shows the password or spans lines", msg)
			}
		})
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
