package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// foreignAppScript is a web MCP client on its own https origin, as a
// browser app would be: it registers (CORS), sends the person to atomcp's
// sign-in page, and on its callback exchanges the code (CORS) and
// initializes an MCP session with the token; it posts what it saw to its
// own server.
const foreignAppScript = `
const AS = %q, MCP = %q, APP = location.origin;
const INIT = JSON.stringify({jsonrpc: "2.0", id: 1, method: "initialize",
  params: {protocolVersion: "2025-11-25", capabilities: {}, clientInfo: {name: "foreign web app", version: "1"}}});
function b64url(buf) {
  return btoa(String.fromCharCode(...new Uint8Array(buf))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
async function report(r) { await fetch("/results", {method: "POST", body: JSON.stringify(r)}); }
async function start() {
  try {
    const reg = await fetch(AS + "/oauth/register", {method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({client_name: "Foreign web app", redirect_uris: [APP + "/callback"], token_endpoint_auth_method: "none",
        application_type: "web", scope: "atoms:read atoms:write offline_access"})});
    const c = await reg.json();
    if (!reg.ok) throw new Error("register: " + reg.status + " " + JSON.stringify(c));
    const verifier = b64url(crypto.getRandomValues(new Uint8Array(32)));
    const challenge = b64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
    sessionStorage.setItem("flow", JSON.stringify({clientID: c.client_id, verifier}));
    location.href = AS + "/oauth/authorize?" + new URLSearchParams({response_type: "code", client_id: c.client_id,
      redirect_uri: APP + "/callback", state: "st", code_challenge: challenge, code_challenge_method: "S256",
      scope: "atoms:read atoms:write offline_access", resource: MCP});
  } catch (e) { await report({exception: String(e)}); }
}
async function finish() {
  const r = {origin: APP};
  try {
    const p = new URLSearchParams(location.search);
    r.error = p.get("error"); r.iss = p.get("iss"); r.state = p.get("state");
    const f = JSON.parse(sessionStorage.getItem("flow"));
    const t = await fetch(AS + "/oauth/token", {method: "POST", headers: {"Content-Type": "application/x-www-form-urlencoded"},
      body: new URLSearchParams({grant_type: "authorization_code", code: p.get("code"), redirect_uri: APP + "/callback",
        code_verifier: f.verifier, client_id: f.clientID, resource: MCP})});
    const tok = await t.json();
    r.tokenStatus = t.status; r.scope = tok.scope; r.hasRefresh = !!tok.refresh_token;
    const i = await fetch(MCP, {method: "POST", body: INIT, headers: {"Content-Type": "application/json",
      "Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2025-11-25", "Authorization": "Bearer " + tok.access_token}});
    r.initializeStatus = i.status; r.initializeBody = await i.text();
  } catch (e) { r.exception = String(e); }
  await report(r);
}
`

// signInDriver runs in atomcp's pages through the DevTools protocol (the
// pages themselves allow no script): it fills and submits the sign-in
// form, then allows on the consent page, as a person would, once per
// page; otherwise it returns where the browser is.
const signInDriver = `(() => {
  if (document.readyState !== "complete") return "loading";
  const pw = document.querySelector("input[name=password]");
  if (pw && !window.__driven) {
    window.__driven = true;
    document.querySelector("input[name=email]").value = "alice@example.com";
    pw.value = "alice-password";
    pw.form.requestSubmit();
    return "signing in";
  }
  const allow = document.querySelector("button[value=allow]");
  if (allow && !window.__driven) { window.__driven = true; allow.click(); return "allowing"; }
  return location.href + " " + (document.body ? document.body.innerText.slice(0, 300) : "");
})()`

// TestBrowserSignInFromForeignOrigin signs in, in headless Chromium, from
// a web app on another https origin (a self-signed certificate, and a
// host-resolver rule that maps app.test to loopback), with
// ATOMCP_ALLOWED_ORIGINS set to that origin: the sign-in and consent forms
// post with Origin: null (atomcp's pages are no-referrer), which the
// origin guard used to refuse.
func TestBrowserSignInFromForeignOrigin(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is not installed, and CI is set: scripts/test.sh runs scripts/install-chromium.sh, which failed or was skipped")
		}
		t.Skip("chromium not installed: run scripts/install-chromium.sh")
	}

	results := make(chan map[string]any, 1)
	var once sync.Once
	var as, mcpURL string
	app := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		script := fmt.Sprintf(foreignAppScript, as, mcpURL)
		switch r.URL.Path {
		case "/", "/callback":
			call := map[string]string{"/": "start()", "/callback": "finish()"}[r.URL.Path]
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprintf(w, "<!doctype html><html><body><p>foreign app</p><script>%s\n%s;</script></body></html>", script, call)
		case "/results":
			var res map[string]any
			_ = json.NewDecoder(r.Body).Decode(&res)
			once.Do(func() { results <- res })
		default:
			http.NotFound(w, r)
		}
	}))
	app.StartTLS()
	t.Cleanup(app.Close)
	_, appPort, _ := net.SplitHostPort(app.Listener.Addr().String())
	appOrigin := "https://app.test:" + appPort

	dir := t.TempDir()
	addUser(t, dir, "alice@example.com", "alice-password", "--name", "Alice", "--owner")
	s := startServer(t, dir, "ATOMCP_AUTH=embedded", "ATOMCP_ALLOWED_ORIGINS="+appOrigin)
	as, mcpURL = s.Base, s.URL

	b := startChromium(t, chromium, "--ignore-certificate-errors", "--host-resolver-rules=MAP app.test 127.0.0.1")
	target := b.call(t, "", "Target.createTarget", map[string]any{"url": "about:blank"})["targetId"]
	session, _ := b.call(t, "", "Target.attachToTarget", map[string]any{"targetId": target, "flatten": true})["sessionId"].(string)
	b.call(t, session, "Page.setBypassCSP", map[string]any{"enabled": true}) // for the driver only; the pages' own CSP is unchanged otherwise
	b.call(t, session, "Page.navigate", map[string]any{"url": appOrigin + "/"})

	var r map[string]any
	last := ""
	deadline := time.After(90 * time.Second)
	tick := time.NewTicker(300 * time.Millisecond)
	defer tick.Stop()
wait:
	for {
		select {
		case r = <-results:
			break wait
		case <-deadline:
			t.Fatalf("the app did not report within 90s; the browser was at: %s\nchromium said:\n%s", last, b.stderr.String())
		case <-tick.C:
			res := b.call(t, session, "Runtime.evaluate", map[string]any{"expression": signInDriver, "returnByValue": true})
			if v, ok := res["result"].(map[string]any); ok {
				last = fmt.Sprint(v["value"])
			}
			if strings.Contains(last, `{"error":"`) { // a refusal shown instead of a page
				t.Fatalf("the browser shows a refusal: %s", last)
			}
		}
	}
	t.Logf("app results: %v", r)
	if r["exception"] != nil || r["error"] != nil {
		t.Fatalf("the flow failed: %v (browser last at %s)", r, last)
	}
	if r["iss"] != s.Base || r["state"] != "st" {
		t.Errorf("authorization response iss %v state %v", r["iss"], r["state"])
	}
	if r["tokenStatus"] != 200.0 || r["scope"] != "atoms:read atoms:write" || r["hasRefresh"] != true {
		t.Errorf("token: %v scope %v refresh %v", r["tokenStatus"], r["scope"], r["hasRefresh"])
	}
	if r["initializeStatus"] != 200.0 || !strings.Contains(fmt.Sprint(r["initializeBody"]), `"protocolVersion"`) {
		t.Errorf("initialize: %v %.200v", r["initializeStatus"], r["initializeBody"])
	}
}

// cdp is Chromium driven through the DevTools protocol over
// --remote-debugging-pipe (fd 3 in, fd 4 out, NUL-separated JSON), which
// needs no WebSocket client.
type cdp struct {
	mu      sync.Mutex
	w       io.Writer
	next    int
	pending map[int]chan map[string]any
	stderr  lockedBuffer
}

func startChromium(t *testing.T, chromium string, flags ...string) *cdp {
	t.Helper()
	toChrome, ours, err := os.Pipe() // Chromium reads commands from fd 3
	if err != nil {
		t.Fatal(err)
	}
	fromChrome, theirs, err := os.Pipe() // and writes answers to fd 4
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
		"--enable-logging=stderr", "--v=0", "--remote-debugging-pipe", "--user-data-dir=" + t.TempDir()}, flags...)
	cmd := exec.Command(chromium, append(args, "about:blank")...)
	c := &cdp{w: ours, pending: map[int]chan map[string]any{}}
	cmd.Stdout, cmd.Stderr = io.Discard, &c.stderr
	cmd.ExtraFiles = []*os.File{toChrome, theirs}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	toChrome.Close()
	theirs.Close()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		ours.Close()
		fromChrome.Close()
	})
	go func() {
		rd := bufio.NewReader(fromChrome)
		for {
			msg, err := rd.ReadBytes(0)
			if err != nil {
				return
			}
			var m struct {
				ID     int            `json:"id"`
				Result map[string]any `json:"result"`
				Error  map[string]any `json:"error"`
			}
			if json.Unmarshal(msg[:len(msg)-1], &m) != nil || m.ID == 0 {
				continue // an event
			}
			c.mu.Lock()
			ch := c.pending[m.ID]
			delete(c.pending, m.ID)
			c.mu.Unlock()
			if ch != nil {
				if m.Error != nil {
					m.Result = map[string]any{"error": m.Error}
				}
				ch <- m.Result
			}
		}
	}()
	return c
}

// call sends a DevTools command (to a page's session, or to the browser
// with session "") and waits for its answer.
func (c *cdp) call(t *testing.T, session, method string, params map[string]any) map[string]any {
	t.Helper()
	c.mu.Lock()
	c.next++
	id := c.next
	ch := make(chan map[string]any, 1)
	c.pending[id] = ch
	msg := map[string]any{"id": id, "method": method, "params": params}
	if session != "" {
		msg["sessionId"] = session
	}
	b, _ := json.Marshal(msg)
	_, err := c.w.Write(append(b, 0))
	c.mu.Unlock()
	if err != nil {
		t.Fatalf("%s: %v\nchromium said:\n%s", method, err, c.stderr.String())
	}
	select {
	case res := <-ch:
		if e, ok := res["error"]; ok && method != "Runtime.evaluate" {
			t.Fatalf("%s: %v", method, e)
		}
		return res
	case <-time.After(30 * time.Second):
		t.Fatalf("%s: no answer in 30s\nchromium said:\n%s", method, c.stderr.String())
	}
	return nil
}
