//go:build attack

package e2e

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

const attackRedirect = "http://127.0.0.1:9/callback"

// oauthKit is what the OAuth attacks share: a server, a registered client
// limited to atoms:read, and a browser signed in as Alice.
type oauthKit struct {
	a        *attackServer
	clientID string
	other    string // a second client
	b        *browser
}

func newOAuthKit(t *testing.T, a *attackServer) *oauthKit {
	k := &oauthKit{a: a}
	k.clientID = k.register(t, `{"redirect_uris":["`+attackRedirect+`"],"token_endpoint_auth_method":"none","client_name":"Attack client","scope":"atoms:read"}`)
	k.other = k.register(t, `{"redirect_uris":["http://127.0.0.1:9/other"],"token_endpoint_auth_method":"none","client_name":"Other client"}`)
	k.b = newBrowser(t)
	// Sign in once; consent is asked per authorization below.
	r, page := k.b.do(http.MethodGet, a.Base+"/oauth/authorize?"+k.query(nil).Encode(), nil)
	if r.StatusCode != 200 {
		t.Fatalf("login page: %d\n%s", r.StatusCode, page)
	}
	r, page = k.b.submit(page, url.Values{"email": {"alice@example.com"}, "password": {alicePassword}})
	if r.StatusCode != 200 || !strings.Contains(page, `value="allow"`) {
		t.Fatalf("sign-in: %d\n%s", r.StatusCode, page)
	}
	return k
}

func (k *oauthKit) register(t *testing.T, body string) string {
	t.Helper()
	resp, err := http.Post(k.a.Base+"/oauth/register", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var reg map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&reg)
	id, _ := reg["client_id"].(string)
	if resp.StatusCode != http.StatusCreated || id == "" {
		t.Fatalf("register %s: %d %v", body, resp.StatusCode, reg)
	}
	return id
}

const attackVerifier = "attack-suite-code-verifier-0123456789-abcdefghij"

func challenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// query is a good authorization request, changed by set (an empty value
// deletes the parameter).
func (k *oauthKit) query(set map[string]string) url.Values {
	q := url.Values{"response_type": {"code"}, "client_id": {k.clientID}, "redirect_uri": {attackRedirect}, "state": {"st"},
		"code_challenge": {challenge(attackVerifier)}, "code_challenge_method": {"S256"}, "resource": {k.a.URL}}
	for name, v := range set {
		if v == "" {
			q.Del(name)
		} else {
			q.Set(name, v)
		}
	}
	return q
}

// code runs an authorization that Alice allows and returns the code.
func (k *oauthKit) code(t *testing.T, set map[string]string) string {
	t.Helper()
	r, page := k.b.do(http.MethodGet, k.a.Base+"/oauth/authorize?"+k.query(set).Encode(), nil)
	if r.StatusCode == 200 && strings.Contains(page, `value="allow"`) {
		r, _ = k.b.submit(page, url.Values{"decision": {"allow"}})
	}
	loc, _ := url.Parse(r.Header.Get("Location"))
	if !isRedirect(r.StatusCode) || loc == nil || loc.Query().Get("code") == "" {
		t.Fatalf("authorization: %d %q\n%s", r.StatusCode, r.Header.Get("Location"), page)
	}
	k.a.secrets = append(k.a.secrets, loc.Query().Get("code"))
	return loc.Query().Get("code")
}

func (k *oauthKit) exchange(t *testing.T, code, clientID, verifier string) (int, map[string]any) {
	t.Helper()
	f := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {attackRedirect}, "client_id": {clientID}, "resource": {k.a.URL}}
	if verifier != "" {
		f.Set("code_verifier", verifier)
	}
	st, tok := postForm(t, k.a.Base+"/oauth/token", f)
	for _, name := range []string{"access_token", "refresh_token"} {
		if s, ok := tok[name].(string); ok {
			k.a.secrets = append(k.a.secrets, s)
		}
	}
	return st, tok
}

// mcpStatus is the status of an initialize with token.
func (k *oauthKit) mcpStatus(t *testing.T, token string) int {
	t.Helper()
	st, _, _ := postJSONRPC(t, k.a.URL, token, initializeBody)
	return st
}

// tokenTables change when the authorization server refuses a token
// request on purpose: a replayed code or refresh token revokes its family.
var tokenTables = []string{"oauth_token_families", "oauth_refresh_tokens", "oauth_codes", "oauth_access_tokens", "oauth_denied_jtis"}

func TestAttackOAuth(t *testing.T) {
	a := newAttackServer(t)
	k := newOAuthKit(t, a)

	// Authorization requests refused before anything is issued: either an
	// error page (the redirect URI is not trusted: no Location at all) or
	// an error sent back to the registered redirect URI, never a code.
	authz := []struct {
		name string
		set  map[string]string
		page bool   // an error page, nothing sent to any redirect URI
		code string // else the OAuth error sent to the registered URI
	}{
		{"redirect URI: another host", map[string]string{"redirect_uri": "http://evil.example/callback"}, true, ""},
		{"redirect URI: a longer path", map[string]string{"redirect_uri": attackRedirect + "/../../evil"}, true, ""},
		{"redirect URI: a path prefix", map[string]string{"redirect_uri": attackRedirect + "x"}, true, ""},
		{"redirect URI: userinfo trick", map[string]string{"redirect_uri": "http://127.0.0.1:9@evil.example/callback"}, true, ""},
		{"redirect URI: https instead of http", map[string]string{"redirect_uri": "https://127.0.0.1:9/callback"}, true, ""},
		{"redirect URI: a fragment", map[string]string{"redirect_uri": attackRedirect + "#x"}, true, ""},
		{"redirect URI: javascript", map[string]string{"redirect_uri": "javascript:alert(document.domain)"}, true, ""},
		{"redirect URI: encoded slash", map[string]string{"redirect_uri": "http://127.0.0.1:9/callback%2F..%2Fevil"}, true, ""},
		{"redirect URI: another client's", map[string]string{"redirect_uri": "http://127.0.0.1:9/other"}, true, ""},
		{"unknown client", map[string]string{"client_id": "no-such-client"}, true, ""},
		{"PKCE missing", map[string]string{"code_challenge": "", "code_challenge_method": ""}, false, "invalid_request"},
		{"PKCE downgrade to plain", map[string]string{"code_challenge": attackVerifier, "code_challenge_method": "plain"}, false, "invalid_request"},
		{"PKCE method missing", map[string]string{"code_challenge_method": ""}, false, "invalid_request"},
		{"implicit grant", map[string]string{"response_type": "token"}, false, "unsupported_response_type"},
		{"scope beyond the registered one only", map[string]string{"scope": "atoms:write"}, false, "invalid_scope"},
		{"a scope that does not exist", map[string]string{"scope": "admin"}, false, "invalid_scope"},
		{"foreign resource", map[string]string{"resource": "https://mcp.evil.example/api/mcp"}, false, "invalid_target"},
		{"resource of another path", map[string]string{"resource": a.Base + "/other"}, false, "invalid_target"},
	}
	for _, tc := range authz {
		t.Run(tc.name, func(t *testing.T) {
			before := a.state(t)
			r, page := k.b.do(http.MethodGet, a.Base+"/oauth/authorize?"+k.query(tc.set).Encode(), nil)
			loc := r.Header.Get("Location")
			if tc.page {
				if r.StatusCode != http.StatusBadRequest || loc != "" {
					t.Fatalf("status %d, Location %q; want 400 and an error page", r.StatusCode, loc)
				}
			} else {
				u, _ := url.Parse(loc)
				if !isRedirect(r.StatusCode) || u == nil || !strings.HasPrefix(loc, attackRedirect+"?") ||
					u.Query().Get("error") != tc.code || u.Query().Get("code") != "" {
					t.Fatalf("status %d, Location %q; want error=%s at the registered URI\n%.300s", r.StatusCode, loc, tc.code, page)
				}
			}
			a.unchanged(t, before)
		})
	}

	t.Run("scope escalation beyond the registered scope is narrowed", func(t *testing.T) {
		code := k.code(t, map[string]string{"scope": "atoms:read atoms:write"})
		st, tok := k.exchange(t, code, k.clientID, attackVerifier)
		if st != 200 || tok["scope"] != "atoms:read" {
			t.Fatalf("token: %d scope %v; want atoms:read only", st, tok["scope"])
		}
		cs, err := connectWithToken(t, a.URL, tok["access_token"].(string))
		if err != nil {
			t.Fatal(err)
		}
		before := a.state(t)
		if _, err := cs.CallTool(t.Context(), toolParams("entity_tool", map[string]any{"entity_type": "organization", "operation": "create", "data": map[string]any{"name": "Escalated"}})); err == nil ||
			!strings.Contains(err.Error(), "403") && !strings.Contains(strings.ToLower(err.Error()), "insufficient") && !strings.Contains(strings.ToLower(err.Error()), "forbidden") {
			t.Errorf("a write with an atoms:read token: %v; want 403 insufficient_scope", err)
		}
		a.unchanged(t, before, "users")
	})

	t.Run("PKCE: no verifier at the token endpoint", func(t *testing.T) {
		code := k.code(t, nil)
		before := a.state(t, tokenTables...)
		if st, tok := k.exchange(t, code, k.clientID, ""); st != 400 || tok["access_token"] != nil {
			t.Fatalf("%d %v; want 400", st, tok)
		}
		a.unchanged(t, before, tokenTables...)
	})
	t.Run("PKCE: a wrong verifier", func(t *testing.T) {
		code := k.code(t, nil)
		before := a.state(t, tokenTables...)
		if st, tok := k.exchange(t, code, k.clientID, strings.Repeat("w", 50)); st != 400 || tok["error"] != "invalid_grant" {
			t.Fatalf("%d %v; want 400 invalid_grant", st, tok)
		}
		a.unchanged(t, before, tokenTables...)
	})
	t.Run("PKCE: the challenge sent as the verifier", func(t *testing.T) {
		code := k.code(t, nil)
		if st, tok := k.exchange(t, code, k.clientID, challenge(attackVerifier)); st != 400 || tok["error"] != "invalid_grant" {
			t.Fatalf("%d %v; want 400 invalid_grant", st, tok)
		}
	})
	t.Run("code used by another client", func(t *testing.T) {
		code := k.code(t, nil)
		before := a.state(t, tokenTables...)
		if st, tok := k.exchange(t, code, k.other, attackVerifier); st != 400 || tok["error"] != "invalid_grant" {
			t.Fatalf("%d %v; want 400 invalid_grant", st, tok)
		}
		a.unchanged(t, before, tokenTables...)
	})
	t.Run("code replay revokes the tokens of the first use", func(t *testing.T) {
		code := k.code(t, nil)
		st, tok := k.exchange(t, code, k.clientID, attackVerifier)
		if st != 200 {
			t.Fatalf("first use: %d %v", st, tok)
		}
		if st, tok2 := k.exchange(t, code, k.clientID, attackVerifier); st != 400 || tok2["error"] != "invalid_grant" {
			t.Fatalf("replay: %d %v; want 400 invalid_grant", st, tok2)
		}
		if st := k.mcpStatus(t, tok["access_token"].(string)); st != 401 {
			t.Errorf("the first use's access token after the replay: %d; want 401", st)
		}
		if st, _ := postForm(t, a.Base+"/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}, "client_id": {k.clientID}}); st != 400 {
			t.Errorf("the first use's refresh token after the replay: %d; want 400", st)
		}
	})
	t.Run("refresh token reuse revokes the family", func(t *testing.T) {
		code := k.code(t, nil)
		_, tok := k.exchange(t, code, k.clientID, attackVerifier)
		refresh := func(rt string) (int, map[string]any) {
			st, m := postForm(t, a.Base+"/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {k.clientID}})
			if s, ok := m["refresh_token"].(string); ok {
				a.secrets = append(a.secrets, s, m["access_token"].(string))
			}
			return st, m
		}
		st, tok2 := refresh(tok["refresh_token"].(string))
		if st != 200 {
			t.Fatalf("refresh: %d %v", st, tok2)
		}
		if st, m := refresh(tok["refresh_token"].(string)); st != 400 || m["error"] != "invalid_grant" {
			t.Fatalf("reuse: %d %v; want 400 invalid_grant", st, m)
		}
		if st, m := refresh(tok2["refresh_token"].(string)); st != 400 {
			t.Errorf("the rotated refresh token after the reuse: %d %v; want 400 (family revoked)", st, m)
		}
		if st := k.mcpStatus(t, tok2["access_token"].(string)); st != 401 {
			t.Errorf("the rotated access token after the reuse: %d; want 401", st)
		}
	})
	t.Run("refresh token of another client", func(t *testing.T) {
		_, tok := k.exchange(t, k.code(t, nil), k.clientID, attackVerifier)
		before := a.state(t, tokenTables...)
		st, m := postForm(t, a.Base+"/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}, "client_id": {k.other}})
		if st != 400 || m["access_token"] != nil {
			t.Fatalf("%d %v; want 400", st, m)
		}
		a.unchanged(t, before, tokenTables...)
	})
	t.Run("refresh asking for more scope", func(t *testing.T) {
		_, tok := k.exchange(t, k.code(t, nil), k.clientID, attackVerifier)
		st, m := postForm(t, a.Base+"/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)},
			"client_id": {k.clientID}, "scope": {"atoms:read atoms:write"}})
		if st == 200 && strings.Contains(m["scope"].(string), "atoms:write") {
			a.secrets = append(a.secrets, m["access_token"].(string))
			t.Fatalf("refresh widened the scope: %v", m["scope"])
		}
	})
	t.Run("foreign resource at the token endpoint", func(t *testing.T) {
		code := k.code(t, nil)
		before := a.state(t, tokenTables...)
		st, m := postForm(t, a.Base+"/oauth/token", url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {attackRedirect},
			"client_id": {k.clientID}, "code_verifier": {attackVerifier}, "resource": {"https://mcp.evil.example/api/mcp"}})
		if st != 400 || m["error"] != "invalid_target" {
			t.Fatalf("%d %v; want 400 invalid_target", st, m)
		}
		a.unchanged(t, before, tokenTables...)
	})

	// The consent form: without the page's CSRF token, or posted from
	// another origin, nothing is issued.
	// (The other client's: Alice has not allowed it, so she is asked.)
	otherQuery := k.query(map[string]string{"client_id": k.other, "redirect_uri": "http://127.0.0.1:9/other", "state": "csrf"})
	consentPage := func(t *testing.T) string {
		r, page := k.b.do(http.MethodGet, a.Base+"/oauth/authorize?"+otherQuery.Encode(), nil)
		if r.StatusCode != 200 || !strings.Contains(page, `value="allow"`) {
			t.Fatalf("consent page: %d %q", r.StatusCode, r.Header.Get("Location"))
		}
		return page
	}
	for _, tc := range []struct {
		name  string
		extra url.Values
		hdr   map[string]string
	}{
		{"CSRF on consent: no token", url.Values{"decision": {"allow"}, "csrf_token": {""}}, nil},
		{"CSRF on consent: a forged token", url.Values{"decision": {"allow"}, "csrf_token": {"forged-csrf-token"}}, nil},
		{"CSRF on consent: a foreign Origin", url.Values{"decision": {"allow"}}, map[string]string{"Origin": "https://evil.example"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			page := consentPage(t)
			before := a.state(t)
			act := formAction.FindStringSubmatch(page)
			f := url.Values{}
			for _, m := range formField.FindAllStringSubmatch(page, -1) {
				f.Set(m[1], htmlUnescape(m[2]))
			}
			for n, v := range tc.extra {
				f[n] = v
			}
			req, _ := http.NewRequest(http.MethodPost, htmlUnescape(act[1]), strings.NewReader(f.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", a.Base)
			for n, v := range tc.hdr {
				req.Header.Set(n, v)
			}
			resp, err := k.b.hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden || strings.Contains(resp.Header.Get("Location"), "code=") {
				t.Fatalf("status %d, Location %q; want 403 and no code", resp.StatusCode, resp.Header.Get("Location"))
			}
			a.unchanged(t, before)
		})
	}

	t.Run("clickjacking: the sign-in and consent pages refuse framing", func(t *testing.T) {
		login, _ := newBrowser(t).do(http.MethodGet, a.Base+"/oauth/authorize?"+k.query(nil).Encode(), nil)
		consent, page := k.b.do(http.MethodGet, a.Base+"/oauth/authorize?"+otherQuery.Encode(), nil)
		if !strings.Contains(page, `value="allow"`) {
			t.Fatalf("no consent page: %d", consent.StatusCode)
		}
		for name, resp := range map[string]*http.Response{"sign-in": login, "consent": consent} {
			if !strings.Contains(resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") || resp.Header.Get("X-Frame-Options") != "DENY" {
				t.Errorf("%s page: CSP %q, X-Frame-Options %q", name, resp.Header.Get("Content-Security-Policy"), resp.Header.Get("X-Frame-Options"))
			}
		}
	})

	t.Run("XSS in client_name (registration)", func(t *testing.T) {
		const evil = `<script>alert('xss')</script><img src=x onerror=alert(1)>`
		id := k.register(t, `{"redirect_uris":["`+attackRedirect+`"],"token_endpoint_auth_method":"none","client_name":`+jsonString(evil)+`}`)
		nb := newBrowser(t)
		_, page := nb.do(http.MethodGet, a.Base+"/oauth/authorize?"+k.query(map[string]string{"client_id": id}).Encode(), nil)
		if strings.Contains(page, "<script>alert") || strings.Contains(page, "<img src=x") {
			t.Fatalf("the page carries the client's markup:\n%s", page)
		}
		if !strings.Contains(page, "&lt;script&gt;") {
			t.Fatalf("the page does not show the (escaped) name:\n%s", page)
		}
	})

	for _, tc := range []struct{ name, body string }{
		{"registration: javascript redirect URI", `{"redirect_uris":["javascript:alert(1)"],"token_endpoint_auth_method":"none"}`},
		{"registration: a redirect URI with a fragment", `{"redirect_uris":["https://app.example/cb#frag"],"token_endpoint_auth_method":"none"}`},
		{"registration: plain http on a public host", `{"redirect_uris":["http://evil.example/cb"],"token_endpoint_auth_method":"none"}`},
		{"registration: an unknown scope", `{"redirect_uris":["` + attackRedirect + `"],"token_endpoint_auth_method":"none","scope":"admin"}`},
		{"registration: 1 MB of client_name", `{"redirect_uris":["` + attackRedirect + `"],"client_name":"` + strings.Repeat("A", 1<<20) + `"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := a.state(t)
			resp, err := http.Post(a.Base+"/oauth/register", "application/json", strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode/100 != 4 {
				t.Fatalf("status %d; want a 4xx refusal", resp.StatusCode)
			}
			a.unchanged(t, before)
		})
	}

	t.Run("confidential client: a wrong secret, then another client's code", func(t *testing.T) {
		resp, err := http.Post(a.Base+"/oauth/register", "application/json", strings.NewReader(`{"redirect_uris":["`+attackRedirect+`"],"token_endpoint_auth_method":"client_secret_post","client_name":"Confidential"}`))
		if err != nil {
			t.Fatal(err)
		}
		var reg map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&reg)
		resp.Body.Close()
		id, _ := reg["client_id"].(string)
		secret, _ := reg["client_secret"].(string)
		if id == "" || secret == "" {
			t.Fatalf("register a confidential client: %d %v", resp.StatusCode, reg)
		}
		a.secrets = append(a.secrets, secret)
		code := k.code(t, nil)
		before := a.state(t, tokenTables...)
		for _, f := range []url.Values{
			{"client_id": {id}, "client_secret": {secret + "x"}},
			{"client_id": {id}, "client_secret": {secret}},
		} {
			f.Set("grant_type", "authorization_code")
			f.Set("code", code)
			f.Set("redirect_uri", attackRedirect)
			f.Set("code_verifier", attackVerifier)
			if st, m := postForm(t, a.Base+"/oauth/token", f); st/100 != 4 || m["access_token"] != nil {
				t.Errorf("%d %v; want a 4xx refusal", st, m)
			}
		}
		a.unchanged(t, before, tokenTables...)
	})

	t.Run("no secret in the log", func(t *testing.T) { a.logsClean(t) })
}

// TestAttackCIMD: client_id URLs (Client ID Metadata Documents) that point
// at loopback, private, link-local or metadata addresses are refused
// before any connection; with private fetches allowed (a test setting), a
// redirect is not followed, an oversized document is refused, and a
// client_name with markup is shown escaped.
func TestAttackCIMD(t *testing.T) {
	var hits atomic.Int64
	doc := func(w http.ResponseWriter, r *http.Request, name string, id string) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"client_id": id, "client_name": name, "redirect_uris": []string{attackRedirect}, "token_endpoint_auth_method": "none"})
	}
	var base string
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		switch r.URL.Path {
		case "/redirect.json":
			http.Redirect(w, r, base+"/target.json", http.StatusFound)
		case "/metadata-redirect.json":
			http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
		case "/big.json":
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"client_id":"` + base + `/big.json","client_name":"` + strings.Repeat("B", 64<<10) + `","redirect_uris":["` + attackRedirect + `"]}`))
		case "/xss.json":
			doc(w, r, `<script>alert('cimd')</script>`, base+"/xss.json")
		default:
			doc(w, r, "target", base+r.URL.Path)
		}
	}))
	t.Cleanup(ts.Close)
	base = ts.URL
	_, port, _ := strings.Cut(strings.TrimPrefix(ts.URL, "https://"), ":")

	authorizeWith := func(t *testing.T, a *attackServer, clientID string) (int, string) {
		q := url.Values{"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {attackRedirect}, "state": {"st"},
			"code_challenge": {challenge(attackVerifier)}, "code_challenge_method": {"S256"}}
		r, page := newBrowser(t).do(http.MethodGet, a.Base+"/oauth/authorize?"+q.Encode(), nil)
		return r.StatusCode, page
	}

	// The default server: nothing private is fetched.
	a := newAttackServer(t)
	type target struct {
		name, url string
		offHost   bool // an address off this machine: only in a network namespace
	}
	targets := []target{
		{"loopback 127.0.0.1", "https://127.0.0.1:" + port + "/client.json", false},
		{"loopback localhost", "https://localhost:" + port + "/client.json", false},
		{"loopback ::1", "https://[::1]:" + port + "/client.json", false},
		{"loopback 127.1.2.3", "https://127.1.2.3:" + port + "/client.json", false},
		{"unspecified 0.0.0.0", "https://0.0.0.0:" + port + "/client.json", false},
		{"IPv4-mapped loopback", "https://[::ffff:127.0.0.1]:" + port + "/client.json", false},
		{"decimal loopback 2130706433", "https://2130706433:" + port + "/client.json", false},
		{"plain http", "http://127.0.0.1:" + port + "/client.json", false},
		{"cloud metadata 169.254.169.254", "https://169.254.169.254/latest/meta-data/client.json", true},
		{"link-local fe80::1", "https://[fe80::1]/client.json", true},
		{"private 10.0.0.1", "https://10.0.0.1/client.json", true},
		{"private 192.168.1.1", "https://192.168.1.1/client.json", true},
		{"private 172.16.0.1", "https://172.16.0.1/client.json", true},
		{"carrier-grade NAT 100.64.0.1", "https://100.64.0.1/client.json", true},
		{"unique local fd00::1", "https://[fd00::1]/client.json", true},
	}
	for _, tc := range targets {
		t.Run("SSRF to "+tc.name, func(t *testing.T) {
			if tc.offHost && !isolated(t) {
				t.Skip("an address off this machine: runs only in a network namespace with loopback alone (scripts/test.sh attack uses unshare -n)")
			}
			before := a.state(t)
			was := hits.Load()
			st, page := authorizeWith(t, a, tc.url)
			if st != http.StatusBadRequest {
				t.Fatalf("status %d; want 400 and an error page\n%.400s", st, page)
			}
			if n := hits.Load() - was; n != 0 {
				t.Errorf("the server fetched the document (%d requests)", n)
			}
			a.unchanged(t, before)
		})
	}
	t.Run("no secret in the log", func(t *testing.T) { a.logsClean(t) })

	// A server that may fetch from loopback (ATOMCP_CIMD_ALLOW_PRIVATE,
	// for tests) and trusts the test server's certificate: what the
	// document itself may do.
	pem := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(pem, certPEM(ts), 0o600); err != nil {
		t.Fatal(err)
	}
	p := newAttackServer(t, "ATOMCP_CIMD_ALLOW_PRIVATE=true", "SSL_CERT_FILE="+pem)
	t.Run("control: a good document is fetched", func(t *testing.T) {
		if st, page := authorizeWith(t, p, base+"/good.json"); st != 200 || !strings.Contains(page, "target") {
			t.Fatalf("status %d; want the sign-in page for the document's client\n%.400s", st, page)
		}
	})
	for _, tc := range []struct{ name, path string }{
		{"SSRF via a redirect to another path", "/redirect.json"},
		{"SSRF via a redirect to the metadata address", "/metadata-redirect.json"},
		{"oversized metadata document", "/big.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := p.state(t)
			was := hits.Load()
			st, page := authorizeWith(t, p, base+tc.path)
			if st != http.StatusBadRequest {
				t.Fatalf("status %d; want 400\n%.400s", st, page)
			}
			if n := hits.Load() - was; n != 1 {
				t.Errorf("%d requests to the document's server; want 1 (the document, no redirect followed)", n)
			}
			p.unchanged(t, before)
		})
	}
	t.Run("XSS in client_name (metadata document)", func(t *testing.T) {
		_, page := authorizeWith(t, p, base+"/xss.json")
		if strings.Contains(page, "<script>alert") || !strings.Contains(page, "&lt;script&gt;") {
			t.Fatalf("the client's name is not shown escaped:\n%s", page)
		}
	})
}

func isRedirect(status int) bool { return status == http.StatusFound || status == http.StatusSeeOther }
