package sqlite

import (
	"path/filepath"
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
		{"writer", s.writer, "0"},
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
