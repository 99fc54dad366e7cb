package e2e

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// accountStructure lists the page's structure as the golden file
// docs/screenshots/account.txt has it: its headings and its tables'
// column headers, one a line. Times, ids and names vary between runs;
// this does not.
const accountStructure = `Array.from(document.querySelectorAll("h1, h2, th")).map(e => e.tagName.toLowerCase() + " " + e.textContent.trim()).join("\n")`

// TestAccountBrowser drives /account in headless Chromium: sign in on the
// page's own sign-in form, see the MCP client connected before (DCR and
// PKCE, through the HTTP browser) under connected apps, create a
// personal access token, revoke the app, and find that the client's next
// refresh gets invalid_grant and its next MCP request 401; then revoke
// the token and find it refused too. With ATOMCP_SCREENSHOT_DIR set it
// saves account.png there (how docs/screenshots/account.png is made); it
// always checks the page's structure against docs/screenshots/account.txt.
func TestAccountBrowser(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is not installed, and CI is set: scripts/test.sh runs scripts/install-chromium.sh, which failed or was skipped")
		}
		t.Skip("chromium not installed: run scripts/install-chromium.sh")
	}
	dir := t.TempDir()
	addUser(t, dir, "alice@example.com", "alice-password", "--name", "Alice Example", "--owner")
	s := startServer(t, dir, "ATOMCP_AUTH=embedded")

	// An MCP client connects: registration, authorization with PKCE,
	// sign-in and consent (in the HTTP browser), the code exchange.
	resp, err := http.Post(s.Base+"/oauth/register", "application/json",
		strings.NewReader(`{"redirect_uris":["`+signinRedirect+`"],"token_endpoint_auth_method":"none","client_name":"Claude Desktop"}`))
	if err != nil {
		t.Fatal(err)
	}
	var reg struct {
		ClientID string `json:"client_id"`
	}
	_ = decodeJSON(resp, &reg)
	c := &mcpClient{id: reg.ClientID, verifier: strings.Repeat("account-verifier-", 3)}
	hb := newBrowser(t)
	_, page := hb.do(http.MethodGet, c.authorizeURL(s), nil)
	_, page = hb.submit(page, url.Values{"email": {"alice@example.com"}, "password": {"alice-password"}})
	r, _ := hb.submit(page, url.Values{"decision": {"allow"}})
	loc, _ := url.Parse(r.Header.Get("Location"))
	status, tok := postForm(t, s.Base+"/oauth/token", url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")},
		"redirect_uri": {signinRedirect}, "code_verifier": {c.verifier}, "client_id": {c.id}, "resource": {s.URL}})
	if status != 200 || tok["refresh_token"] == nil {
		t.Fatalf("token: %d %v", status, tok)
	}
	access, refresh := tok["access_token"].(string), tok["refresh_token"].(string)
	if r := rawPost(t, s.URL, map[string]string{"Authorization": "Bearer " + access}, initializeBody); r.StatusCode != 200 {
		t.Fatalf("the client's MCP request before revocation: %d", r.StatusCode)
	}

	b := startChromium(t, chromium)
	target := b.call(t, "", "Target.createTarget", map[string]any{"url": "about:blank"})["targetId"]
	session, _ := b.call(t, "", "Target.attachToTarget", map[string]any{"targetId": target, "flatten": true})["sessionId"].(string)
	b.call(t, session, "Emulation.setDeviceMetricsOverride", map[string]any{"width": 1100, "height": 900, "deviceScaleFactor": 1, "mobile": false})
	eval := func(expr string) string {
		t.Helper()
		res := b.call(t, session, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true})
		v, _ := res["result"].(map[string]any)
		if v == nil {
			return ""
		}
		return fmt.Sprint(v["value"])
	}
	// waitFor polls until expr gives want (the page loaded after a
	// navigation or a form post).
	waitFor := func(what, expr, want string) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		last := ""
		for time.Now().Before(deadline) {
			if last = eval(expr); last == want {
				return
			}
			time.Sleep(200 * time.Millisecond)
		}
		t.Fatalf("%s: %s gave %q, want %q\npage: %.2000s\nchromium said:\n%s", what, expr, last, want,
			eval("document.body ? document.body.innerText : ''"), b.stderr.String())
	}
	const loaded = `document.readyState + " " + location.pathname`
	// click clicks the submit button of the form holding the element sel.
	click := func(sel string) {
		t.Helper()
		if got := eval(`(() => { const e = document.querySelector(` + jsString(sel) + `); if (!e) return "missing"; e.form.querySelector("button[type=submit]").click(); return "ok" })()`); got != "ok" {
			t.Fatalf("no %s on the page: %s", sel, got)
		}
	}

	// Signed out, /account sends the browser to the sign-in page, which
	// returns to /account.
	b.call(t, session, "Page.navigate", map[string]any{"url": s.Base + "/account"})
	waitFor("sign-in page", loaded, "complete /oauth/login")
	eval(`document.getElementById("email").value = "alice@example.com"; document.getElementById("password").value = "alice-password"`)
	click("#password")
	waitFor("account page", loaded, "complete /account")
	body := eval("document.body.innerText")
	for _, want := range []string{"alice@example.com", "Alice Example", "Claude Desktop", c.id, "atoms:read atoms:write", "http://127.0.0.1:9"} {
		if !strings.Contains(body, want) {
			t.Errorf("the account page does not show %q:\n%s", want, body)
		}
	}

	// A personal access token, shown once.
	eval(`document.getElementById("token-name").value = "CI job"; document.getElementById("token-scope").value = "atoms:read"`)
	click("#token-name")
	waitFor("token page", loaded, "complete /account/tokens")
	pat := eval(`document.getElementById("new-token").textContent`)
	if strings.Count(pat, ".") != 2 {
		t.Fatalf("no token on the token page: %q", pat)
	}
	if r := rawPost(t, s.URL, map[string]string{"Authorization": "Bearer " + pat}, initializeBody); r.StatusCode != 200 {
		t.Fatalf("the new personal access token: %d", r.StatusCode)
	}
	b.call(t, session, "Page.navigate", map[string]any{"url": s.Base + "/account"})
	waitFor("account page", loaded, "complete /account")
	if body := eval("document.body.innerText"); strings.Contains(body, pat) || !strings.Contains(body, "CI job") {
		t.Errorf("the token list shows the token again (%v) or lacks it (%v)", strings.Contains(body, pat), !strings.Contains(body, "CI job"))
	}

	// The page as the docs show it.
	golden, err := os.ReadFile(filepath.Join("..", "docs", "screenshots", "account.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if got := eval(accountStructure); got != strings.TrimSpace(string(golden)) {
		t.Errorf("the page's structure differs from docs/screenshots/account.txt (update it and the screenshot):\n%s", got)
	}
	if out := os.Getenv("ATOMCP_SCREENSHOT_DIR"); out != "" {
		shot := b.call(t, session, "Page.captureScreenshot", map[string]any{"format": "png", "captureBeyondViewport": true})
		png, err := base64.StdEncoding.DecodeString(fmt.Sprint(shot["data"]))
		if err != nil || len(png) == 0 {
			t.Fatalf("screenshot: %v", err)
		}
		if err := os.WriteFile(filepath.Join(out, "account.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// Revoke the app: its next refresh and its next MCP request fail.
	click(`input[name=client_id][value="` + c.id + `"]`)
	waitFor("account page after revoking", loaded+` + " " + location.search`, "complete /account ?done=app_revoked")
	if body := eval("document.body.innerText"); strings.Contains(body, "Claude Desktop") {
		t.Errorf("the revoked app is still listed:\n%s", body)
	}
	status, tok = postForm(t, s.Base+"/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}, "client_id": {c.id}})
	if status != http.StatusBadRequest || tok["error"] != "invalid_grant" {
		t.Errorf("the revoked app's refresh: %d %v; want 400 invalid_grant", status, tok)
	}
	if r := rawPost(t, s.URL, map[string]string{"Authorization": "Bearer " + access}, initializeBody); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("the revoked app's MCP request: %d; want 401", r.StatusCode)
	}

	// Revoke the token.
	click(`input[name=token_id]`)
	waitFor("account page after revoking the token", loaded+` + " " + location.search`, "complete /account ?done=token_revoked")
	if r := rawPost(t, s.URL, map[string]string{"Authorization": "Bearer " + pat}, initializeBody); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("the revoked personal access token: %d; want 401", r.StatusCode)
	}

	// Sign out with the bar's button: /account asks for a sign-in again.
	click(`header form input[name=csrf_token]`)
	waitFor("signed out", loaded, "complete /oauth/logout")
	b.call(t, session, "Page.navigate", map[string]any{"url": s.Base + "/account"})
	waitFor("sign-in page after signing out", loaded, "complete /oauth/login")
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
