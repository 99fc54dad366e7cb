package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDatabaseFileMode: the database a command creates is 0600; one that
// others can read stops every command with a one-line error naming the
// chmod, unless ATOMCP_ALLOW_INSECURE_FILES=true.
func TestDatabaseFileMode(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "atomcp.db")
	if out, err := runAtomcp(t, dir, "", "users", "list"); err != nil {
		t.Fatalf("users list: %v\n%s", err, out)
	}
	st, err := os.Stat(db)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("new database mode %04o, want 0600", st.Mode().Perm())
	}

	if err := os.Chmod(db, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := runAtomcp(t, dir, "", "users", "list")
	if err == nil || !strings.Contains(err.Error(), "chmod 600 "+db) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("users list on a 0644 database: %v\n%s", err, out)
	}
	t.Setenv("ATOMCP_ALLOW_INSECURE_FILES", "true")
	if out, err := runAtomcp(t, dir, "", "users", "list"); err != nil {
		t.Fatalf("users list with ATOMCP_ALLOW_INSECURE_FILES=true: %v\n%s", err, out)
	}
}
