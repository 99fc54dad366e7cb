package authserver

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestRegisteredScopeIsACeiling: a client registered with atoms:read that
// asks for atoms:read atoms:write gets atoms:read only (RFC 6749 §3.3: the
// token response says so); asking for nothing it registered is
// invalid_scope; a client registered without a scope may ask for any.
func TestRegisteredScopeIsACeiling(t *testing.T) {
	h := newHarness(t)
	h.account("alice@example.com")
	readOnly, _ := h.register(map[string]any{"redirect_uris": []string{testRedirect}, "token_endpoint_auth_method": "none",
		"client_name": "Reader", "scope": ScopeRead})

	code := h.code(readOnly, "alice@example.com", url.Values{"scope": {ScopeRead + " " + ScopeWrite}})
	r := h.exchange(readOnly, code)
	if r.status != http.StatusOK {
		t.Fatalf("exchange: %d %s", r.status, r.body)
	}
	tok := r.json(t)
	if tok["scope"] != ScopeRead {
		t.Errorf("token response scope %q, want %q", tok["scope"], ScopeRead)
	}
	c, err := h.checkAccess(tok["access_token"].(string))
	if err != nil || c.Scope != ScopeRead {
		t.Errorf("access token scope %q (%v), want %q", c.Scope, err, ScopeRead)
	}

	q := redirectParams(t, h.get(h.authorizeURL(readOnly, url.Values{"scope": {ScopeWrite}})))
	if q.Get("error") != "invalid_scope" || !strings.Contains(q.Get("error_description"), "registered") || q.Get("code") != "" {
		t.Errorf("asking only for a scope it did not register: %v", q)
	}

	open := h.publicClient() // registered without a scope
	tok = h.tokens(open, "alice@example.com")
	if tok["scope"] != ScopeRead+" "+ScopeWrite {
		t.Errorf("a client without a registered scope got %q", tok["scope"])
	}
}
