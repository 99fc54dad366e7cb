package e2e

import (
	"encoding/json"
	"fmt"
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

// TestSigninBrowser runs the whole sign-in through a provider in headless
// Chromium, as a person does it: the MCP client's authorization URL,
// atomcp sending the browser straight to the provider (the only way in:
// password form off), the provider's redirect back with atomcp's sign-in
// cookie, the account created, the consent page allowed with a click (the
// pages allow no script; the DevTools protocol clicks, see
// signInDriver), and the code arriving at the client's redirect URI; then
// the client's token calls a tool.
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

	dir := t.TempDir()
	s := startServer(t, dir, "ATOMCP_AUTH=embedded", "ATOMCP_SIGNIN_PASSWORD=false",
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
	authz := strings.Replace(c.authorizeURL(s), url.QueryEscape(signinRedirect), url.QueryEscape(redirect), 1)

	idp.QueueUser(connectortest.NewUser("kc-browser", "bruno@example.com"))
	b := startChromium(t, chromium)
	target := b.call(t, "", "Target.createTarget", map[string]any{"url": "about:blank"})["targetId"]
	session, _ := b.call(t, "", "Target.attachToTarget", map[string]any{"targetId": target, "flatten": true})["sessionId"].(string)
	b.call(t, session, "Page.setBypassCSP", map[string]any{"enabled": true}) // for the driver's script only
	b.call(t, session, "Page.navigate", map[string]any{"url": authz})

	var q url.Values
	last, sawConsent := "", false
	deadline := time.After(90 * time.Second)
	tick := time.NewTicker(300 * time.Millisecond)
	defer tick.Stop()
wait:
	for {
		select {
		case q = <-codes:
			break wait
		case <-deadline:
			t.Fatalf("no code reached the client within 90s; the browser was at: %s\nchromium said:\n%s\natomcp:\n%s",
				last, b.stderr.String(), strings.Join(s.stderr.all, "\n"))
		case <-tick.C:
			res := b.call(t, session, "Runtime.evaluate", map[string]any{"expression": signInDriver, "returnByValue": true})
			if v, ok := res["result"].(map[string]any); ok {
				last = fmt.Sprint(v["value"])
			}
			sawConsent = sawConsent || last == "allowing"
		}
	}
	if !sawConsent {
		t.Error("the code arrived without the consent page being allowed in the browser")
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
	s.stop(t)
	if out := runUsers(t, dir, "list"); !strings.Contains(out, "oidc (bruno@example.com, subject kc-browser") {
		t.Errorf("the account made by the browser sign-in is not listed:\n%s", out)
	}
}

func decodeJSON(resp *http.Response, v any) error {
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(v)
}
