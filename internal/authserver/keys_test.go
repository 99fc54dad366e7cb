package authserver

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

// Rotation keeps tokens in flight valid: the old key stays published
// until its tokens have expired.
func TestKeyRotation(t *testing.T) {
	h := newHarness(t)
	h.account("alice@example.com")
	id := h.publicClient()
	old := h.tokens(id, "alice@example.com")["access_token"].(string)
	oldKeys := h.jwksKeys()
	if len(oldKeys) != 1 {
		t.Fatalf("%d keys published; want 1", len(oldKeys))
	}

	newKID, err := h.srv.Keys().Rotate(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := oldKeys[newKID]; ok {
		t.Fatal("rotation reused the key id")
	}
	if n := len(h.jwksKeys()); n != 2 {
		t.Fatalf("%d keys published after rotation; want the new and the old", n)
	}
	if _, err := h.verifyAccess(old); err != nil {
		t.Errorf("token signed before the rotation: %v", err)
	}
	fresh := h.tokens(id, "alice@example.com")["access_token"].(string)
	c, err := h.verifyAccess(fresh)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(fresh, ".") || c.ID == "" {
		t.Fatal("bad token")
	}

	// After the old tokens' lifetime and leeway, the old key goes.
	h.clock.Advance(KeyRetention(DefaultAccessTokenTTL) + time.Second)
	if _, err := h.srv.Keys().Rotate(t.Context()); err != nil {
		t.Fatal(err)
	}
	keys := h.jwksKeys()
	for kid := range oldKeys {
		if _, ok := keys[kid]; ok {
			t.Errorf("key %s is still published after its retention", kid)
		}
	}
	if _, ok := keys[newKID]; !ok {
		t.Errorf("the key retired by the second rotation is not published")
	}
}

// A rotation made by another process (`atomcp keys rotate`) is picked
// up: tokens it signs verify at once, and signing switches within the
// reload interval.
func TestRotationByAnotherProcess(t *testing.T) {
	h := newHarness(t)
	h.account("alice@example.com")
	id := h.publicClient()
	newKID, err := RotateKeys(t.Context(), h.st, h.opts.SecretKey, KeyRetention(DefaultAccessTokenTTL), h.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(keyReloadInterval + time.Second)
	tok := h.tokens(id, "alice@example.com")["access_token"].(string)
	kid := tokenKID(t, tok)
	if kid != newKID {
		t.Errorf("signed with %s after the reload interval; want the rotated key %s", kid, newKID)
	}
}

func TestRestartKeepsState(t *testing.T) {
	h := newHarness(t)
	h.account("alice@example.com")
	id := h.publicClient()
	tok := h.tokens(id, "alice@example.com")
	kid := tokenKID(t, tok["access_token"].(string))

	h.restart()
	// Same key, same client, same refresh token, same account.
	if _, err := h.verifyAccess(tok["access_token"].(string)); err != nil {
		t.Errorf("access token after restart: %v", err)
	}
	r := h.postForm(PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}, "client_id": {id}})
	if r.status != 200 {
		t.Fatalf("refresh after restart: %d %s", r.status, r.body)
	}
	if k := tokenKID(t, r.json(t)["access_token"].(string)); k != kid {
		t.Errorf("signing key changed across the restart: %s -> %s", kid, k)
	}
}

func tokenKID(t *testing.T, tok string) string {
	t.Helper()
	var hdr struct {
		Kid string `json:"kid"`
		Typ string `json:"typ"`
	}
	if err := decodeSegment(strings.Split(tok, ".")[0], &hdr); err != nil {
		t.Fatal(err)
	}
	if hdr.Typ != "at+jwt" {
		t.Errorf("typ %q; want at+jwt (RFC 9068)", hdr.Typ)
	}
	return hdr.Kid
}
