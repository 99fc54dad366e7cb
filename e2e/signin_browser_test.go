package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"

	"github.com/atomcp/atomcp/internal/authserver/connector/connectortest"
)

// TestSigninBrowser runs the sign-in through a provider in headless
// Chromium: the MCP client's authorization URL, atomcp sending the browser
// straight to the provider (the only way in: password form off), the
// provider's redirect back with atomcp's sign-in cookie, the account, and
// the code arriving at the client's redirect URI. The pages have no
// script to click consent with, so the client was allowed once before
// (through the HTTP browser of the other tests), as a returning user.
func TestSigninBrowser(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is not installed, and CI is set: scripts/test.sh runs scripts/install-chromium.sh, which failed or was skipped")
		}
		t.Skip("chromium not installed: run scripts/install-chromium.sh")
	}
	idp, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = idp.Shutdown() })

	// The client's redirect URI: a server of the test that receives the
	// code.
	codes := make(chan url.Values, 1)
	var once sync.Once
	cb := listen(t)
	go http.Serve(cb, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() { codes <- r.URL.Query() })
		_, _ = io.WriteString(w, "signed in")
	}))
	redirect := "http://" + cb.Addr().String() + "/callback"

	s := startServer(t, t.TempDir(), "ATOMCP_AUTH=embedded", "ATOMCP_SIGNIN_PASSWORD=false",
		"ATOMCP_SIGNIN_OIDC_ISSUER="+idp.Issuer(), "ATOMCP_SIGNIN_OIDC_CLIENT_ID="+idp.ClientID,
		"ATOMCP_SIGNIN_OIDC_CLIENT_SECRET="+idp.ClientSecret, "ATOMCP_SIGNIN_OIDC_NAME=Keycloak")
	resp, err := http.Post(s.Base+"/oauth/register", "application/json",
		strings.NewReader(`{"redirect_uris":["`+redirect+`"],"token_endpoint_auth_method":"none","client_name":"browser client"}`))
	if err != nil {
		t.Fatal(err)
	}
	var reg struct {
		ClientID string `json:"client_id"`
	}
	_ = decodeJSON(resp, &reg)
	c := &mcpClient{id: reg.ClientID, verifier: strings.Repeat("browser-verifier-", 3)}
	authz := func() string {
		return strings.Replace(c.authorizeURL(s), url.QueryEscape(signinRedirect), url.QueryEscape(redirect), 1)
	}

	// Once through the HTTP browser, allowing the client.
	idp.QueueUser(connectortest.NewUser("kc-browser", "bruno@example.com"))
	b := newBrowser(t)
	r, _ := b.do(http.MethodGet, authz(), nil) // straight to the provider
	if r.StatusCode != http.StatusFound || !strings.HasPrefix(r.Header.Get("Location"), idp.Issuer()) {
		t.Fatalf("authorize with one provider and no password: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	r, _ = b.do(http.MethodGet, r.Header.Get("Location"), nil)
	r, page := b.do(http.MethodGet, r.Header.Get("Location"), nil)
	if !strings.Contains(page, `value="allow"`) {
		t.Fatalf("no consent page: %d\n%s", r.StatusCode, page)
	}
	if r, _ = b.submit(page, url.Values{"decision": {"allow"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("consent: %d", r.StatusCode)
	}

	// Then in Chromium, a new browser: no session, a sign-in at the
	// provider, and the code at the redirect URI.
	idp.QueueUser(connectortest.NewUser("kc-browser", "bruno@example.com"))
	cmd := exec.Command(chromium,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--enable-logging=stderr", "--v=0",
		"--user-data-dir="+t.TempDir(), authz())
	var stderr lockedBuffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	var q url.Values
	select {
	case q = <-codes:
	case <-time.After(90 * time.Second):
		t.Fatalf("no code reached the client within 90s; chromium said:\n%s\natomcp:\n%s", stderr.String(), strings.Join(s.stderr.all, "\n"))
	}
	if q.Get("state") != "client-state" || q.Get("iss") != s.Base || q.Get("code") == "" {
		t.Fatalf("redirect to the client: %v", q)
	}
	status, tok := postForm(t, s.Base+"/oauth/token", url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")},
		"redirect_uri": {redirect}, "code_verifier": {c.verifier}, "client_id": {c.id}, "resource": {s.URL}})
	if status != 200 || tok["access_token"] == nil {
		t.Fatalf("token: %d %v", status, tok)
	}
	cs, err := connectWithToken(t, s.URL, tok["access_token"].(string))
	if err != nil {
		t.Fatal(err)
	}
	mustCall(t, cs, "workspace_tool", map[string]any{"operation": "list_workspaces"})
}

func decodeJSON(resp *http.Response, v any) error {
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(v)
}
