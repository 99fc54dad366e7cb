package sqlite

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestOpenCreatesPrivateFiles: a new database and its WAL and shared-memory
// files are mode 0600 even under a umask that would make them readable by
// everyone.
func TestOpenCreatesPrivateFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "atomcp.db")
	old := syscall.Umask(0)
	t.Cleanup(func() { syscall.Umask(old) })
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Migrate(t.Context()); err != nil { // writes: the WAL and SHM files appear
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %04o, want 0600", filepath.Base(p), st.Mode().Perm())
		}
	}
	if err := InsecureMode(path); err != nil {
		t.Errorf("InsecureMode of a new database: %v", err)
	}
}

// TestInsecureMode: a group- or world-readable database is reported with
// the chmod that fixes it.
func TestInsecureMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "my db.db")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	err := InsecureMode(path)
	if err == nil || !strings.Contains(err.Error(), "chmod 600 '"+path+"'") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("InsecureMode of a 0644 file: %v", err)
	}
	if err := InsecureMode(filepath.Join(t.TempDir(), "missing.db")); err != nil {
		t.Errorf("a missing file: %v", err)
	}
}

// TestOpenFixesOldSidecars: -wal and -shm files left world-readable by an
// older atomcp get the database's mode.
func TestOpenFixesOldSidecars(t *testing.T) {
	path := filepath.Join(t.TempDir(), "atomcp.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path+"-wal", 0o644); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(t.Context(), path) // while s still holds the WAL open
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	defer s.Close()
	st, err := os.Stat(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("-wal mode %04o after reopening, want 0600", st.Mode().Perm())
	}
}
