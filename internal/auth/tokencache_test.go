package auth

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// cacheFixture is a JWT verifier with a Revoked hook, local keys that a
// test can withdraw, a clock it can move, and a counter of signature
// checks (every key lookup of the full path goes through the parser).
type cacheFixture struct {
	v       *JWTVerifier
	key     *rsa.PrivateKey
	mu      sync.Mutex
	now     time.Time
	keyGone bool
	revoked map[string]bool
	asked   int // Revoked calls
	parses  int // full verifications (signature checks)
}

const cacheIssuer = "http://127.0.0.1:8000"

func newCacheFixture(t *testing.T, size int) *cacheFixture {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	f := &cacheFixture{key: key, now: time.Now(), revoked: map[string]bool{}}
	keys := LocalKeys(func(tok *jwt.Token) (any, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		if tok.Raw != "" {
			f.parses++
		}
		if f.keyGone {
			return nil, jwt.ErrTokenUnverifiable
		}
		return &f.key.PublicKey, nil
	})
	f.v, err = NewJWTVerifier(JWTConfig{
		Issuer: cacheIssuer, Keys: keys, Audience: exactAudience(cacheIssuer + "/api/mcp"),
		CacheSize: size,
		Revoked: func(_ context.Context, jti, _ string) (bool, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.asked++
			return f.revoked[jti], nil
		},
		Now: func() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.now },
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *cacheFixture) mint(t *testing.T, jti string, claims jwt.MapClaims) string {
	t.Helper()
	c := jwt.MapClaims{"iss": cacheIssuer, "sub": "u1", "aud": cacheIssuer + "/api/mcp", "jti": jti,
		"exp": f.now.Add(time.Hour).Unix(), "iat": f.now.Add(-time.Minute).Unix(), "scope": "atoms:read"}
	for k, v := range claims {
		c[k] = v
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodRS256, c).SignedString(f.key)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (f *cacheFixture) verify(token string) error {
	_, err := f.v.Verify(context.Background(), token, httptest.NewRequest(http.MethodPost, cacheIssuer+"/api/mcp", nil))
	return err
}

func wantRefusal(t *testing.T, err error, says string) {
	t.Helper()
	e, ok := err.(*Error)
	if !ok || e.Status != http.StatusUnauthorized || !strings.Contains(e.Description, says) {
		t.Fatalf("got %v; want a 401 saying %q", err, says)
	}
}

// TestTokenCacheVerifiesOnceAndAsksRevokedEveryTime: the second request
// with a token skips the signature but not the revocation check, and a
// token revoked between two requests is refused on the next one.
func TestTokenCacheVerifiesOnceAndAsksRevokedEveryTime(t *testing.T) {
	f := newCacheFixture(t, 0)
	tok := f.mint(t, "jti-1", nil)
	for i := range 3 {
		if err := f.verify(tok); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	if f.parses != 1 || f.asked != 3 {
		t.Fatalf("%d signature checks and %d revocation checks for 3 requests; want 1 and 3", f.parses, f.asked)
	}
	f.revoked["jti-1"] = true
	wantRefusal(t, f.verify(tok), "was revoked")
	if f.parses != 1 {
		t.Errorf("the revoked token was verified again (%d); the cache answers, the hook refuses", f.parses)
	}
}

// TestTokenCacheNeverPastExpiry: a cached token is refused as expired
// once the clock passes exp (and the leeway), as without the cache.
func TestTokenCacheNeverPastExpiry(t *testing.T) {
	f := newCacheFixture(t, 0)
	tok := f.mint(t, "jti-1", jwt.MapClaims{"exp": f.now.Add(time.Minute).Unix()})
	if err := f.verify(tok); err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(time.Minute + DefaultLeeway + time.Second)
	wantRefusal(t, f.verify(tok), "expired")
	// Within the leeway after exp the full check accepts it, uncached.
	f.now = f.now.Add(-DefaultLeeway)
	if err := f.verify(tok); err != nil {
		t.Fatalf("within the leeway: %v", err)
	}
	if f.v.cache.get(sha256Key(tok), f.now) != nil {
		t.Error("a token past its exp is served from the cache")
	}
}

// TestTokenCacheRechecksClockClaims: nbf and iat are checked on a hit
// too (a clock set back makes them future again).
func TestTokenCacheRechecksClockClaims(t *testing.T) {
	f := newCacheFixture(t, 0)
	tok := f.mint(t, "jti-1", jwt.MapClaims{"nbf": f.now.Unix()})
	if err := f.verify(tok); err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(-time.Hour)
	wantRefusal(t, f.verify(tok), "not valid before")
}

// TestTokenCacheKeyWithdrawn: once the issuer no longer publishes the key
// that signed a cached token, the token is refused at once.
func TestTokenCacheKeyWithdrawn(t *testing.T) {
	f := newCacheFixture(t, 0)
	tok := f.mint(t, "jti-1", nil)
	if err := f.verify(tok); err != nil {
		t.Fatal(err)
	}
	f.keyGone = true
	wantRefusal(t, f.verify(tok), "signing key")
}

// TestTokenCacheAudiencePerRequest: the audience is decided per request
// (it may depend on the host), so a cached token is checked again.
func TestTokenCacheAudiencePerRequest(t *testing.T) {
	f := newCacheFixture(t, 0)
	tok := f.mint(t, "jti-1", nil)
	if err := f.verify(tok); err != nil {
		t.Fatal(err)
	}
	f.v.cfg.Audience = exactAudience("http://elsewhere/api/mcp")
	wantRefusal(t, f.verify(tok), "audience")
}

// TestTokenCacheBounded: the cache never holds more than its size, keeps
// answering, and holds hashes of the tokens, never the tokens.
func TestTokenCacheBounded(t *testing.T) {
	f := newCacheFixture(t, 3)
	var toks []string
	for i := range 10 {
		tok := f.mint(t, "jti-"+string(rune('a'+i)), nil)
		toks = append(toks, tok)
		if err := f.verify(tok); err != nil {
			t.Fatal(err)
		}
		if n := f.v.cache.len(); n > 3 {
			t.Fatalf("%d entries in a cache of 3", n)
		}
	}
	// The most recent token is a hit; the oldest was evicted and is
	// verified again, still accepted.
	before := f.parses
	if err := f.verify(toks[9]); err != nil || f.parses != before {
		t.Fatalf("recent token: %v, %d new signature checks", err, f.parses-before)
	}
	if err := f.verify(toks[0]); err != nil || f.parses != before+1 {
		t.Fatalf("evicted token: %v, %d new signature checks", err, f.parses-before)
	}
	for i := range f.v.cache.slots {
		s := &f.v.cache.slots[i]
		for _, tok := range toks {
			if bytes.Contains(s.key[:], []byte(tok[:16])) || s.tok.jti == tok {
				t.Fatal("the cache holds token bytes")
			}
		}
	}
}

// TestTokenCacheOff: a negative size verifies every request in full.
func TestTokenCacheOff(t *testing.T) {
	f := newCacheFixture(t, -1)
	tok := f.mint(t, "jti-1", nil)
	for range 2 {
		if err := f.verify(tok); err != nil {
			t.Fatal(err)
		}
	}
	if f.parses != 2 {
		t.Fatalf("%d signature checks; want 2 without a cache", f.parses)
	}
}

func sha256Key(tok string) tokenKey { return tokenKeyOf(tok) }

// TestUnknownLocalKeyIsNamed: a token whose kid the local keys do not
// have (a forgery, another instance's token) is refused as signed with an
// unknown key, not as "keys could not be obtained", which sends an
// operator looking for an outage.
func TestUnknownLocalKeyIsNamed(t *testing.T) {
	f := newCacheFixture(t, 0)
	f.v.cfg.Keys = LocalKeys(func(*jwt.Token) (any, error) { return nil, fmt.Errorf("kid %q: %w", "k9", ErrUnknownKey) })
	err := f.verify(f.mint(t, "jti-u", nil))
	wantRefusal(t, err, "is not among")
	if e := err.(*Error); e.Reason != ReasonUnknownKey {
		t.Errorf("reason %q; want %q", e.Reason, ReasonUnknownKey)
	}
}
