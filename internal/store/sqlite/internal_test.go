package sqlite

import (
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
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

func TestLoadMigrations(t *testing.T) {
	file := func(sql string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(sql)} }
	tests := []struct {
		name     string
		fsys     fstest.MapFS
		versions []int
		err      string
	}{
		{"ordered by version", fstest.MapFS{"0002_b.sql": file("b"), "0001_a.sql": file("a"), "README.md": file("")}, []int{1, 2}, ""},
		{"bad name", fstest.MapFS{"1_a.sql": file("a")}, nil, "NNNN_name.sql"},
		{"duplicate version", fstest.MapFS{"0001_a.sql": file("a"), "0001_b.sql": file("b")}, nil, "same version"},
		{"zero version", fstest.MapFS{"0000_a.sql": file("a")}, nil, "0001"},
		{"none", fstest.MapFS{}, nil, "no migration"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			migs, err := loadMigrations(tc.fsys)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error = %v; want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var versions []int
			for _, m := range migs {
				versions = append(versions, m.version)
			}
			if len(versions) != len(tc.versions) || versions[0] != tc.versions[0] || versions[1] != tc.versions[1] {
				t.Errorf("versions = %v; want %v", versions, tc.versions)
			}
		})
	}
}
