package authserver

import (
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/atomcp/atomcp/internal/store"
	"github.com/atomcp/atomcp/internal/store/sqlite"
)

func (h *harness) createPAT(a *store.LocalAccount, scope string, ttl time.Duration) (string, *PersonalToken) {
	h.t.Helper()
	tok, p, err := CreatePersonalToken(h.t.Context(), h.st, PersonalTokenRequest{
		Account: a, Name: "ci", Scope: scope, TTL: ttl, Issuer: h.opts.Issuer, Resource: h.opts.Resource,
		KeyRetention: KeyRetention(DefaultAccessTokenTTL),
	}, h.clock.Now())
	if err != nil {
		h.t.Fatal(err)
	}
	return tok, p
}

// accessKey verifies tok the way the resource server does: checkAccess
// with the iss, aud and exp checks of the verifier.
func (h *harness) accessKey(tok string) (*AccessClaims, error) {
	return h.checkAccess(tok, jwt.WithValidMethods([]string{"ES256"}),
		jwt.WithIssuer(h.opts.Issuer), jwt.WithAudience(h.opts.Resource), jwt.WithExpirationRequired())
}

func TestPersonalToken(t *testing.T) {
	h := newHarness(t)
	a := h.account("alice@example.com")
	tok, p := h.createPAT(a, "atoms:read", 90*24*time.Hour)

	c, err := h.accessKey(tok)
	if err != nil {
		t.Fatalf("a new personal access token does not verify: %v", err)
	}
	if c.Subject != a.ID || c.ClientID != p.ID || c.Scope != "atoms:read" || c.Email != a.Email || !c.EmailVerified ||
		c.ID == "" || !c.ExpiresAt.Time.Equal(h.clock.Now().Add(90*24*time.Hour)) || c.Audience[0] != h.opts.Resource {
		t.Errorf("claims %+v, token %+v", c, p)
	}
	if !strings.HasPrefix(p.ID, "pat-") || p.Email != a.Email || p.Status(h.clock.Now()) != "active" {
		t.Errorf("description %+v", p)
	}

	// Long after an ordinary access token would have expired, it works.
	h.clock.Advance(60 * 24 * time.Hour)
	if _, err := h.accessKey(tok); err != nil {
		t.Fatalf("after 60 days: %v", err)
	}

	list, err := ListPersonalTokens(t.Context(), h.st)
	if err != nil || len(list) != 1 || list[0].ID != p.ID || list[0].Email != a.Email || list[0].Scope != "atoms:read" ||
		!list[0].ExpiresAt.Equal(p.ExpiresAt.Truncate(time.Second)) || list[0].Resource != h.opts.Resource {
		t.Fatalf("list: %v %+v", err, list)
	}

	// Revocation takes effect at the next verification.
	if _, err := RevokePersonalToken(t.Context(), h.st, p.ID, h.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := h.accessKey(tok); !errors.Is(err, errTokenRevoked) {
		t.Fatalf("revoked token: %v; want errTokenRevoked", err)
	}
	list, _ = ListPersonalTokens(t.Context(), h.st)
	if list[0].Status(h.clock.Now()) != "revoked" {
		t.Errorf("status after revocation: %s", list[0].Status(h.clock.Now()))
	}
	// Twice is fine; an OAuth client or an unknown id is not a token.
	if _, err := RevokePersonalToken(t.Context(), h.st, p.ID, h.clock.Now()); err != nil {
		t.Errorf("second revocation: %v", err)
	}
	if _, err := RevokePersonalToken(t.Context(), h.st, h.publicClient(), h.clock.Now()); err == nil || !strings.Contains(err.Error(), "clients revoke") {
		t.Errorf("revoking an OAuth client as a token: %v", err)
	}
	if _, err := RevokePersonalToken(t.Context(), h.st, "pat-nope", h.clock.Now()); err == nil {
		t.Error("revoking an unknown token succeeded")
	}
}

func TestPersonalTokenExpiryAndPurge(t *testing.T) {
	h := newHarness(t)
	a := h.account("alice@example.com")
	tok, p := h.createPAT(a, "", time.Hour)
	if p.Scope != "atoms:read atoms:write" {
		t.Errorf("default scope %q", p.Scope)
	}
	h.clock.Advance(2 * time.Hour)
	if _, err := h.accessKey(tok); !errors.Is(err, jwt.ErrTokenExpired) {
		t.Errorf("expired token: %v", err)
	}
	h.srv.purge(t.Context())
	list, err := ListPersonalTokens(t.Context(), h.st)
	if err != nil || len(list) != 1 || list[0].Status(h.clock.Now()) != "expired" {
		t.Fatalf("list after purge: %v %+v", err, list)
	}
}

func TestPersonalTokenRefusals(t *testing.T) {
	h := newHarness(t)
	a := h.account("alice@example.com")
	req := func(mod func(*PersonalTokenRequest)) error {
		r := PersonalTokenRequest{Account: a, Issuer: h.opts.Issuer, Resource: h.opts.Resource}
		mod(&r)
		_, _, err := CreatePersonalToken(t.Context(), h.st, r, h.clock.Now())
		return err
	}
	for name, tc := range map[string]struct {
		mod  func(*PersonalTokenRequest)
		want string
	}{
		"unknown scope": {func(r *PersonalTokenRequest) { r.Scope = "admin" }, "not supported"},
		"too long":      {func(r *PersonalTokenRequest) { r.TTL = 400 * 24 * time.Hour }, "out of range"},
		"too short":     {func(r *PersonalTokenRequest) { r.TTL = time.Second }, "out of range"},
		"no resource":   {func(r *PersonalTokenRequest) { r.Resource = "" }, "resource"},
		"disabled": {func(r *PersonalTokenRequest) {
			d := h.clock.Now()
			acct := *a
			acct.DisabledAt = &d
			r.Account = &acct
		}, "disabled"},
	} {
		if err := req(tc.mod); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v; want an error mentioning %q", name, err, tc.want)
		}
	}
	if list, _ := ListPersonalTokens(t.Context(), h.st); len(list) != 0 {
		t.Errorf("refused requests left records: %+v", list)
	}
}

// The record that stands for a token cannot be used as an OAuth client.
func TestPersonalTokenRecordIsNoClient(t *testing.T) {
	h := newHarness(t)
	a := h.account("alice@example.com")
	_, p := h.createPAT(a, "", time.Hour)
	r := h.get(h.authorizeURL(p.ID, nil))
	if r.status == http.StatusFound || r.status == http.StatusSeeOther || r.header.Get("Location") != "" {
		t.Errorf("authorize with a token's id redirected: %d %s", r.status, r.header.Get("Location"))
	}
	h.postForm(PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}, "client_id": {p.ID}}).
		oauthErr(t, http.StatusBadRequest, "unauthorized_client")
	h.postForm(PathToken, url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "code_verifier": {strings.Repeat("v", 43)},
		"client_id": {p.ID}, "redirect_uri": {testRedirect}}).oauthErr(t, http.StatusBadRequest, "invalid_grant")
}

// Disabling an account revokes its personal access tokens, not others'.
func TestDisableRevokesPersonalTokens(t *testing.T) {
	h := newHarness(t)
	a := h.account("alice@example.com")
	b := h.account("bob@example.com")
	ta, _ := h.createPAT(a, "", time.Hour)
	tb, _ := h.createPAT(b, "", time.Hour)
	if err := SetAccountDisabled(t.Context(), h.st, a, true, h.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := h.accessKey(ta); !errors.Is(err, errTokenRevoked) {
		t.Errorf("token of the disabled account: %v", err)
	}
	if _, err := h.accessKey(tb); err != nil {
		t.Errorf("token of another account: %v", err)
	}
}

// The token is not in the database, in any form.
func TestPersonalTokenNotStored(t *testing.T) {
	dir := t.TempDir()
	st, err := sqlite.Open(t.Context(), filepath.Join(dir, "atomcp.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	a := &store.LocalAccount{ID: "acct-1", Email: "alice@example.com", PasswordHash: "x", Role: "user", CreatedAt: now, UpdatedAt: now}
	if err := st.CreateLocalAccount(t.Context(), a); err != nil {
		t.Fatal(err)
	}
	tok, _, err := CreatePersonalToken(t.Context(), st, PersonalTokenRequest{Account: a, Issuer: "http://127.0.0.1:1",
		Resource: "http://127.0.0.1:1/api/mcp", KeyRetention: time.Hour}, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	sig := tok[strings.LastIndex(tok, ".")+1:]
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(files) == 0 {
		t.Fatal("no database files")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), sig) {
			t.Errorf("%s holds the token's signature", f)
		}
	}
}
