package authserver

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// jwksKeys reads the published JWKS into public keys, independently of
// KeySet's own code.
func (h *harness) jwksKeys() map[string]*ecdsa.PublicKey {
	h.t.Helper()
	r := h.get(h.ts.URL + PathJWKS)
	if r.status != http.StatusOK {
		h.t.Fatalf("jwks: %d", r.status)
	}
	out := map[string]*ecdsa.PublicKey{}
	for _, k := range r.json(h.t)["keys"].([]any) {
		m := k.(map[string]any)
		if m["kty"] != "EC" || m["crv"] != "P-256" || m["alg"] != "ES256" || m["use"] != "sig" {
			h.t.Fatalf("unexpected key %v", m)
		}
		x, _ := base64.RawURLEncoding.DecodeString(m["x"].(string))
		y, _ := base64.RawURLEncoding.DecodeString(m["y"].(string))
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
		if err != nil {
			h.t.Fatalf("key %v: %v", m["kid"], err)
		}
		out[m["kid"].(string)] = pub
	}
	return out
}

// verifyAccess verifies an access token with the published keys.
func (h *harness) verifyAccess(tok string) (*AccessClaims, error) {
	keys := h.jwksKeys()
	var c AccessClaims
	_, err := jwt.ParseWithClaims(tok, &c, func(t *jwt.Token) (any, error) {
		k := keys[t.Header["kid"].(string)]
		if k == nil {
			return nil, fmt.Errorf("kid %v not published", t.Header["kid"])
		}
		return k, nil
	}, jwt.WithValidMethods([]string{"ES256"}), jwt.WithTimeFunc(h.clock.Now))
	return &c, err
}

func TestCodeExchange(t *testing.T) {
	h := newHarness(t)
	a := h.account("alice@example.com")
	id := h.publicClient()
	r := h.exchange(id, h.code(id, "alice@example.com", url.Values{"resource": {h.ts.URL + "/api/mcp/"}}))
	if r.status != http.StatusOK {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if r.header.Get("Cache-Control") != "no-store" || r.header.Get("Content-Type") != "application/json" {
		t.Errorf("headers %v", r.header)
	}
	m := r.json(t)
	if m["token_type"] != "Bearer" || m["expires_in"] != 3600.0 || m["scope"] != "atoms:read atoms:write" || m["refresh_token"] == nil {
		t.Fatalf("token response %v", m)
	}
	c, err := h.verifyAccess(m["access_token"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if c.Issuer != h.ts.URL || c.Subject != a.ID || len(c.Audience) != 1 || c.Audience[0] != h.ts.URL+"/api/mcp/" ||
		c.ClientID != id || c.Scope != "atoms:read atoms:write" || c.ID == "" || c.Email != "alice@example.com" ||
		c.ExpiresAt.Sub(c.IssuedAt.Time) != time.Hour {
		t.Errorf("claims %+v", c)
	}
	// The resource server's key function accepts it.
	if _, err := h.checkAccess(m["access_token"].(string)); err != nil {
		t.Errorf("AccessKeyfunc and TokenRevoked: %v", err)
	}
}

func TestDefaultAudience(t *testing.T) {
	h := newHarness(t)
	h.account("alice@example.com")
	id := h.publicClient()
	c, err := h.verifyAccess(h.tokens(id, "alice@example.com")["access_token"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if c.Audience[0] != h.ts.URL+"/api/mcp" {
		t.Errorf("aud %v; want the MCP URL", c.Audience)
	}
}

func TestCodeExchangeBadInput(t *testing.T) {
	h := newHarness(t)
	h.account("alice@example.com")
	id := h.publicClient()
	other := h.publicClient()
	verifier, _ := pkce("v")
	wrongVerifier, _ := pkce("w")
	form := func(code string, mod url.Values) url.Values {
		f := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {testRedirect}, "code_verifier": {verifier}, "client_id": {id}}
		for k, v := range mod {
			if v == nil {
				f.Del(k)
			} else {
				f[k] = v
			}
		}
		return f
	}
	tests := []struct {
		name   string
		mod    url.Values
		status int
		code   string
		words  string
		usable bool // the code still works afterwards
	}{
		{"missing verifier", url.Values{"code_verifier": nil}, 400, "invalid_request", "PKCE", true},
		{"malformed verifier", url.Values{"code_verifier": {"short"}}, 400, "invalid_request", "43 to 128", true},
		{"another client", url.Values{"client_id": {other}}, 400, "invalid_grant", "another client", true},
		{"unknown client", url.Values{"client_id": {"nobody"}}, 401, "invalid_client", "not registered", true},
		{"missing code", url.Values{"code": nil}, 400, "invalid_request", "code is missing", true},
		{"unknown code", url.Values{"code": {"made-up"}}, 400, "invalid_grant", "not valid", true},
		{"wrong verifier", url.Values{"code_verifier": {wrongVerifier}}, 400, "invalid_grant", "code_verifier does not match", false},
		{"other redirect", url.Values{"redirect_uri": {"http://127.0.0.1:9/callback"}}, 400, "invalid_grant", "redirect_uri differs", false},
		{"other resource", url.Values{"resource": {"https://other.example/mcp"}}, 400, "invalid_target", "differs", false},
		{"grant type", url.Values{"grant_type": {"password"}}, 400, "unsupported_grant_type", "password", true},
		{"no grant type", url.Values{"grant_type": nil}, 400, "invalid_request", "grant_type is missing", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code := h.code(id, "alice@example.com", nil)
			h.postForm(PathToken, form(code, tc.mod)).oauthErr(t, tc.status, tc.code, tc.words)
			r := h.postForm(PathToken, form(code, nil))
			if got := r.status == http.StatusOK; got != tc.usable {
				t.Errorf("the code usable afterwards: %v; want %v (%s)", got, tc.usable, r.body)
			}
		})
	}
	t.Run("expired", func(t *testing.T) {
		code := h.code(id, "alice@example.com", nil)
		h.clock.Advance(DefaultCodeTTL + time.Second)
		h.postForm(PathToken, form(code, nil)).oauthErr(t, 400, "invalid_grant", "expired")
	})
}

// A code used twice revokes everything issued from it.
func TestCodeReuseRevokesFamily(t *testing.T) {
	h := newHarness(t)
	h.account("alice@example.com")
	id := h.publicClient()
	code := h.code(id, "alice@example.com", nil)
	first := h.exchange(id, code).json(t)
	h.exchange(id, code).oauthErr(t, 400, "invalid_grant", "already used", "revoked")

	h.postForm(PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first["refresh_token"].(string)}, "client_id": {id}}).
		oauthErr(t, 400, "invalid_grant", "revoked")
	_, err := h.checkAccess(first["access_token"].(string))
	if !errors.Is(err, errTokenRevoked) {
		t.Errorf("access token from a replayed code: %v; want errTokenRevoked", err)
	}
}

func TestRefreshRotation(t *testing.T) {
	h := newHarness(t)
	h.account("alice@example.com")
	id := h.publicClient()
	first := h.tokens(id, "alice@example.com")
	refresh := func(tok string, extra ...string) *response {
		f := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok}, "client_id": {id}}
		for i := 0; i+1 < len(extra); i += 2 {
			f.Set(extra[i], extra[i+1])
		}
		return h.postForm(PathToken, f)
	}
	h.clock.Advance(time.Minute)
	r := refresh(first["refresh_token"].(string), "scope", "atoms:read")
	if r.status != http.StatusOK {
		t.Fatalf("refresh: %d %s", r.status, r.body)
	}
	second := r.json(t)
	if second["refresh_token"] == first["refresh_token"] || second["scope"] != "atoms:read" || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("refresh response %v; want a new refresh token and the narrowed scope", second)
	}
	if c, err := h.verifyAccess(second["access_token"].(string)); err != nil || c.Scope != "atoms:read" {
		t.Fatalf("refreshed access token: %v %v", c, err)
	}

	refresh(second["refresh_token"].(string), "scope", "atoms:read atoms:write").oauthErr(t, 400, "invalid_scope", "exceeds")
	refresh(second["refresh_token"].(string), "resource", "https://other.example").oauthErr(t, 400, "invalid_target")
	other := h.publicClient()
	h.postForm(PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {second["refresh_token"].(string)}, "client_id": {other}}).
		oauthErr(t, 400, "invalid_grant", "another client")

	// Those refusals did not use the token up.
	third := refresh(second["refresh_token"].(string))
	if third.status != http.StatusOK {
		t.Fatalf("rotation after refusals: %d %s", third.status, third.body)
	}
	// Replaying a rotated token revokes the family, the newest one too.
	refresh(first["refresh_token"].(string)).oauthErr(t, 400, "invalid_grant", "already used")
	refresh(third.json(t)["refresh_token"].(string)).oauthErr(t, 400, "invalid_grant", "revoked")
	refresh("made-up").oauthErr(t, 400, "invalid_grant", "not valid")
}

func TestRefreshExpired(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.RefreshTokenTTL = time.Hour })
	h.account("alice@example.com")
	id := h.publicClient()
	tok := h.tokens(id, "alice@example.com")
	h.clock.Advance(time.Hour + time.Second)
	h.postForm(PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}, "client_id": {id}}).
		oauthErr(t, 400, "invalid_grant", "expired")
}

func TestConfidentialClient(t *testing.T) {
	h := newHarness(t)
	h.account("alice@example.com")
	id, secret := h.register(map[string]any{"redirect_uris": []string{testRedirect}, "token_endpoint_auth_method": "client_secret_basic"})
	verifier, _ := pkce("v")
	form := func(code string) url.Values {
		return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {testRedirect}, "code_verifier": {verifier}}
	}
	code := h.code(id, "alice@example.com", nil)

	r := h.postForm(PathToken, form(code), id, "wrong")
	r.oauthErr(t, 401, "invalid_client", "wrong client secret")
	if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Basic") {
		t.Errorf("WWW-Authenticate = %q; want a Basic challenge", r.header.Get("WWW-Authenticate"))
	}
	f := form(code)
	f.Set("client_id", id)
	h.postForm(PathToken, f).oauthErr(t, 401, "invalid_client", "confidential")
	f.Set("client_secret", secret)
	h.postForm(PathToken, f, id, secret).oauthErr(t, 400, "invalid_request", "twice")

	if r := h.postForm(PathToken, form(code), id, secret); r.status != http.StatusOK {
		t.Fatalf("client_secret_basic: %d %s", r.status, r.body)
	}
	// client_secret_post works too.
	f = form(h.code(id, "alice@example.com", nil))
	f.Set("client_id", id)
	f.Set("client_secret", secret)
	if r := h.postForm(PathToken, f); r.status != http.StatusOK {
		t.Fatalf("client_secret_post: %d %s", r.status, r.body)
	}
}

func TestRevoke(t *testing.T) {
	h := newHarness(t)
	h.account("alice@example.com")
	id := h.publicClient()
	other := h.publicClient()
	revoke := func(client, tok, hint string) *response {
		return h.postForm(PathRevoke, url.Values{"token": {tok}, "token_type_hint": {hint}, "client_id": {client}})
	}

	t.Run("refresh token", func(t *testing.T) {
		tok := h.tokens(id, "alice@example.com")
		if r := revoke(other, tok["refresh_token"].(string), ""); r.status != http.StatusOK {
			t.Fatalf("another client's revocation: %d", r.status)
		}
		if r := h.postForm(PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}, "client_id": {id}}); r.status != http.StatusOK {
			t.Fatalf("another client revoked the token: %d", r.status)
		} else {
			tok = r.json(t)
		}
		if r := revoke(id, tok["refresh_token"].(string), "refresh_token"); r.status != http.StatusOK {
			t.Fatalf("revoke: %d %s", r.status, r.body)
		}
		h.postForm(PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}, "client_id": {id}}).
			oauthErr(t, 400, "invalid_grant", "revoked")
		// The access token issued with it goes too.
		_, err := h.checkAccess(tok["access_token"].(string))
		if !errors.Is(err, errTokenRevoked) {
			t.Errorf("access token after its refresh token was revoked: %v", err)
		}
	})
	t.Run("access token", func(t *testing.T) {
		tok := h.tokens(id, "alice@example.com")
		if r := revoke(id, tok["access_token"].(string), "access_token"); r.status != http.StatusOK {
			t.Fatalf("revoke: %d", r.status)
		}
		_, err := h.checkAccess(tok["access_token"].(string))
		if !errors.Is(err, errTokenRevoked) {
			t.Errorf("revoked access token: %v", err)
		}
		// Its refresh token still works: RFC 7009 leaves that to the server,
		// and the client asked for the access token only.
		if r := h.postForm(PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}, "client_id": {id}}); r.status != http.StatusOK {
			t.Errorf("refresh after access revocation: %d", r.status)
		}
	})
	t.Run("unknown token", func(t *testing.T) {
		if r := revoke(id, "made-up", ""); r.status != http.StatusOK {
			t.Errorf("unknown token: %d; want 200 (RFC 7009 §2.2)", r.status)
		}
	})
	t.Run("bad requests", func(t *testing.T) {
		revoke(id, "", "").oauthErr(t, 400, "invalid_request", "token is missing")
		revoke("nobody", "x", "").oauthErr(t, 401, "invalid_client")
	})
}
