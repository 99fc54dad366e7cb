package e2e

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestToleranceEmbedded replays, against the binary with the embedded
// authorization server and ATOMCP_ALLOWED_ORIGINS set, what real clients
// send and the suite never does (issue 23): offline_access in the scope,
// the resource parameter twice (Codex), a loopback redirect on a port of
// the moment, the sign-in and consent forms posted with Origin: null (what
// a browser sends for atomcp's no-referrer pages), and MCP POSTs that
// accept application/json only.
func TestToleranceEmbedded(t *testing.T) {
	dir := t.TempDir()
	addUser(t, dir, "alice@example.com", "alice-password", "--name", "Alice", "--owner")
	s := startServer(t, dir, "ATOMCP_AUTH=embedded", "ATOMCP_ALLOWED_ORIGINS=https://app.example")
	meta := getJSON(t, s.Base+"/.well-known/oauth-authorization-server")
	if !strings.Contains(strings.Join(anyStrings(meta["scopes_supported"]), " "), "offline_access") {
		t.Errorf("scopes_supported %v lacks offline_access", meta["scopes_supported"])
	}

	regResp, err := http.Post(s.Base+"/oauth/register", "application/json", strings.NewReader(
		`{"client_name":"Codex","redirect_uris":["http://127.0.0.1/auth/callback"],"grant_types":["authorization_code","refresh_token"],`+
			`"response_types":["code"],"token_endpoint_auth_method":"none","scope":"atoms:read atoms:write offline_access"}`))
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

	const redirect = "http://127.0.0.1:1455/auth/callback" // the port of this run
	verifier := strings.Repeat("tolerance-verifier-", 3)
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {redirect}, "state": {"s1"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
		"scope": {"atoms:read atoms:write offline_access"}, "resource": {s.URL, s.URL}}
	b := newBrowser(t)
	r, page := b.do(http.MethodGet, s.Base+"/oauth/authorize?"+q.Encode(), nil)
	if r.StatusCode != http.StatusOK || !strings.Contains(page, `name="password"`) {
		t.Fatalf("login page: %d\n%s", r.StatusCode, page)
	}
	login := url.Values{"email": {"alice@example.com"}, "password": {"alice-password"}}

	// Another site's page posting the form is refused, before any check of
	// its fields.
	if r, _ := postPageForm(b, page, login, "https://evil.example"); r.StatusCode != http.StatusForbidden {
		t.Fatalf("login form from a foreign origin: %d; want 403", r.StatusCode)
	}
	r, page = postPageForm(b, page, login, "null")
	if r.StatusCode != http.StatusOK || !strings.Contains(page, `value="allow"`) {
		t.Fatalf("login form with Origin null and ATOMCP_ALLOWED_ORIGINS set: %d; want the consent page\n%s", r.StatusCode, page)
	}
	r, _ = postPageForm(b, page, url.Values{"decision": {"allow"}}, "null")
	loc, _ := url.Parse(r.Header.Get("Location"))
	if r.StatusCode != http.StatusSeeOther || loc == nil || loc.Scheme+"://"+loc.Host+loc.Path != redirect || loc.Query().Get("code") == "" {
		t.Fatalf("consent: %d %q; want a code at %s", r.StatusCode, r.Header.Get("Location"), redirect)
	}

	status, tok := postForm(t, s.Base+"/oauth/token", url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")},
		"redirect_uri": {redirect}, "code_verifier": {verifier}, "client_id": {clientID}, "resource": {s.URL, s.URL}})
	if status != http.StatusOK || tok["refresh_token"] == nil || tok["scope"] != "atoms:read atoms:write" {
		t.Fatalf("token with the resource twice: %d %v", status, tok)
	}

	// MCP with Accept: application/json only.
	auth := map[string]string{"Authorization": "Bearer " + tok["access_token"].(string), "Accept": "application/json"}
	resp := rawPost(t, s.URL, auth, initializeBody)
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") || !strings.Contains(string(body), `"protocolVersion"`) {
		t.Fatalf("initialize accepting JSON only: %d %q\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	auth["Mcp-Session-Id"] = resp.Header.Get("Mcp-Session-Id")
	auth["MCP-Protocol-Version"] = "2025-11-25"
	rawPost(t, s.URL, auth, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	resp = rawPost(t, s.URL, auth, `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"workspace_tool","arguments":{"operation":"list_workspaces"}}}`)
	body, _ = io.ReadAll(resp.Body)
	var rpc struct {
		ID     int            `json:"id"`
		Result map[string]any `json:"result"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &rpc) != nil || rpc.ID != 2 || rpc.Result == nil || rpc.Result["isError"] == true {
		t.Fatalf("tools/call accepting JSON only: %d %q\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}

	// Refresh with offline_access in the scope, as the original request had.
	status, ref := postForm(t, s.Base+"/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)},
		"client_id": {clientID}, "scope": {"atoms:read atoms:write offline_access"}, "resource": {s.URL + "/"}})
	if status != http.StatusOK || ref["refresh_token"] == nil {
		t.Fatalf("refresh: %d %v", status, ref)
	}

	// A client id from before a database reset: 401 invalid_client, so the
	// client registers again.
	status, e := postForm(t, s.Base+"/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {ref["refresh_token"].(string)},
		"client_id": {"0d9c4b8e-3f43-4f5e-8a8c-3b3c1d5e0a77"}})
	if status != http.StatusUnauthorized || e["error"] != "invalid_client" {
		t.Fatalf("stale client id: %d %v; want 401 invalid_client", status, e)
	}
}

// postPageForm posts the form of an atomcp page as a browser would, with
// the given Origin header.
func postPageForm(b *browser, page string, extra url.Values, origin string) (*http.Response, string) {
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
	req, _ := http.NewRequest(http.MethodPost, html.UnescapeString(act[1]), strings.NewReader(f.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", origin)
	resp, err := b.hc.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp, string(data)
}

func anyStrings(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, x := range list {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}
