package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// browserPage runs in Chromium on another origin than the MCP server. It
// does what a browser-based MCP client does first (discovery, a 401 to
// read the challenge from, initialize with a token), then a control fetch
// that must fail CORS (a server that sends no CORS headers), and posts what
// it saw back to the page's server.
const browserPage = `<!doctype html>
<html><body><pre id="out">running</pre>
<script>
const MCP = %q, TOKEN = %q, CONTROL = %q;
const INIT = JSON.stringify({jsonrpc: "2.0", id: 1, method: "initialize",
  params: {protocolVersion: "2025-11-25", capabilities: {}, clientInfo: {name: "browser", version: "1"}}});
const base = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2025-11-25"};
async function run() {
  const r = {origin: location.origin};
  try {
    const m = await fetch(new URL(MCP).origin + "/.well-known/oauth-protected-resource" + new URL(MCP).pathname,
      {headers: {"MCP-Protocol-Version": "2025-11-25"}});
    r.metadataStatus = m.status;
    r.metadata = await m.json();
  } catch (e) { r.metadataError = String(e); }
  try {
    const u = await fetch(MCP, {method: "POST", headers: base, body: INIT});
    r.unauthorizedStatus = u.status;
    r.wwwAuthenticate = u.headers.get("WWW-Authenticate");
  } catch (e) { r.unauthorizedError = String(e); }
  try {
    const i = await fetch(MCP, {method: "POST", headers: {...base, "Authorization": "Bearer " + TOKEN}, body: INIT});
    r.initializeStatus = i.status;
    r.sessionId = i.headers.get("Mcp-Session-Id");
    r.initializeBody = await i.text();
    const l = await fetch(MCP, {method: "POST", headers: {...base, "Authorization": "Bearer " + TOKEN, "Mcp-Session-Id": r.sessionId},
      body: JSON.stringify({jsonrpc: "2.0", id: 2, method: "tools/list"})});
    r.toolsListStatus = l.status;
    r.toolsListBody = await l.text();
  } catch (e) { r.initializeError = String(e); }
  try {
    await fetch(CONTROL, {method: "POST", headers: base, body: INIT});
    r.controlError = "none";
  } catch (e) { r.controlError = String(e); }
  document.getElementById("out").textContent = JSON.stringify(r);
  await fetch("/results", {method: "POST", body: JSON.stringify(r)});
}
run();
</script></body></html>`

// TestBrowserCORS loads a page from another origin in headless Chromium;
// the page reads the protected-resource document with an
// MCP-Protocol-Version header, posts initialize with an Authorization
// header, and reads Mcp-Session-Id and WWW-Authenticate. No CORS error may
// reach the console except the control's, which proves errors are seen.
func TestBrowserCORS(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is not installed, and CI is set: scripts/test.sh runs scripts/install-chromium.sh, which failed or was skipped")
		}
		t.Skip("chromium not installed: run scripts/install-chromium.sh")
	}
	is, srv := authkitServer(t)
	token := is.Mint(t, is.Claims("user_browser", srv.URL))

	// The control: a server that answers without any CORS header.
	control := listen(t)
	go http.Serve(control, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }))
	controlURL := "http://" + control.Addr().String() + "/no-cors"

	results := make(chan map[string]any, 1)
	var once sync.Once
	page := listen(t)
	_, pagePort, _ := net.SplitHostPort(page.Addr().String())
	go http.Serve(page, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprintf(w, browserPage, srv.URL, token, controlURL)
		case "/results":
			var res map[string]any
			_ = json.NewDecoder(r.Body).Decode(&res)
			once.Do(func() { results <- res })
		default:
			http.NotFound(w, r)
		}
	}))
	// app.test resolves to the page server inside Chromium only: a
	// non-loopback origin, as a web client's would be.
	pageURL := "http://app.test:" + pagePort + "/"

	cmd := exec.Command(chromium,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--enable-logging=stderr", "--v=0",
		"--host-resolver-rules=MAP app.test 127.0.0.1",
		"--user-data-dir="+t.TempDir(), pageURL)
	var stderr lockedBuffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()

	var r map[string]any
	select {
	case r = <-results:
	case <-time.After(90 * time.Second):
		t.Fatalf("the page did not report within 90s; chromium said:\n%s", stderr.String())
	}
	t.Logf("page results: %v", r)

	if r["origin"] != "http://app.test:"+pagePort {
		t.Errorf("page origin %v", r["origin"])
	}
	meta, _ := r["metadata"].(map[string]any)
	if r["metadataStatus"] != 200.0 || meta["resource"] != srv.URL {
		t.Errorf("protected-resource document: %v %v (error %v)", r["metadataStatus"], meta, r["metadataError"])
	}
	wa, _ := r["wwwAuthenticate"].(string)
	if r["unauthorizedStatus"] != 401.0 || !strings.Contains(wa, `resource_metadata="`+srv.Base+`/.well-known/oauth-protected-resource/api/mcp"`) {
		t.Errorf("401 without token: %v, WWW-Authenticate %q (error %v)", r["unauthorizedStatus"], wa, r["unauthorizedError"])
	}
	if r["initializeStatus"] != 200.0 || r["sessionId"] == nil || r["sessionId"] == "" || !strings.Contains(fmt.Sprint(r["initializeBody"]), `"protocolVersion"`) {
		t.Errorf("initialize: %v, session %v, body %.200v (error %v)", r["initializeStatus"], r["sessionId"], r["initializeBody"], r["initializeError"])
	}
	if r["toolsListStatus"] != 200.0 || !strings.Contains(fmt.Sprint(r["toolsListBody"]), "entity_tool") {
		t.Errorf("tools/list: %v %.200v", r["toolsListStatus"], r["toolsListBody"])
	}

	// The console: the control's CORS error must be there (so errors are
	// seen at all), and no other.
	if !strings.Contains(fmt.Sprint(r["controlError"]), "TypeError") {
		t.Errorf("the control fetch did not fail: %v", r["controlError"])
	}
	// The page reports before Chromium has necessarily flushed its console
	// to stderr (CI saw the control's line arrive late), so wait for the
	// control's line, which must come, before reading the rest.
	controlLogged := func(log string) bool { return strings.Contains(log, controlURL) && strings.Contains(log, "CORS") }
	for deadline := time.Now().Add(15 * time.Second); !controlLogged(stderr.String()) && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
	}
	log := stderr.String()
	var corsLines []string
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, "CORS") && !strings.Contains(line, controlURL) {
			corsLines = append(corsLines, line)
		}
	}
	if len(corsLines) > 0 {
		t.Errorf("CORS errors in the console:\n%s", strings.Join(corsLines, "\n"))
	}
	if !controlLogged(log) {
		t.Errorf("chromium did not log the control's CORS error within 15s, so the console check sees nothing; stderr:\n%s", log)
	}
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// lockedBuffer collects a process's output while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
