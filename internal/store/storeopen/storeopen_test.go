package storeopen_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store/storeopen"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		url     string
		path    string
		backend string   // default BackendSQLite
		errText []string // empty: no error
	}{
		{url: "sqlite:///var/lib/atomcp/atomcp.db", path: "/var/lib/atomcp/atomcp.db"},
		{url: "sqlite://data/atomcp.db", path: "data/atomcp.db"},
		{url: "SQLite://data/atomcp.db", path: "data/atomcp.db"},
		{url: "  sqlite://atomcp.db\n", path: "atomcp.db"},
		{url: "atomcp.db", path: "atomcp.db"},
		{url: "./data/atomcp.db", path: "./data/atomcp.db"},
		{url: "/abs/atomcp.db", path: "/abs/atomcp.db"},
		{url: `C:\data\atomcp.db`, path: `C:\data\atomcp.db`},
		{url: "", errText: []string{"empty", "sqlite:///"}},
		{url: "sqlite:atomcp.db", errText: []string{"sqlite:///absolute"}},
		{url: "sqlite://", errText: []string{"names no file"}},
		{url: "sqlite:///", errText: []string{"names no file"}},
		{url: ":memory:", errText: []string{"in-memory"}},
		{url: "sqlite:///x.db?_pragma=foreign_keys(0)", errText: []string{"query parameters"}},
		{url: "postgres://u:hunter2@db.example/atoms", backend: storeopen.BackendPostgres, path: "postgres://u:hunter2@db.example/atoms"},
		{url: "PostgreSQL://db.example/atoms?sslmode=require", backend: storeopen.BackendPostgres, path: "PostgreSQL://db.example/atoms?sslmode=require"},
		{url: "postgres:db.example/atoms?password=hunter2", errText: []string{"postgres://user:password@host", "password=xxxxx"}},
		{url: "mysql://db.example/atoms", errText: []string{`"mysql"`, "sqlite:///", "plain file path", "postgres://"}},
		{url: "mysql://u:hunter2@db.example/atoms?password=hunter2", errText: []string{`"mysql"`, "u:xxxxx@db.example"}},
	}
	for _, tc := range tests {
		t.Run(tc.url, func(t *testing.T) {
			backend, path, err := storeopen.ParseURL(tc.url)
			if len(tc.errText) > 0 {
				if err == nil {
					t.Fatalf("ParseURL(%q) = %q, %q; want an error", tc.url, backend, path)
				}
				for _, w := range tc.errText {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not mention %q", err, w)
					}
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Errorf("error %q prints the password", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := tc.backend
			if want == "" {
				want = storeopen.BackendSQLite
			}
			if backend != want || path != tc.path {
				t.Errorf("ParseURL(%q) = %q, %q; want %q, %q", tc.url, backend, path, want, tc.path)
			}
		})
	}
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.Mkdir("data", 0o700); err != nil {
		t.Fatal(err)
	}
	for _, url := range []string{
		"sqlite://" + filepath.Join(dir, "abs.db"), // dir is absolute, so this is sqlite:///…
		"sqlite://data/relative.db",
		"plain.db",
	} {
		t.Run(url, func(t *testing.T) {
			s, err := storeopen.Open(t.Context(), url)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if _, err := s.Migrate(t.Context()); err != nil {
				t.Fatal(err)
			}
			if _, err := s.GetUser(t.Context(), "nobody"); !errors.Is(err, domain.ErrNotFound) {
				t.Errorf("GetUser on a new store = %v; want not found", err)
			}
		})
	}
	for _, name := range []string{"abs.db", "data/relative.db", "plain.db"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("database file %s: %v", name, err)
		}
	}

	_, err := storeopen.Open(t.Context(), "sqlite://missing/dir/atomcp.db")
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("Open in a missing directory = %v; want an error saying it does not exist", err)
	}
	// Nothing listens on port 1: the error names the server, not the password.
	s, err := storeopen.Open(t.Context(), "postgres://atoms:hunter2@127.0.0.1:1/atoms?connect_timeout=5")
	if err == nil || s != nil {
		t.Fatalf("Open(postgres, nothing listening) = %v, %v; want nil and an error", s, err)
	}
	if msg := err.Error(); !strings.Contains(msg, "127.0.0.1:1/atoms") || strings.Contains(msg, "hunter2") || strings.Contains(msg, "\n") {
		t.Errorf("Open(postgres, nothing listening) = %q; want one line naming 127.0.0.1:1/atoms without the password", msg)
	}
}
