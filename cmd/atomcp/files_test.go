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

// TestKeysRotateKEK: `keys rotate --kek` replaces the key file (still
// 0600) and re-seals the signing keys, which then open with the new key
// only.
func TestKeysRotateKEK(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "atomcp.db.key")
	out, err := runAtomcp(t, dir, "", "keys", "rotate")
	if err != nil || !strings.Contains(out, "generated the secret key that seals it in "+keyFile) {
		t.Fatalf("keys rotate: %v\n%s", err, out)
	}
	before, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := runAtomcp(t, dir, "", "keys", "rotate", "--kek"); err != nil || !strings.Contains(out, "re-sealed the signing keys") {
		t.Fatalf("keys rotate --kek: %v\n%s", err, out)
	}
	after, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(keyFile); string(after) == string(before) || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file after --kek: changed %v, mode %04o", string(after) != string(before), st.Mode().Perm())
	}
	if _, err := os.Stat(keyFile + ".new"); !os.IsNotExist(err) {
		t.Errorf("the pending key file is left: %v", err)
	}
	// The signing keys open with the new key: another rotation reads them.
	if out, err := runAtomcp(t, dir, "", "keys", "rotate"); err != nil {
		t.Fatalf("keys rotate after --kek: %v\n%s", err, out)
	}
	// And not with the old one.
	t.Setenv("ATOMCP_SECRET_KEY", strings.TrimSpace(string(before)))
	if out, err := runAtomcp(t, dir, "", "keys", "rotate"); err == nil || !strings.Contains(err.Error(), "another secret key") {
		t.Errorf("keys rotate with the old key: %v\n%s", err, out)
	}
}
