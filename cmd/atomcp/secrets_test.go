package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/atomcp/atomcp/internal/secretkey"
	"github.com/atomcp/atomcp/internal/store/sqlite"
)

// TestStolenDatabaseCannotMintTokens is issue 18's "done when": someone
// with only read access to a copy of the database file reads
// oauth_signing_keys and tries to forge an access token; /api/mcp refuses
// everything they can make. The same forgery with the key-encryption key
// (which is not in the database) is accepted, so the test would catch
// keys stored in the clear.
func TestStolenDatabaseCannotMintTokens(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "atomcp.db")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	t.Setenv("ATOMCP_DATABASE_URL", "sqlite://"+db)
	t.Setenv("ATOMCP_ADDR", addr)
	t.Setenv("ATOMCP_AUTH", "embedded")
	t.Setenv("ATOMCP_LOG_FORMAT", "json")

	if out, _, err := runSplit(t, "s3cret-password\n", "users", "add", "alice@example.com", "--owner"); err != nil {
		t.Fatalf("users add: %v %s", err, out)
	}
	out, stderr, err := runSplit(t, "", "tokens", "create", "--user", "alice@example.com")
	if err != nil {
		t.Fatalf("tokens create: %v\n%s%s", err, out, stderr)
	}
	m := regexp.MustCompile(`(?m)^token: (\S+)$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("tokens create printed:\n%s", out)
	}
	pat := m[1]

	logs := &lockedBuffer{}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		cmd := newRootCmd()
		cmd.SetOut(logs)
		cmd.SetErr(logs)
		cmd.SetArgs([]string{"serve"})
		done <- cmd.ExecuteContext(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	url := "http://" + addr + "/api/mcp"
	for deadline := time.Now().Add(30 * time.Second); ; {
		if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start:\n%s", logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if st := postInitialize(t, url, pat); st != http.StatusOK {
		t.Fatalf("the real token: %d", st)
	}

	for _, p := range []string{db, db + "-wal", db + "-shm"} {
		if st, err := os.Stat(p); err == nil && st.Mode().Perm() != 0o600 {
			t.Errorf("%s is mode %04o, want 0600", filepath.Base(p), st.Mode().Perm())
		}
	}

	// The attacker's copy: the database and its WAL, without the key file.
	stolen := filepath.Join(t.TempDir(), "stolen.db")
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(db + suffix)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(stolen+suffix, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	st, err := sqlite.Open(t.Context(), stolen)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := st.ListSigningKeys(t.Context())
	st.Close()
	if err != nil || len(keys) == 0 {
		t.Fatalf("read oauth_signing_keys from the copy: %v (%d keys)", err, len(keys))
	}

	// Claims of the kind the server issues: the real token's, with a new
	// id and expiry.
	var claims jwt.MapClaims
	payload, err := base64.RawURLEncoding.DecodeString(strings.Split(pat, ".")[1])
	if err != nil || json.Unmarshal(payload, &claims) != nil {
		t.Fatalf("decode the token's claims: %v", err)
	}
	forge := func(method jwt.SigningMethod, kid string, key any) string {
		c := jwt.MapClaims{}
		for k, v := range claims {
			c[k] = v
		}
		c["jti"] = uuid.NewString()
		c["iat"] = time.Now().Unix()
		c["exp"] = time.Now().Add(time.Hour).Unix()
		tok := jwt.NewWithClaims(method, c)
		tok.Header["kid"] = kid
		tok.Header["typ"] = "at+jwt"
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatalf("sign with %s: %v", method.Alg(), err)
		}
		return s
	}

	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	for _, k := range keys {
		if !secretkey.IsSealed(k.PrivateKey) {
			t.Errorf("signing key %s is stored in the clear", k.ID)
		}
		if parsed, err := x509.ParsePKCS8PrivateKey(k.PrivateKey); err == nil {
			t.Errorf("signing key %s parses as PKCS #8 from the copy", k.ID)
			if priv, ok := parsed.(*ecdsa.PrivateKey); ok {
				if st := postInitialize(t, url, forge(jwt.SigningMethodES256, k.ID, priv)); st != http.StatusUnauthorized {
					t.Errorf("a token signed with the stolen key: %d, want 401", st)
				}
			}
		}
		// Whatever the bytes are, they are not a key /api/mcp trusts:
		// HMAC with them, or a fresh key under the stolen kid.
		for name, tok := range map[string]string{
			"HS256 with the stored bytes":  forge(jwt.SigningMethodHS256, k.ID, k.PrivateKey),
			"ES256 with another key":       forge(jwt.SigningMethodES256, k.ID, other),
			"ES256 from the stored scalar": forgeFromScalar(t, forge, k.ID, k.PrivateKey),
		} {
			if st := postInitialize(t, url, tok); st != http.StatusUnauthorized {
				t.Errorf("%s (kid %s): %d, want 401", name, k.ID, st)
			}
		}
	}

	// The control: with the key file, which the database copy does not
	// include, the same forgery works.
	kek, src, err := secretkey.Load("", "", db, false)
	if err != nil || src.Created {
		t.Fatalf("load the key file beside the database: %v %+v", err, src)
	}
	der, err := kek.Open(keys[0].PrivateKey, []byte(keys[0].ID))
	if err != nil {
		t.Fatal(err)
	}
	priv, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		t.Fatal(err)
	}
	if st := postInitialize(t, url, forge(jwt.SigningMethodES256, keys[0].ID, priv)); st != http.StatusOK {
		t.Errorf("the control forgery with the key-encryption key: %d, want 200 (the forgery itself is broken)", st)
	}
}

// forgeFromScalar treats the last 32 bytes of the stored value as the
// P-256 private scalar (where it sits at the end of a plaintext SEC 1
// key) and signs with it.
func forgeFromScalar(t *testing.T, forge func(jwt.SigningMethod, string, any) string, kid string, b []byte) string {
	t.Helper()
	if len(b) < 32 {
		b = append(make([]byte, 32-len(b)), b...)
	}
	priv, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), b[len(b)-32:])
	if err != nil {
		priv, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	return forge(jwt.SigningMethodES256, kid, priv)
}
