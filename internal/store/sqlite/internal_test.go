package sqlite

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestPragmas checks the settings on the store's own connections: the
// pragmas come from the DSN, so a typo there would silently leave them off.
func TestPragmas(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "atomcp.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	pools := []struct {
		name      string
		q         querier
		queryOnly string
	}{
		{"writer", s.writer.db, "0"},
		{"reader", s.reader, "1"},
	}
	want := map[string]string{
		"journal_mode": "wal",
		"foreign_keys": "1",
		"busy_timeout": "5000",
		"synchronous":  "1", // NORMAL
	}
	for _, p := range pools {
		for pragma, value := range want {
			var got string
			if err := p.q.QueryRowContext(t.Context(), "PRAGMA "+pragma).Scan(&got); err != nil {
				t.Fatalf("%s: PRAGMA %s: %v", p.name, pragma, err)
			}
			if got != value {
				t.Errorf("%s: PRAGMA %s = %q; want %q", p.name, pragma, got, value)
			}
		}
		var got string
		if err := p.q.QueryRowContext(t.Context(), "PRAGMA query_only").Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != p.queryOnly {
			t.Errorf("%s: PRAGMA query_only = %q; want %q", p.name, got, p.queryOnly)
		}
	}
	if _, err := s.reader.ExecContext(t.Context(), "CREATE TABLE x (y)"); err == nil {
		t.Error("a reader connection could write")
	}
}

// TestForeignKeyCheck holds the check Migrate runs after each migration
// to the dangling reference it is there to refuse.
func TestForeignKeyCheck(t *testing.T) {
	ctx := t.Context()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "atomcp.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	q := s.writer
	if err := foreignKeyCheck(ctx, q); err != nil {
		t.Fatalf("foreignKeyCheck on a migrated database = %v; want nil", err)
	}
	// As a table rebuild can: the references are not enforced meanwhile.
	for _, stmt := range []string{
		`PRAGMA foreign_keys = OFF`,
		`INSERT INTO organization_members (organization_id, user_id, role, status, created_at)
		 VALUES ('no-org', 'no-user', 'owner', 'active', '2025-01-01T00:00:00.000000000Z')`,
		`PRAGMA foreign_keys = ON`,
	} {
		if _, err := q.Exec(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	if err := foreignKeyCheck(ctx, q); err == nil || !strings.Contains(err.Error(), "organization_members") {
		t.Fatalf("foreignKeyCheck with a dangling reference = %v; want an error naming organization_members", err)
	}
}
