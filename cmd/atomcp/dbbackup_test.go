package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDBBackupRestoreCommands(t *testing.T) {
	dir := t.TempDir()
	dbURL := "sqlite://" + filepath.Join(dir, "atomcp.db")
	if out, err := runWithDB(t, dbURL, "migrate"); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	backup := filepath.Join(dir, "backup.db")
	out, err := runWithDB(t, dbURL, "db", "backup", backup)
	if err != nil || !strings.Contains(out, "integrity check ok") {
		t.Fatalf("db backup = %v\n%s", err, out)
	}
	if st, err := os.Stat(backup); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v, %v; want mode 0600", st, err)
	}
	if out, err := runWithDB(t, dbURL, "db", "backup", backup); err == nil || !strings.Contains(err.Error(), "exists already") {
		t.Errorf("second backup to one file = %v\n%s; want a refusal", err, out)
	}
	out, err = runWithDB(t, dbURL, "db", "restore", backup)
	if err != nil || !strings.Contains(out, "atomcp.db.before-restore") {
		t.Fatalf("db restore = %v\n%s; want it to name the kept database", err, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "atomcp.db.before-restore")); err != nil {
		t.Errorf("the replaced database was not kept: %v", err)
	}
	junk := filepath.Join(dir, "junk.db")
	if err := os.WriteFile(junk, []byte(strings.Repeat("not a database ", 100)), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := runWithDB(t, dbURL, "db", "restore", junk); err == nil || !strings.Contains(err.Error(), "not restorable") {
		t.Errorf("restore of a junk file = %v\n%s; want a refusal", err, out)
	}
	if out, err := runWithDB(t, dbURL, "db", "backup"); err == nil {
		t.Errorf("db backup without FILE succeeded:\n%s", out)
	}

	// PostgreSQL: the commands to run, without the password; no file.
	for _, sub := range []string{"backup", "restore"} {
		out, err := runWithDB(t, "postgres://atomcp:hunter2@db.example:5432/atoms?sslmode=require&password=hunter2", "db", sub, "atoms.dump")
		if err == nil || !strings.Contains(out, "pg_dump --format=custom --file=atoms.dump 'postgres://atomcp@db.example:5432/atoms?sslmode=require'") ||
			!strings.Contains(out, "pg_restore") || strings.Contains(out+err.Error(), "hunter2") {
			t.Errorf("db %s on PostgreSQL = %v\n%s; want the pg_dump and pg_restore commands without the password, and an error", sub, err, out)
		}
	}
}
