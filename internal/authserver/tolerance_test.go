package authserver

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// The requests in this file replay what real MCP clients send (issue 23):
// each test names the client whose request it is.

// flowTo runs the browser part of an authorization (sign-in, consent)
// for a request with the given parameters and returns the last response:
// the redirect to the client, or an error page.
func (h *harness) flowTo(clientID, email string, extra url.Values) *response {
	h.t.Helper()
	r := h.get(h.authorizeURL(clientID, extra))
	if strings.Contains(r.body, `name="password"`) {
		r = h.signIn(r, email, testPassword)
	}
	if strings.Contains(r.body, `value="allow"`) {
		r = h.consent(r, "allow")
	}
	return r
}

// redirectedTo checks that r redirects to exactly want (scheme, host with
// port, path) and returns the redirect's query.
func redirectedTo(t *testing.T, r *response, want string) url.Values {
	t.Helper()
	if r.status != http.StatusFound && r.status != http.StatusSeeOther {
		t.Fatalf("status %d; want a redirect to %s\n%s", r.status, want, r.body)
	}
	loc := r.header.Get("Location")
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatalf("Location %q: %v", loc, err)
	}
	got := loc
	if i := strings.IndexByte(got, '?'); i >= 0 {
		got = got[:i]
	}
	if got != want {
		t.Fatalf("redirected to %q; want %s", loc, want)
	}
	return u.Query()
}

// consentList is the list of permissions on the consent page.
var consentList = regexp.MustCompile(`(?s)<ul>.*</ul>`)

// tokenForm posts a token request whose parameters may repeat.
func (h *harness) tokenForm(f url.Values) *response {
	h.t.Helper()
	return h.postForm(PathToken, f)
}

func (h *harness) codeForm(clientID, code string, resources ...string) url.Values {
	verifier, _ := pkce("v")
	f := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {testRedirect},
		"code_verifier": {verifier}, "client_id": {clientID}}
	if len(resources) > 0 {
		f["resource"] = resources
	}
	return f
}

// offline_access, which Claude Code, VS Code and the MCP SDKs add to the
// scope to get a refresh token, is accepted at registration, authorize and
// token, never becomes a permission, and does not change the refresh-token
// policy: a client whose grant_types include refresh_token gets one, asked
// or not.
func TestOfflineAccess(t *testing.T) {
	h := newHarness(t)
	h.account("alice@example.com")

	// Registration with offline_access in the scope (refused before).
	b, _ := json.Marshal(map[string]any{
		"client_name": "Claude Code (atomcp)", "redirect_uris": []string{"http://localhost/callback"},
		"grant_types": []string{"authorization_code", "refresh_token"}, "response_types": []string{"code"},
		"token_endpoint_auth_method": "none", "scope": "atoms:read offline_access",
	})
	r := h.postJSON(PathRegister, "application/json", string(b))
	if r.status != http.StatusCreated {
		t.Fatalf("register with offline_access: %d %s", r.status, r.body)
	}
	if m := r.json(t); m["scope"] != "atoms:read" {
		t.Errorf("registered scope %v; want atoms:read (offline_access is no permission)", m["scope"])
	}
	if r := h.postJSON(PathRegister, "application/json", `{"redirect_uris":["http://localhost/callback"],"token_endpoint_auth_method":"none","scope":"offline_access"}`); r.status != http.StatusCreated || r.json(t)["scope"] != nil {
		t.Errorf("register with scope offline_access alone: %d %s; want 201 and no narrower default", r.status, r.body)
	}

	id := h.publicClient()
	page := h.get(h.authorizeURL(id, url.Values{"scope": {"atoms:read atoms:write offline_access"}}))
	page = h.signIn(page, "alice@example.com", testPassword)
	if page.status != http.StatusOK || !strings.Contains(page.body, `value="allow"`) || strings.Contains(consentList.FindString(page.body), "offline_access") {
		t.Fatalf("consent page %d must not list offline_access:\n%s", page.status, page.body)
	}
	q := redirectParams(t, h.consent(page, "allow"))
	if q.Get("code") == "" {
		t.Fatalf("authorize with offline_access: %v; want a code", q)
	}
	r = h.exchange(id, q.Get("code"))
	if r.status != http.StatusOK {
		t.Fatalf("token: %d %s", r.status, r.body)
	}
	m := r.json(t)
	if m["scope"] != "atoms:read atoms:write" || m["refresh_token"] == nil {
		t.Fatalf("token response %v; want both Atoms scopes, no offline_access, and a refresh token", m)
	}
	c, err := h.verifyAccess(m["access_token"].(string))
	if err != nil || c.Scope != "atoms:read atoms:write" {
		t.Fatalf("access token scope %q (%v); want offline_access left out", c.Scope, err)
	}

	// A refresh that repeats offline_access, as the MCP TypeScript SDK's
	// refresh does with the original scope.
	r = h.postForm(PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {m["refresh_token"].(string)},
		"client_id": {id}, "scope": {"atoms:read offline_access"}})
	if r.status != http.StatusOK || r.json(t)["scope"] != "atoms:read" || r.json(t)["refresh_token"] == nil {
		t.Fatalf("refresh with offline_access: %d %s", r.status, r.body)
	}
	r = h.postForm(PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {r.json(t)["refresh_token"].(string)},
		"client_id": {id}, "scope": {"offline_access"}})
	if r.status != http.StatusOK || r.json(t)["scope"] != "atoms:read" {
		t.Fatalf("refresh with scope offline_access alone: %d %s; want the granted scope kept", r.status, r.body)
	}

	// scope=offline_access alone asks for the default scopes.
	q = redirectParams(t, h.get(h.authorizeURL(id, url.Values{"scope": {"offline_access"}})))
	if q.Get("code") == "" {
		t.Fatalf("authorize with scope offline_access: %v", q)
	}
	if m := h.exchange(id, q.Get("code")).json(t); m["scope"] != "atoms:read atoms:write" {
		t.Errorf("scope offline_access alone granted %v; want the default scopes", m["scope"])
	}

	// The policy: a refresh token whenever the client registered the grant,
	// whether or not it asked for offline_access...
	if m := h.tokens(id, "alice@example.com"); m["refresh_token"] == nil {
		t.Errorf("no offline_access: %v; want a refresh token all the same", m)
	}
	// ...and never when it did not, offline_access or not.
	noRefresh, _ := h.register(map[string]any{"redirect_uris": []string{testRedirect}, "token_endpoint_auth_method": "none",
		"grant_types": []string{"authorization_code"}})
	r = h.exchange(noRefresh, h.code(noRefresh, "alice@example.com", url.Values{"scope": {"atoms:read offline_access"}}))
	if r.status != http.StatusOK || r.json(t)["refresh_token"] != nil {
		t.Errorf("client without the refresh_token grant: %d %s; want an access token only", r.status, r.body)
	}

	// Unknown scopes are still refused, next to offline_access.
	q = redirectParams(t, h.get(h.authorizeURL(id, url.Values{"scope": {"offline_access admin"}})))
	if q.Get("error") != "invalid_scope" || !strings.Contains(q.Get("error_description"), "admin") {
		t.Errorf("offline_access admin: %v; want invalid_scope naming admin", q)
	}
}

// Personal access tokens have no refresh: offline_access is an error there.
func TestPersonalTokenRefusesOfflineAccess(t *testing.T) {
	if _, err := parseScope("atoms:read offline_access"); err == nil || !strings.Contains(err.Error(), "offline_access") {
		t.Fatalf("parseScope(offline_access) = %v; want an error naming it", err)
	}
}

// Codex sends resource twice with the same value, at authorize and at the
// token endpoint; clients differ on the trailing slash; some send
// resource only at one of the two endpoints.
func TestResourceTolerance(t *testing.T) {
	h := newHarness(t)
	h.account("alice@example.com")
	id := h.publicClient()
	mcpURL := h.ts.URL + "/api/mcp"

	audience := func(t *testing.T, r *response) string {
		t.Helper()
		if r.status != http.StatusOK {
			t.Fatalf("token: %d %s", r.status, r.body)
		}
		c, err := h.verifyAccess(r.json(t)["access_token"].(string))
		if err != nil || len(c.Audience) != 1 {
			t.Fatalf("access token: %v %v", c, err)
		}
		return c.Audience[0]
	}

	t.Run("the same resource twice (Codex)", func(t *testing.T) {
		code := h.code(id, "alice@example.com", url.Values{"resource": {mcpURL, mcpURL}})
		if aud := audience(t, h.tokenForm(h.codeForm(id, code, mcpURL, mcpURL))); aud != mcpURL {
			t.Errorf("aud %q; want %s", aud, mcpURL)
		}
	})
	t.Run("with and without a trailing slash", func(t *testing.T) {
		code := h.code(id, "alice@example.com", url.Values{"resource": {mcpURL + "/", mcpURL}})
		if aud := audience(t, h.tokenForm(h.codeForm(id, code, mcpURL))); aud != mcpURL+"/" {
			t.Errorf("aud %q; want the resource as first requested", aud)
		}
	})
	t.Run("omitted at authorize, sent at token", func(t *testing.T) {
		code := h.code(id, "alice@example.com", nil)
		if aud := audience(t, h.tokenForm(h.codeForm(id, code, mcpURL+"/"))); aud != mcpURL {
			t.Errorf("aud %q; want the canonical MCP URL", aud)
		}
	})
	t.Run("sent at authorize, omitted at token", func(t *testing.T) {
		code := h.code(id, "alice@example.com", url.Values{"resource": {mcpURL + "/"}})
		if aud := audience(t, h.tokenForm(h.codeForm(id, code))); aud != mcpURL+"/" {
			t.Errorf("aud %q; want the authorized resource", aud)
		}
	})
	t.Run("different resources at authorize", func(t *testing.T) {
		q := redirectParams(t, h.get(h.authorizeURL(id, url.Values{"resource": {mcpURL, "https://other.example/mcp", mcpURL}})))
		if q.Get("error") != "invalid_target" || !strings.Contains(q.Get("error_description"), `"https://other.example/mcp"`) ||
			!strings.Contains(q.Get("error_description"), `"`+mcpURL+`"`) {
			t.Errorf("%v; want invalid_target naming both resources", q)
		}
	})
	t.Run("different resources at token", func(t *testing.T) {
		code := h.code(id, "alice@example.com", nil)
		h.tokenForm(h.codeForm(id, code, mcpURL, "https://other.example/mcp")).
			oauthErr(t, http.StatusBadRequest, "invalid_target", `"https://other.example/mcp"`, `"`+mcpURL+`"`)
	})
	t.Run("refresh with the resource twice", func(t *testing.T) {
		tok := h.tokens(id, "alice@example.com")
		r := h.postForm(PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)},
			"client_id": {id}, "resource": {mcpURL, mcpURL}})
		if aud := audience(t, r); aud != mcpURL {
			t.Errorf("aud %q", aud)
		}
	})
	t.Run("other parameters still may not repeat", func(t *testing.T) {
		code := h.code(id, "alice@example.com", nil)
		f := h.codeForm(id, code)
		f["code_verifier"] = append(f["code_verifier"], f.Get("code_verifier"))
		h.tokenForm(f).oauthErr(t, http.StatusBadRequest, "invalid_request", "more than once")
	})
}

// Loopback redirects on any port for all three loopback names, custom
// schemes (Cursor, VS Code), several redirect URIs per client, and
// application_type honoured.
func TestRedirectTolerance(t *testing.T) {
	h := newHarness(t)
	h.account("alice@example.com")
	registered := []string{"http://127.0.0.1/callback", "http://localhost:33418/callback", "http://[::1]/callback",
		"cursor://anysphere.cursor-mcp/oauth/callback", "https://vscode.dev/redirect"}
	native, _ := h.register(map[string]any{"redirect_uris": registered, "token_endpoint_auth_method": "none", "client_name": "Native"})
	for _, redirect := range []string{
		"http://127.0.0.1:53124/callback", "http://127.0.0.1/callback", "http://localhost:61999/callback",
		"http://[::1]:4000/callback", "cursor://anysphere.cursor-mcp/oauth/callback", "https://vscode.dev/redirect",
	} {
		q := redirectedTo(t, h.flowTo(native, "alice@example.com", url.Values{"redirect_uri": {redirect}}), redirect)
		if q.Get("code") == "" {
			t.Errorf("%s: %v; want a code", redirect, q)
		}
	}
	for _, redirect := range []string{"http://127.0.0.1:53124/other", "cursor://anysphere.cursor-mcp/oauth/callback2", "https://vscode.dev:8443/redirect",
		"http://localhost:5000/callback/"} {
		if r := h.get(h.authorizeURL(native, url.Values{"redirect_uri": {redirect}})); r.status != http.StatusBadRequest || r.header.Get("Location") != "" {
			t.Errorf("%s: %d %q; want the error page", redirect, r.status, r.header.Get("Location"))
		}
	}
	// Several registered, none requested: nowhere to go.
	if r := h.get(h.authorizeURL(native, url.Values{"redirect_uri": nil})); r.status != http.StatusBadRequest || !strings.Contains(r.body, "registered several") {
		t.Errorf("no redirect_uri with several registered: %d", r.status)
	}

	// A web application (a browser app served from localhost): its
	// loopback redirect matches exactly, port included.
	web, _ := h.register(map[string]any{"redirect_uris": []string{"http://localhost:6274/oauth/callback", "https://app.example/cb"},
		"token_endpoint_auth_method": "none", "application_type": "web"})
	redirectedTo(t, h.flowTo(web, "alice@example.com", url.Values{"redirect_uri": {"http://localhost:6274/oauth/callback"}}), "http://localhost:6274/oauth/callback")
	if r := h.get(h.authorizeURL(web, url.Values{"redirect_uri": {"http://localhost:6275/oauth/callback"}})); r.status != http.StatusBadRequest || r.header.Get("Location") != "" {
		t.Errorf("web client on another loopback port: %d; want the error page", r.status)
	}
	// The same redirect URIs without application_type are a native app's.
	inferred, _ := h.register(map[string]any{"redirect_uris": []string{"http://localhost:6274/oauth/callback"}, "token_endpoint_auth_method": "none"})
	redirectedTo(t, h.flowTo(inferred, "alice@example.com", url.Values{"redirect_uri": {"http://localhost:6275/oauth/callback"}}), "http://localhost:6275/oauth/callback")

	for _, tc := range []struct {
		meta  string
		code  string
		words string
	}{
		{`{"redirect_uris":["cursor://anysphere.cursor-mcp/oauth/callback"],"application_type":"web"}`, "invalid_redirect_uri", "native"},
		{`{"redirect_uris":["http://app.example/cb"],"application_type":"native"}`, "invalid_redirect_uri", "127.0.0.1"},
		{`{"redirect_uris":["https://app.example/cb"],"application_type":"service"}`, "invalid_client_metadata", "web or native"},
	} {
		h.postJSON(PathRegister, "application/json", tc.meta).oauthErr(t, http.StatusBadRequest, tc.code, tc.words)
	}
}

// A metadata document's application_type is honoured as a registration's.
func TestCIMDApplicationType(t *testing.T) {
	id := "https://client.example/meta.json"
	for _, tc := range []struct {
		doc  cimdDocument
		want string
		err  string
	}{
		{cimdDocument{RedirectURIs: []string{"http://127.0.0.1/callback", "http://localhost/callback"}}, "native", ""}, // Claude Code's
		{cimdDocument{RedirectURIs: []string{"https://claude.ai/api/mcp/auth_callback"}}, "web", ""},
		{cimdDocument{RedirectURIs: []string{"myapp:/cb"}, ApplicationType: "web"}, "", "native"},
		{cimdDocument{RedirectURIs: []string{"https://a.example/cb"}, ApplicationType: "nope"}, "", "web or native"},
	} {
		tc.doc.ClientID = id
		c, err := tc.doc.client(id)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%v: %v; want an error naming %q", tc.doc.RedirectURIs, err, tc.err)
			}
		case err != nil || c.ApplicationType != tc.want:
			t.Errorf("%v: %v %v; want application type %s", tc.doc.RedirectURIs, c, err, tc.want)
		}
	}
}

// A client whose registration the server no longer knows (a database
// reset, or an operator's `clients revoke`) gets 401 invalid_client at
// the token endpoint, with a Basic challenge when it tried Basic, and a
// page at authorize that tells the person to reconnect so that the client
// registers again; never a redirect to its unverified redirect URI.
func TestStaleClient(t *testing.T) {
	h := newHarness(t)
	h.account("alice@example.com")
	revoked := h.publicClient()
	tok := h.tokens(revoked, "alice@example.com")
	if err := h.st.RevokeOAuthClient(t.Context(), revoked, h.clock.Now()); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name, id, words string
	}{
		{"unknown", "3b1a1f0e-6d3c-4c56-9d55-2f4f6f4f0c11", "not registered"},
		{"revoked", revoked, "revoked"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := h.postForm(PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}, "client_id": {tc.id}})
			r.oauthErr(t, http.StatusUnauthorized, "invalid_client", tc.words)
			if ch := r.header.Get("WWW-Authenticate"); ch != "" {
				t.Errorf("WWW-Authenticate %q without Basic authentication; want none", ch)
			}
			r = h.postForm(PathToken, url.Values{"grant_type": {"authorization_code"}, "code": {"x"}}, tc.id, "some-secret")
			r.oauthErr(t, http.StatusUnauthorized, "invalid_client", tc.words)
			if ch := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(ch, "Basic ") {
				t.Errorf("WWW-Authenticate %q after Basic authentication; want a Basic challenge (RFC 6749 §5.2)", ch)
			}

			page := h.get(h.authorizeURL(tc.id, url.Values{"redirect_uri": {"https://attacker.example/cb"}}))
			if page.status != http.StatusBadRequest || page.header.Get("Location") != "" {
				t.Fatalf("authorize: %d Location %q; want an error page and no redirect", page.status, page.header.Get("Location"))
			}
			for _, w := range []string{tc.words, "remove and re-add the server", "registers again"} {
				if !strings.Contains(page.body, w) {
					t.Errorf("page does not say %q:\n%s", w, page.body)
				}
			}
			if strings.Contains(page.body, "attacker.example") {
				t.Error("the page links the unverified redirect URI")
			}
			checkPageHeaders(t, page)
		})
	}
}

// The origin guard of internal/httpserver exempts exactly these forms
// from the CORS origin list (its FormOwner interface).
func TestOwnsForm(t *testing.T) {
	var s Server
	for path, want := range map[string]bool{PathLogin: true, PathConsent: true, PathSetup: true,
		PathLogout: true, PathAccount: true, PathAccountRevokeApp: true, "/accounts": false, PathMetadata: false,
		PathToken: false, PathRegister: false, PathRevoke: false, PathAuthorize: false, "/api/mcp": false} {
		if got := s.OwnsForm(path); got != want {
			t.Errorf("OwnsForm(%s) = %v; want %v", path, got, want)
		}
	}
	var _ interface{ OwnsForm(string) bool } = &s
}
