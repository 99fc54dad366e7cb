package secretkey

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSealOpen(t *testing.T) {
	k, _, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	other, _, _ := Generate()
	secret := []byte("\x30\x81 pkcs8 key material")
	sealed := k.Seal(secret, []byte("kid-1"))
	if !IsSealed(sealed) || IsSealed(secret) || bytes.Contains(sealed, secret) {
		t.Fatalf("sealed %q", sealed)
	}
	got, err := k.Open(sealed, []byte("kid-1"))
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("Open: %q, %v", got, err)
	}
	if _, err := k.Open(sealed, []byte("kid-2")); err == nil {
		t.Error("opened with another row's id")
	}
	if _, err := other.Open(sealed, []byte("kid-1")); !errors.Is(err, ErrWrongKey) {
		t.Errorf("another key: %v", err)
	}
	sealed[len(sealed)-1] ^= 1
	if _, err := k.Open(sealed, []byte("kid-1")); err == nil {
		t.Error("a tampered value opened")
	}
}

func TestParse(t *testing.T) {
	if _, err := Parse("c2hvcnQ="); err == nil || !strings.Contains(err.Error(), "want 32") {
		t.Errorf("short key: %v", err)
	}
	if _, err := Parse("not base64!"); err == nil {
		t.Error("not base64 accepted")
	}
	_, text, _ := Generate()
	if _, err := Parse(" " + text + "\n"); err != nil {
		t.Error(err)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "atomcp.db")
	k1, src, err := Load("", "", db, false)
	if err != nil || !src.Created || src.File != db+".key" {
		t.Fatalf("first Load: %v, %+v", err, src)
	}
	st, err := os.Stat(db + ".key")
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, %v", st, err)
	}
	k2, src, err := Load("", "", db, false)
	if err != nil || src.Created || k2.id != k1.id {
		t.Fatalf("second Load: %v, %+v", err, src)
	}
	if err := os.Chmod(db+".key", 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Load("", "", db, false); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("a 0644 key file: %v", err)
	}
	if _, _, err := Load("", "", db, true); err != nil {
		t.Errorf("a 0644 key file, insecure allowed: %v", err)
	}
	if _, _, err := Load("", filepath.Join(dir, "missing"), db, false); err == nil {
		t.Error("a missing explicit file was generated")
	}
	if _, _, err := Load("", "", "", false); err == nil || !strings.Contains(err.Error(), "ATOMCP_SECRET_KEY") {
		t.Errorf("no key and no SQLite path: %v", err)
	}
	_, text, _ := Generate()
	if k, src, err := Load(text, "", db, false); err != nil || src.File != "" || k == nil {
		t.Errorf("ATOMCP_SECRET_KEY: %v %+v", err, src)
	}
}
