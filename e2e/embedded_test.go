package e2e

import (
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The embedded authorization server end to end against the binary:
// discovery, registration, sign-in and consent through its pages, code
// exchange, MCP calls with the token, refresh, revocation, and a restart.

// addUser runs `atomcp users add` against the database in dir.
func addUser(t *testing.T, dir, email, password string, extra ...string) {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"users", "add", email}, extra...)...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "ATOMCP_DATABASE_URL=sqlite://" + filepath.Join(dir, "atomcp.db")}
	cmd.Stdin = strings.NewReader(password + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("users add: %v\n%s", err, out)
	}
}

// browser is a cookie-keeping HTTP client that stops at redirects.
type browser struct {
	t  *testing.T
	hc *http.Client
}

func newBrowser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, hc: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) do(method, u string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, u, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		// A browser sends its page's origin with a form POST.
		pu, _ := url.Parse(u)
		req.Header.Set("Origin", pu.Scheme+"://"+pu.Host)
	}
	resp, err := b.hc.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp, string(data)
}

var formField = regexp.MustCompile(`name="(csrf_token|authz)" value="([^"]*)"`)
var formAction = regexp.MustCompile(`<form method="post" action="([^"]+)"`)

// submit posts the page's form with extra fields.
func (b *browser) submit(page string, extra url.Values) (*http.Response, string) {
	b.t.Helper()
	act := formAction.FindStringSubmatch(page)
	if act == nil {
		b.t.Fatalf("no form on the page:\n%s", page)
	}
	f := url.Values{}
	for _, m := range formField.FindAllStringSubmatch(page, -1) {
		f.Set(m[1], html.UnescapeString(m[2]))
	}
	for k, v := range extra {
		f[k] = v
	}
	return b.do(http.MethodPost, html.UnescapeString(act[1]), f)
}

func getJSON(t *testing.T, u string) map[string]any {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v", u, resp.StatusCode, err)
	}
	return m
}

func postForm(t *testing.T, u string, f url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(u, f)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

func TestEmbeddedAuthorizationServer(t *testing.T) {
	dir := t.TempDir()
	addUser(t, dir, "alice@example.com", "alice-password", "--name", "Alice", "--owner")
	// The demo can be seeded for an account of the embedded server.
	seed := exec.Command(binary, "seed", "--demo", "--for", "Alice@Example.com")
	seed.Dir = dir
	seed.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "ATOMCP_DATABASE_URL=sqlite://" + filepath.Join(dir, "atomcp.db")}
	if out, err := seed.CombinedOutput(); err != nil || !strings.Contains(string(out), "created") {
		t.Fatalf("seed --demo --for: %v\n%s", err, out)
	}
	s := startServer(t, dir, "ATOMCP_AUTH=embedded")

	// Discovery: the 401 names the resource metadata, which names the
	// issuer, whose metadata names the endpoints.
	resp := rawPost(t, s.URL, nil, initializeBody)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(resp.Header.Get("WWW-Authenticate"), "resource_metadata=") {
		t.Fatalf("no token: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	prm := getJSON(t, s.Base+"/.well-known/oauth-protected-resource/api/mcp")
	if as := prm["authorization_servers"].([]any); len(as) != 1 || as[0] != s.Base {
		t.Fatalf("authorization_servers = %v; want [%s]", prm["authorization_servers"], s.Base)
	}
	meta := getJSON(t, s.Base+"/.well-known/oauth-authorization-server")
	if meta["issuer"] != s.Base || meta["registration_endpoint"] != s.Base+"/oauth/register" {
		t.Fatalf("metadata %v", meta)
	}
	getJSON(t, s.Base+"/.well-known/openid-configuration")

	// A browser client may call the token endpoint with HTTP Basic: the
	// preflight allows Authorization, and is answered before any check.
	pre, _ := http.NewRequest(http.MethodOptions, s.Base+"/oauth/token", nil)
	pre.Header.Set("Origin", "http://localhost:6274")
	pre.Header.Set("Access-Control-Request-Method", "POST")
	pre.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
	if presp, err := http.DefaultClient.Do(pre); err != nil {
		t.Fatal(err)
	} else {
		presp.Body.Close()
		if presp.StatusCode/100 != 2 || presp.Header.Get("Access-Control-Allow-Origin") != "http://localhost:6274" ||
			!strings.Contains(strings.ToLower(presp.Header.Get("Access-Control-Allow-Headers")), "authorization") {
			t.Errorf("token endpoint preflight: %d %v", presp.StatusCode, presp.Header)
		}
	}

	// Registration.
	const redirect = "http://127.0.0.1:9/callback"
	regResp, err := http.Post(meta["registration_endpoint"].(string), "application/json",
		strings.NewReader(`{"redirect_uris":["`+redirect+`"],"token_endpoint_auth_method":"none","client_name":"e2e client"}`))
	if err != nil {
		t.Fatal(err)
	}
	var reg map[string]any
	_ = json.NewDecoder(regResp.Body).Decode(&reg)
	regResp.Body.Close()
	clientID, _ := reg["client_id"].(string)
	if regResp.StatusCode != http.StatusCreated || clientID == "" {
		t.Fatalf("register: %d %v", regResp.StatusCode, reg)
	}

	// Sign-in and consent through the pages.
	verifier := strings.Repeat("e2e-verifier-", 4)
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {redirect}, "state": {"xyz"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}, "resource": {s.URL}}
	b := newBrowser(t)
	r, page := b.do(http.MethodGet, meta["authorization_endpoint"].(string)+"?"+q.Encode(), nil)
	if r.StatusCode != 200 || !strings.Contains(page, "e2e client") || !strings.Contains(r.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Fatalf("login page: %d %q\n%s", r.StatusCode, r.Header.Get("Content-Security-Policy"), page)
	}
	r, page = b.submit(page, url.Values{"email": {"alice@example.com"}, "password": {"alice-password"}})
	if r.StatusCode != 200 || !strings.Contains(page, `value="allow"`) {
		t.Fatalf("after sign-in: %d\n%s", r.StatusCode, page)
	}
	r, _ = b.submit(page, url.Values{"decision": {"allow"}})
	loc, _ := url.Parse(r.Header.Get("Location"))
	if r.StatusCode != http.StatusSeeOther || loc == nil || loc.Query().Get("code") == "" || loc.Query().Get("iss") != s.Base || loc.Query().Get("state") != "xyz" {
		t.Fatalf("after consent: %d %q", r.StatusCode, r.Header.Get("Location"))
	}

	// Tokens.
	status, tok := postForm(t, meta["token_endpoint"].(string), url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")},
		"redirect_uri": {redirect}, "code_verifier": {verifier}, "client_id": {clientID}, "resource": {s.URL}})
	if status != 200 || tok["access_token"] == nil || tok["refresh_token"] == nil {
		t.Fatalf("token: %d %v", status, tok)
	}

	// The token works on the MCP endpoint, as Alice.
	cs, err := connectWithToken(t, s.URL, tok["access_token"].(string))
	if err != nil {
		t.Fatalf("connect with the embedded server's token: %v\n%s", err, strings.Join(s.stderr.all, "\n"))
	}
	tools, err := cs.ListTools(t.Context(), nil)
	if err != nil || len(tools.Tools) == 0 {
		t.Fatalf("tools/list: %v", err)
	}
	ctxRes := mustCall(t, cs, "workspace_tool", map[string]any{"operation": "list_workspaces"})
	if b, _ := json.Marshal(ctxRes); !strings.Contains(string(b), "Acme Robotics (demo)") {
		t.Errorf("list_workspaces of Alice lacks the demo seeded for her: %s", b)
	}

	// Refresh rotates; the new access token works.
	status, tok2 := postForm(t, meta["token_endpoint"].(string), url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}, "client_id": {clientID}})
	if status != 200 || tok2["refresh_token"] == tok["refresh_token"] {
		t.Fatalf("refresh: %d %v", status, tok2)
	}
	if _, err := connectWithToken(t, s.URL, tok2["access_token"].(string)); err != nil {
		t.Fatalf("refreshed token: %v", err)
	}

	// Revocation of the first access token takes effect at once.
	if status, _ := postForm(t, meta["revocation_endpoint"].(string), url.Values{"token": {tok["access_token"].(string)}, "client_id": {clientID}}); status != 200 {
		t.Fatalf("revoke: %d", status)
	}
	resp = rawPost(t, s.URL, map[string]string{"Authorization": "Bearer " + tok["access_token"].(string)}, initializeBody)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("revoked token: %d; want 401", resp.StatusCode)
	}
	if c := resp.Header.Get("WWW-Authenticate"); !strings.Contains(c, "invalid_token") || !strings.Contains(c, "the token was revoked") {
		t.Errorf("revoked token: challenge %q; want invalid_token saying it was revoked", c)
	}

	// A restart keeps the client, the keys and the refresh token.
	s.stop(t)
	s = startServerEnv(t, dir, s.Base, "ATOMCP_AUTH=embedded", "ATOMCP_ADDR="+strings.TrimPrefix(s.Base, "http://"))
	if _, err := connectWithToken(t, s.URL, tok2["access_token"].(string)); err != nil {
		t.Errorf("access token after restart: %v", err)
	}
	status, _ = postForm(t, meta["token_endpoint"].(string), url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok2["refresh_token"].(string)}, "client_id": {clientID}})
	if status != 200 {
		t.Errorf("refresh after restart: %d", status)
	}
}

// With no account and no terminal (stderr is a pipe here), no setup link
// is printed anywhere: the log says how to create the first account.
func TestEmbeddedFirstStartWithoutTerminal(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir, "ATOMCP_AUTH=embedded")
	s.syncLog(t)
	all := strings.Join(s.stderr.all, "\n")
	if strings.Contains(all, "token=") || !strings.Contains(all, "atomcp users add") {
		t.Errorf("log:\n%s", all)
	}
}

// TestEmbeddedScopesPerTool: with the embedded authorization server and
// no scope settings, a token with atoms:read reads but a write gets HTTP
// 403 insufficient_scope naming atoms:write, so that clients step up.
func TestEmbeddedScopesPerTool(t *testing.T) {
	dir := t.TempDir()
	addUser(t, dir, "reader@example.com", "reader-password", "--name", "Reader", "--owner")
	// The token is bound to the server's resource URL, so both use one address.
	addr := freeAddr(t)
	create := exec.Command(binary, "tokens", "create", "--user", "reader@example.com", "--scope", "atoms:read", "-q")
	create.Dir = dir
	create.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "ATOMCP_ADDR=" + addr, "ATOMCP_DATABASE_URL=sqlite://" + filepath.Join(dir, "atomcp.db")}
	out, err := create.Output()
	if err != nil {
		t.Fatalf("tokens create: %v", err)
	}
	token := strings.TrimSpace(string(out))
	s := startServerEnv(t, dir, "http://"+addr, "ATOMCP_AUTH=embedded", "ATOMCP_ADDR="+addr)
	cs, err := connectWithToken(t, s.URL, token)
	if err != nil {
		t.Fatalf("connect with a read token: %v", err)
	}
	mustCall(t, cs, "workspace_tool", map[string]any{"operation": "list_workspaces"})
	_, err = cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "entity_tool", Arguments: map[string]any{"entity_type": "organization", "operation": "create", "data": map[string]any{"name": "Nope"}}})
	if err == nil || !strings.Contains(err.Error(), "Forbidden") {
		t.Fatalf("a write with a read-only token: %v; want HTTP 403", err)
	}
	body := `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"entity_tool","arguments":{"entity_type":"organization","operation":"create","data":{"name":"Nope"}}}}`
	resp := rawPost(t, s.URL, map[string]string{"Authorization": "Bearer " + token, "MCP-Protocol-Version": "2026-07-28"}, body)
	if ch := resp.Header.Get("WWW-Authenticate"); resp.StatusCode != http.StatusForbidden || !strings.Contains(ch, `insufficient_scope`) || !strings.Contains(ch, "atoms:write") {
		t.Fatalf("raw write: %d %q; want 403 insufficient_scope naming atoms:write", resp.StatusCode, ch)
	}
}
