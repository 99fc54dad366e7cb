package authserver

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Requests whose client or redirect URI cannot be trusted get an error
// page and never a redirect.
func TestAuthorizeErrorPage(t *testing.T) {
	h := newHarness(t)
	id := h.publicClient()
	tests := []struct {
		name  string
		extra url.Values
		words []string
	}{
		{"unknown client", url.Values{"client_id": {"no-such-client"}}, []string{"not registered"}},
		{"missing client", url.Values{"client_id": nil}, []string{"client_id is missing"}},
		{"unregistered redirect", url.Values{"redirect_uri": {"https://evil.example/cb"}}, []string{"is not registered", "evil.example"}},
		{"loopback on another host", url.Values{"redirect_uri": {"http://localhost:4321/callback"}}, []string{"is not registered"}},
		{"duplicated parameter", url.Values{"state": {"a", "b"}}, []string{"more than once"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := h.get(h.authorizeURL(id, tc.extra))
			if r.status != http.StatusBadRequest || r.header.Get("Location") != "" {
				t.Fatalf("status %d, Location %q; want 400 and no redirect", r.status, r.header.Get("Location"))
			}
			for _, w := range tc.words {
				if !strings.Contains(r.body, w) {
					t.Errorf("page does not say %q:\n%s", w, r.body)
				}
			}
			checkPageHeaders(t, r)
		})
	}
}

func checkPageHeaders(t *testing.T, r *response) {
	t.Helper()
	csp := r.header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("Content-Security-Policy = %q", csp)
	}
	if r.header.Get("X-Frame-Options") != "DENY" || r.header.Get("Referrer-Policy") != "no-referrer" || r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("page headers %v", r.header)
	}
}

// Once the redirect URI is known good, errors go back to the client with
// state and iss.
func TestAuthorizeRedirectedErrors(t *testing.T) {
	h := newHarness(t)
	id := h.publicClient()
	tests := []struct {
		name  string
		extra url.Values
		code  string
		words string
	}{
		{"PKCE missing", url.Values{"code_challenge": nil, "code_challenge_method": nil}, "invalid_request", "PKCE is required"},
		{"PKCE plain", url.Values{"code_challenge_method": {"plain"}}, "invalid_request", "plain is not accepted"},
		{"PKCE method missing", url.Values{"code_challenge_method": nil}, "invalid_request", "S256"},
		{"challenge malformed", url.Values{"code_challenge": {"short"}}, "invalid_request", "43 characters"},
		{"response type", url.Values{"response_type": {"token"}}, "unsupported_response_type", "code"},
		{"unknown scope", url.Values{"scope": {"atoms:read admin"}}, "invalid_scope", "admin"},
		{"other resource", url.Values{"resource": {"https://other.example/mcp"}}, "invalid_target", "not this server"},
		{"two resources", url.Values{"resource": {h.ts.URL + "/api/mcp", "https://other.example/mcp"}}, "invalid_target", "one resource"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := redirectParams(t, h.get(h.authorizeURL(id, tc.extra)))
			if q.Get("error") != tc.code || !strings.Contains(q.Get("error_description"), tc.words) {
				t.Errorf("error %q (%q); want %s mentioning %q", q.Get("error"), q.Get("error_description"), tc.code, tc.words)
			}
			if q.Get("state") != "st-123" || q.Get("iss") != h.ts.URL {
				t.Errorf("state %q, iss %q; want them echoed", q.Get("state"), q.Get("iss"))
			}
		})
	}
}

func TestLoginConsentFlow(t *testing.T) {
	h := newHarness(t)
	h.account("alice@example.com")
	id := h.publicClient()

	login := h.get(h.authorizeURL(id, url.Values{"scope": {"atoms:read"}}))
	if login.status != http.StatusOK || !strings.Contains(login.body, "Test Client") || !strings.Contains(login.body, "http://127.0.0.1:4321") {
		t.Fatalf("login page %d does not name the client and where it redirects:\n%s", login.status, login.body)
	}
	checkPageHeaders(t, login)

	bad := h.signIn(login, "alice@example.com", "wrong password!")
	if bad.status != http.StatusUnauthorized || !strings.Contains(bad.body, "Wrong email or password") {
		t.Fatalf("wrong password: %d\n%s", bad.status, bad.body)
	}
	unknown := h.signIn(bad, "nobody@example.com", testPassword) // each page sets a new CSRF token
	if unknown.status != http.StatusUnauthorized || !strings.Contains(unknown.body, "Wrong email or password") {
		t.Fatalf("unknown email: %d; want the same answer as a wrong password", unknown.status)
	}

	consent := h.signIn(unknown, "Alice@Example.com ", testPassword)
	if consent.status != http.StatusOK || !strings.Contains(consent.body, "atoms:read") || strings.Contains(consent.body, "atoms:write") ||
		!strings.Contains(consent.body, testRedirect) {
		t.Fatalf("consent page %d should list atoms:read only and the redirect URI:\n%s", consent.status, consent.body)
	}
	checkPageHeaders(t, consent)

	// The consent form without its CSRF token is refused, and nothing is
	// sent to the client.
	f := formFields(consent.body)
	f.Del("csrf_token")
	f.Set("decision", "allow")
	if r := h.postForm(PathConsent, f); r.status != http.StatusForbidden || r.header.Get("Location") != "" || !strings.Contains(r.body, "CSRF") {
		t.Fatalf("consent without CSRF token: %d %q", r.status, r.header.Get("Location"))
	}
	f.Set("csrf_token", "forged")
	if r := h.postForm(PathConsent, f); r.status != http.StatusForbidden {
		t.Fatalf("consent with a wrong CSRF token: %d", r.status)
	}

	q := redirectParams(t, h.consent(consent, "allow"))
	if q.Get("code") == "" || q.Get("state") != "st-123" || q.Get("iss") != h.ts.URL {
		t.Fatalf("redirect %v; want code, state and iss", q)
	}

	// Consented: the next authorization skips the consent page...
	q = redirectParams(t, h.get(h.authorizeURL(id, url.Values{"scope": {"atoms:read"}})))
	if q.Get("code") == "" {
		t.Fatalf("second authorization: %v; want a code at once", q)
	}
	// ...until the scopes grow.
	r := h.get(h.authorizeURL(id, nil))
	if r.status != http.StatusOK || !strings.Contains(r.body, "atoms:write") {
		t.Fatalf("grown scopes: %d; want the consent page again", r.status)
	}
	q = redirectParams(t, h.consent(r, "deny"))
	if q.Get("error") != "access_denied" || q.Get("code") != "" {
		t.Errorf("deny: %v; want access_denied", q)
	}
}

func TestLoginCSRF(t *testing.T) {
	h := newHarness(t)
	h.account("alice@example.com")
	id := h.publicClient()
	login := h.get(h.authorizeURL(id, nil))
	f := formFields(login.body)
	f.Del("csrf_token")
	f.Set("email", "alice@example.com")
	f.Set("password", testPassword)
	if r := h.postForm(PathLogin, f); r.status != http.StatusForbidden {
		t.Fatalf("login without CSRF token: %d; want 403", r.status)
	}
}

func TestLoginBackoff(t *testing.T) {
	h := newHarness(t)
	h.account("alice@example.com")
	id := h.publicClient()
	page := h.get(h.authorizeURL(id, nil))
	for i := range freeFailures {
		page = h.signIn(page, "alice@example.com", "wrong password")
		if page.status != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i, page.status)
		}
	}
	// Locked now: even the right password waits.
	r := h.signIn(page, "alice@example.com", testPassword)
	if r.status != http.StatusTooManyRequests || !strings.Contains(r.body, "try again in") {
		t.Fatalf("locked account: %d\n%s", r.status, r.body)
	}
	h.clock.Advance(lockoutAfter(freeFailures))
	r = h.signIn(r, "alice@example.com", testPassword)
	if r.status != http.StatusOK || !strings.Contains(r.body, `value="allow"`) {
		t.Fatalf("after the back-off: %d; want the consent page", r.status)
	}
	a, _ := h.st.GetLocalAccountByEmail(t.Context(), "alice@example.com")
	if a.FailedLogins != 0 || a.LockedUntil != nil {
		t.Errorf("a successful login left failures %d, lock %v", a.FailedLogins, a.LockedUntil)
	}
}

func TestLockoutGrows(t *testing.T) {
	prev := lockoutAfter(freeFailures)
	if lockoutAfter(freeFailures-1) != 0 || prev <= 0 {
		t.Fatalf("lockoutAfter: free failures must cost nothing, the next one something")
	}
	for n := freeFailures + 1; n < 40; n++ {
		d := lockoutAfter(n)
		if d < prev || d > maxLockout {
			t.Fatalf("lockoutAfter(%d) = %v after %v", n, d, prev)
		}
		prev = d
	}
	if prev != maxLockout {
		t.Errorf("lock-out tops out at %v; want %v", prev, maxLockout)
	}
}

func TestDisabledAccount(t *testing.T) {
	h := newHarness(t)
	a := h.account("alice@example.com")
	id := h.publicClient()
	tok := h.tokens(id, "alice@example.com")
	if err := SetAccountDisabled(t.Context(), h.st, a, true, h.clock.Now()); err != nil {
		t.Fatal(err)
	}
	// The browser session ends...
	r := h.get(h.authorizeURL(id, nil))
	if !strings.Contains(r.body, `name="password"`) {
		t.Fatalf("disabled account still signed in: %d", r.status)
	}
	if r := h.signIn(r, "alice@example.com", testPassword); r.status != http.StatusForbidden || !strings.Contains(r.body, "disabled") {
		t.Fatalf("disabled account sign-in: %d", r.status)
	}
	// ...and its refresh token stops working.
	h.postForm(PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}, "client_id": {id}}).
		oauthErr(t, 400, "invalid_grant", "disabled")
}
