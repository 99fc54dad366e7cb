package e2e

import (
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// tab is one Chromium page, in its own browser context (its own cookies)
// when the test needs two people at once.
type tab struct {
	t       *testing.T
	b       *cdp
	session string
}

func (b *cdp) newTab(t *testing.T, ownCookies bool) *tab {
	t.Helper()
	params := map[string]any{"url": "about:blank"}
	if ownCookies {
		params["browserContextId"] = b.call(t, "", "Target.createBrowserContext", map[string]any{})["browserContextId"]
	}
	target := b.call(t, "", "Target.createTarget", params)["targetId"]
	session, _ := b.call(t, "", "Target.attachToTarget", map[string]any{"targetId": target, "flatten": true})["sessionId"].(string)
	b.call(t, session, "Emulation.setDeviceMetricsOverride", map[string]any{"width": 1100, "height": 900, "deviceScaleFactor": 1, "mobile": false})
	return &tab{t: t, b: b, session: session}
}

func (p *tab) eval(expr string) string {
	p.t.Helper()
	res := p.b.call(p.t, p.session, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true})
	v, _ := res["result"].(map[string]any)
	if v == nil {
		return ""
	}
	return fmt.Sprint(v["value"])
}

// open navigates and waits until the page at path (location.pathname) loaded.
func (p *tab) open(u, path string) {
	p.t.Helper()
	p.b.call(p.t, p.session, "Page.navigate", map[string]any{"url": u})
	p.waitFor("page "+path, path)
}

// waitFor polls until the loaded page's path is path.
func (p *tab) waitFor(what, path string) {
	p.t.Helper()
	const loaded = `document.readyState + " " + location.pathname`
	deadline := time.Now().Add(60 * time.Second)
	last := ""
	for time.Now().Before(deadline) {
		if last = p.eval(loaded); last == "complete "+path {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	p.t.Fatalf("%s: got %q\npage: %.2000s\nchromium said:\n%s", what, last, p.eval("document.body ? document.body.innerText : ''"), p.b.stderr.String())
}

// waitText polls until the page's text contains want.
func (p *tab) waitText(what, want string) string {
	p.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	body := ""
	for time.Now().Before(deadline) {
		if body = p.eval("document.readyState == 'complete' && document.body ? document.body.innerText : ''"); strings.Contains(body, want) {
			return body
		}
		time.Sleep(200 * time.Millisecond)
	}
	p.t.Fatalf("%s: the page never said %q:\n%.3000s", what, want, body)
	return ""
}

// submit clicks the submit button of the form holding the element sel.
func (p *tab) submit(sel string) {
	p.t.Helper()
	if got := p.eval(`(() => { const e = document.querySelector(` + jsString(sel) + `); if (!e) return "missing"; e.form.querySelector("button[type=submit]").click(); return "ok" })()`); got != "ok" {
		p.t.Fatalf("no %s on the page: %s\n%.2000s", sel, got, p.eval("document.body.innerText"))
	}
}

// signIn fills the sign-in page's password form.
func (p *tab) signIn(email, password string) {
	p.t.Helper()
	p.eval(`document.getElementById("email").value = ` + jsString(email) + `; document.getElementById("password").value = ` + jsString(password))
	p.submit("#password")
}

// checkPage compares the page's structure with docs/screenshots/NAME.txt
// and, with ATOMCP_SCREENSHOT_DIR set, saves NAME.png there.
func (p *tab) checkPage(name string) {
	p.t.Helper()
	golden, err := os.ReadFile(filepath.Join("..", "docs", "screenshots", name+".txt"))
	if err != nil {
		p.t.Fatal(err)
	}
	if got := p.eval(accountStructure); got != strings.TrimSpace(string(golden)) {
		p.t.Errorf("the page's structure differs from docs/screenshots/%s.txt (update it and the screenshot):\n%s", name, got)
	}
	if out := os.Getenv("ATOMCP_SCREENSHOT_DIR"); out != "" {
		shot := p.b.call(p.t, p.session, "Page.captureScreenshot", map[string]any{"format": "png", "captureBeyondViewport": true})
		png, err := base64.StdEncoding.DecodeString(fmt.Sprint(shot["data"]))
		if err != nil || len(png) == 0 {
			p.t.Fatalf("screenshot: %v", err)
		}
		if err := os.WriteFile(filepath.Join(out, name+".png"), png, 0o644); err != nil {
			p.t.Fatal(err)
		}
	}
}

// TestAdminBrowser drives /admin and /invite in headless Chromium: the
// server's owner invites an existing account into an organization by
// link, that person opens the link in her own browser, signs in and
// accepts; the owner makes her a viewer of a project; and her tool call
// that writes there (through /api/mcp) is refused with an error naming
// the project and the role it needs. It checks both pages' structure
// against docs/screenshots/admin.txt and invite.txt, and with
// ATOMCP_SCREENSHOT_DIR set saves admin.png and invite.png there.
func TestAdminBrowser(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is not installed, and CI is set: scripts/test.sh runs scripts/install-chromium.sh, which failed or was skipped")
		}
		t.Skip("chromium not installed: run scripts/install-chromium.sh")
	}
	dir := t.TempDir()
	addUser(t, dir, "alice@example.com", "alice-password", "--name", "Alice Owner", "--owner")
	addUser(t, dir, "bob@example.com", "bob-password", "--name", "Bob Member")
	addr := freeAddr(t)
	token := func(email string) string {
		cmd := exec.Command(binary, "tokens", "create", "--user", email, "-q")
		cmd.Dir = dir
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "ATOMCP_ADDR=" + addr, "ATOMCP_DATABASE_URL=sqlite://" + filepath.Join(dir, "atomcp.db")}
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("tokens create --user %s: %v", email, err)
		}
		return strings.TrimSpace(string(out))
	}
	aliceToken, bobToken := token("alice@example.com"), token("bob@example.com")
	s := startServerEnv(t, dir, "http://"+addr, "ATOMCP_AUTH=embedded", "ATOMCP_ADDR="+addr)

	// Alice's organization and project, through MCP.
	alice, err := connectWithToken(t, s.URL, aliceToken)
	if err != nil {
		t.Fatal(err)
	}
	org := entityOf(t, mustCall(t, alice, "entity_tool", map[string]any{"entity_type": "organization", "operation": "create", "data": map[string]any{"name": "Team"}}))["id"].(string)
	project := entityOf(t, mustCall(t, alice, "entity_tool", map[string]any{"entity_type": "project", "operation": "create", "data": map[string]any{"name": "Launch", "organization_id": org}}))["id"].(string)
	bob, err := connectWithToken(t, s.URL, bobToken)
	if err != nil {
		t.Fatal(err)
	}

	b := startChromium(t, chromium)
	at := b.newTab(t, false)
	at.open(s.Base+"/admin?org="+org, "/oauth/login")
	at.signIn("alice@example.com", "alice-password")
	at.waitFor("admin page", "/admin")
	at.waitText("admin page", "Members of Team")

	// Invite bob by link.
	at.eval(`document.getElementById("invite-email").value = "bob@example.com"; document.getElementById("invite-role").value = "member"`)
	at.submit("#invite-email")
	at.waitFor("invitation made", "/admin/invite")
	link := at.eval(`document.querySelector("code.secret").textContent`)
	if !strings.HasPrefix(link, s.Base+"/invite?token=") {
		t.Fatalf("no invitation link on the page: %q", link)
	}
	if r := call(t, bob, "entity_tool", map[string]any{"entity_type": "project", "operation": "read", "entity_id": project}); !r.IsError {
		t.Fatal("bob reads Team's project before accepting the invitation")
	}
	at.open(s.Base+"/admin?org="+org, "/admin")
	at.waitText("admin page with the invitation", "pending")
	at.checkPage("admin")

	// Bob, in his own browser, opens the link, signs in and accepts.
	bt := b.newTab(t, true)
	bt.open(link, "/invite")
	bt.waitText("invitation page", "Sign in to answer")
	bt.eval(`document.querySelector("a.button.primary").click()`)
	bt.waitFor("sign-in page", "/oauth/login")
	bt.signIn("bob@example.com", "bob-password")
	bt.waitFor("back on the invitation", "/invite")
	bt.waitText("invitation page signed in", "Your answer")
	bt.checkPage("invite")
	bt.submit(`input[name=answer][value=accept]`)
	bt.waitText("accepted", "You accepted")
	mustCall(t, bob, "entity_tool", map[string]any{"entity_type": "project", "operation": "read", "entity_id": project})

	// Alice makes bob a viewer of the project.
	at.open(s.Base+"/admin?org="+org, "/admin")
	at.waitText("admin page with bob", "bob@example.com")
	if got := at.eval(`(() => { const s = document.getElementById("pm-user-` + project + `"); const o = Array.from(s.options).find(o => o.textContent == "bob@example.com"); if (!o) return "missing"; s.value = o.value; document.getElementById("pm-role-` + project + `").value = "viewer"; return "ok" })()`); got != "ok" {
		t.Fatalf("bob is not among the project form's members: %s", got)
	}
	at.submit("#pm-user-" + project)
	at.waitText("project role saved", "The project role was saved")

	// Bob's write in the project is refused, naming the project and the role.
	r := call(t, bob, "entity_tool", map[string]any{"entity_type": "document", "operation": "create", "data": map[string]any{"name": "Bob's notes", "project_id": project}})
	if !r.IsError || !strings.Contains(r.Text, project) || !strings.Contains(r.Text, "viewer") || !strings.Contains(r.Text, "member role") {
		t.Fatalf("a project viewer's write: error=%v %q; want a refusal naming the project, the viewer role and the member role needed", r.IsError, r.Text)
	}
}
