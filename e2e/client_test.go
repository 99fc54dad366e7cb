package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The atomcp MCP client (`atomcp login`, `tools`, `resources`, `prompts`,
// `logout`) as a user runs it, against `atomcp serve`.

// cli is one run of the atomcp client binary.
type cli struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdout bytes.Buffer
	mu     sync.Mutex
	stderr bytes.Buffer
	lines  chan string
	done   chan struct{}
}

// clientEnv is the environment of client runs: a home of their own, so
// the token cache lives in home/.config/atomcp.
func clientEnv(home string, extra ...string) []string {
	return append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, "cfg"), "BROWSER="}, extra...)
}

func startCLI(t *testing.T, env []string, args ...string) *cli {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	c := &cli{t: t, lines: make(chan string, 100), done: make(chan struct{})}
	c.cmd = exec.CommandContext(ctx, binary, args...)
	c.cmd.Env = env
	c.cmd.Stdout = &c.stdout
	errPipe, err := c.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(c.done)
		defer close(c.lines)
		sc := bufio.NewScanner(errPipe)
		for sc.Scan() {
			c.mu.Lock()
			c.stderr.WriteString(sc.Text() + "\n")
			c.mu.Unlock()
			select {
			case c.lines <- sc.Text():
			default:
			}
		}
	}()
	return c
}

// loginURL waits for the authorization URL the client prints with
// --no-browser.
func (c *cli) loginURL() string {
	c.t.Helper()
	for line := range c.lines {
		if u := strings.TrimSpace(line); strings.HasPrefix(u, "http") && strings.Contains(u, "code_challenge=") {
			return u
		}
	}
	out, errOut, code := c.wait()
	c.t.Fatalf("the client printed no login URL (exit %d)\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	return ""
}

func (c *cli) wait() (string, string, int) {
	c.t.Helper()
	<-c.done
	err := c.cmd.Wait()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		c.t.Fatal(err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stdout.String(), c.stderr.String(), code
}

// runCLI runs the client to the end.
func runCLI(t *testing.T, env []string, args ...string) (string, string, int) {
	t.Helper()
	return startCLI(t, env, args...).wait()
}

func TestClientAgainstServeWithoutAuth(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir)
	env := clientEnv(t.TempDir())

	out, errOut, code := runCLI(t, env, "tools", "list", s.URL)
	if code != 0 || !strings.Contains(out, "workspace_tool — ") || !strings.Contains(out, "arguments: operation* (string)") {
		t.Fatalf("tools list: exit %d\n%s\n%s", code, out, errOut)
	}
	out, _, code = runCLI(t, env, "tools", "list", s.URL, "--json")
	var listed struct {
		Tools []struct {
			Name        string         `json:"name"`
			InputSchema map[string]any `json:"inputSchema"`
		} `json:"tools"`
	}
	if err := json.Unmarshal([]byte(out), &listed); err != nil || code != 0 || len(listed.Tools) < 5 || listed.Tools[0].InputSchema["type"] != "object" {
		t.Fatalf("tools list --json: exit %d, %v\n%s", code, err, out)
	}

	// --arg, typed by the input schema; the result as text.
	out, errOut, code = runCLI(t, env, "tools", "call", s.URL, "entity_tool", "--arg", "entity_type=organization", "--arg", "operation=create",
		"--arg", `data={"name":"Client E2E Org"}`, "--arg", "format_type=summary")
	if code != 0 || !strings.Contains(out, "Client E2E Org") {
		t.Fatalf("tools call --arg: exit %d\n%s\n%s", code, out, errOut)
	}
	// --json '{…}' as the arguments; --json alone as the output format.
	out, errOut, code = runCLI(t, env, "tools", "call", s.URL, "workspace_tool", "--json", `{"operation":"list_workspaces"}`)
	if code != 0 || !strings.Contains(out, "Client E2E Org") {
		t.Fatalf("tools call --json '{…}': exit %d\n%s\n%s", code, out, errOut)
	}
	out, _, code = runCLI(t, env, "tools", "call", s.URL, "workspace_tool", "--json", "--input", `{"operation":"get_defaults"}`)
	var res struct {
		Content []map[string]any `json:"content"`
		IsError bool             `json:"isError"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || code != 0 || res.IsError || len(res.Content) == 0 {
		t.Fatalf("tools call --json --input: exit %d %v\n%s", code, err, out)
	}
	// A tool error: exit 1, one line naming the tool and the problem.
	out, errOut, code = runCLI(t, env, "tools", "call", s.URL, "entity_tool", "--arg", "entity_type=organization", "--arg", "operation=explode")
	if code != 1 || !strings.HasPrefix(errOut, "atomcp: the tool entity_tool reported an error:") || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		t.Fatalf("tool error: exit %d\nstdout %q\nstderr %q", code, out, errOut)
	}
	// Bad arguments are refused before anything is sent.
	_, errOut, code = runCLI(t, env, "tools", "call", s.URL, "workspace_tool", "--json", `[1,2]`)
	if code != 1 || !strings.Contains(errOut, "unexpected argument") {
		t.Fatalf("array as arguments: exit %d %q", code, errOut)
	}
	_, errOut, code = runCLI(t, env, "tools", "call", s.URL, "entity_tool", "--arg", "limit=many", "--arg", "operation=list", "--arg", "entity_type=project")
	if code != 1 || !strings.Contains(errOut, "--arg limit=many: the tool wants an integer") {
		t.Fatalf("--arg of the wrong type: exit %d %q", code, errOut)
	}

	out, errOut, code = runCLI(t, env, "prompts", "list", s.URL)
	if code != 0 || !strings.Contains(out, "atoms_getting_started") {
		t.Fatalf("prompts list: exit %d\n%s\n%s", code, out, errOut)
	}
	out, errOut, code = runCLI(t, env, "prompts", "get", s.URL, "atoms_getting_started")
	if code != 0 || !strings.Contains(out, "[user]") && !strings.Contains(out, "[assistant]") {
		t.Fatalf("prompts get: exit %d\n%s\n%s", code, out, errOut)
	}
	out, errOut, code = runCLI(t, env, "resources", "list", s.URL, "--json")
	if code != 0 || !strings.Contains(out, "traceability-matrix") {
		t.Fatalf("resources list: exit %d\n%s\n%s", code, out, errOut)
	}
	// Nothing was logged in or cached: the server wants no token.
	if _, err := os.Stat(filepath.Join(env[2][len("XDG_CONFIG_HOME="):], "atomcp", "tokens")); err == nil {
		entries, _ := os.ReadDir(filepath.Join(env[2][len("XDG_CONFIG_HOME="):], "atomcp", "tokens"))
		if len(entries) != 0 {
			t.Errorf("tokens were stored for a server without auth: %v", entries)
		}
	}
}

func TestClientBadInput(t *testing.T) {
	env := clientEnv(t.TempDir())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + ln.Addr().String() + "/api/mcp"
	ln.Close()

	s := startServer(t, t.TempDir())
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"server down", []string{"tools", "list", down}, "cannot reach the MCP server at " + down + ": connection refused"},
		{"wrong path", []string{"tools", "list", s.Base + "/nope"}, "answered HTTP 404: is this the MCP endpoint?"},
		{"not a URL", []string{"tools", "list", "localhost:8000"}, "is not an MCP server URL"},
		{"bad header", []string{"tools", "list", s.URL, "--header", "NoColon"}, `--header "NoColon" is not "Name: value"`},
		{"unknown tool with --arg", []string{"tools", "call", s.URL, "nosuch", "--arg", "a=1"}, `has no tool "nosuch"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := runCLI(t, env, tt.args...)
			if code == 0 || !strings.Contains(errOut, tt.want) || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
				t.Fatalf("exit %d; stderr %q (want one line with %q); stdout %q", code, errOut, tt.want, out)
			}
		})
	}
}

func TestClientWithStaticToken(t *testing.T) {
	const token = "e2e-internal-token-0123456789abcdef"
	s := startServer(t, t.TempDir(), "ATOMCP_AUTH=static", "ATOMS_INTERNAL_TOKEN="+token)
	env := clientEnv(t.TempDir())

	out, errOut, code := runCLI(t, env, "tools", "list", s.URL, "--token", token)
	if code != 0 || !strings.Contains(out, "workspace_tool") {
		t.Fatalf("--token: exit %d\n%s\n%s", code, out, errOut)
	}
	out, errOut, code = runCLI(t, append(env, "ATOMCP_TOKEN="+token), "tools", "call", s.URL, "workspace_tool", "--arg", "operation=get_context")
	if code != 0 || !strings.Contains(out, "organization") {
		t.Fatalf("ATOMCP_TOKEN: exit %d\n%s\n%s", code, out, errOut)
	}
	out, errOut, code = runCLI(t, env, "tools", "list", s.URL, "--header", "Authorization: Bearer "+token)
	if code != 0 || !strings.Contains(out, "workspace_tool") {
		t.Fatalf("--header Authorization: exit %d\n%s\n%s", code, out, errOut)
	}
	// A wrong token: refused, and neither token is printed.
	out, errOut, code = runCLI(t, env, "tools", "list", s.URL, "--token", "wrong-"+token)
	if code != 1 || !strings.Contains(errOut, "refused the token it was given (HTTP 401)") || strings.Contains(out+errOut, token) {
		t.Fatalf("wrong token: exit %d\n%s\n%s", code, out, errOut)
	}
	// No token: the server has no authorization server to log in with.
	_, errOut, code = runCLI(t, env, "tools", "list", s.URL, "--no-browser")
	if code != 1 || !strings.Contains(errOut, "lists no authorization_servers") {
		t.Fatalf("no token: exit %d %q", code, errOut)
	}
}

// approve plays the user in a browser at the embedded authorization
// server: sign in if asked, allow, and follow the redirect to the client's
// loopback callback.
func approve(t *testing.T, b *browser, authURL, email, password string) {
	t.Helper()
	cur, _ := url.Parse(authURL)
	r, page := b.do(http.MethodGet, authURL, nil)
	for range 6 {
		switch {
		case r.StatusCode/100 == 3:
			next, err := cur.Parse(r.Header.Get("Location"))
			if err != nil {
				t.Fatal(err)
			}
			if next.Hostname() == "127.0.0.1" && next.Path == "/oauth/callback" {
				cr, cpage := b.do(http.MethodGet, next.String(), nil)
				if cr.StatusCode != 200 || !strings.Contains(cpage, "close this tab") {
					t.Fatalf("callback page: %d %s", cr.StatusCode, cpage)
				}
				return
			}
			cur = next
			r, page = b.do(http.MethodGet, next.String(), nil)
		case strings.Contains(page, `name="password"`):
			r, page = b.submit(page, url.Values{"email": {email}, "password": {password}})
		case strings.Contains(page, `value="allow"`):
			r, page = b.submit(page, url.Values{"decision": {"allow"}})
		default:
			t.Fatalf("unexpected page (%d):\n%s", r.StatusCode, page)
		}
	}
	t.Fatal("no redirect to the callback after six steps")
}

func TestClientOAuthWithEmbeddedServer(t *testing.T) {
	dir := t.TempDir()
	addUser(t, dir, "bob@example.com", "bob-password-1", "--name", "Bob", "--owner")
	s := startServer(t, dir, "ATOMCP_AUTH=embedded", "ATOMCP_SCOPE_READ=atoms:read", "ATOMCP_SCOPE_WRITE=atoms:write")
	home := t.TempDir()
	env := clientEnv(home)
	b := newBrowser(t)

	// login: discovery, registration, the pages, the callback, the cache.
	c := startCLI(t, env, "login", s.URL, "--no-browser")
	approve(t, b, c.loginURL(), "bob@example.com", "bob-password-1")
	out, errOut, code := c.wait()
	if code != 0 || !strings.Contains(out, "Logged in to "+s.URL) || !strings.Contains(out, "authorization server: "+s.Base) || !strings.Contains(out, "registered dynamically") {
		t.Fatalf("login: exit %d\n%s\n%s", code, out, errOut)
	}
	cache := filepath.Join(home, "cfg", "atomcp")
	var tokenFile string
	filepath.WalkDir(cache, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, _ := d.Info()
		want := fs.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s has mode %o; want %o", p, fi.Mode().Perm(), want)
		}
		if strings.Contains(p, string(filepath.Separator)+"tokens"+string(filepath.Separator)) {
			tokenFile = p
		}
		return nil
	})
	raw, err := os.ReadFile(tokenFile)
	if err != nil {
		t.Fatalf("no token file in %s: %v", cache, err)
	}
	var rec struct {
		AccessToken string `json:"access_token"`
	}
	json.Unmarshal(raw, &rec)
	if rec.AccessToken == "" || strings.Contains(out+errOut, rec.AccessToken) {
		t.Fatalf("the token is missing from the cache or was printed without --show-token")
	}

	// The kept token is used: no login URL, the call works as Bob.
	out, errOut, code = runCLI(t, env, "tools", "call", s.URL, "workspace_tool", "--arg", "operation=list_workspaces", "--no-browser", "--login-timeout", "2s")
	if code != 0 || strings.Contains(errOut, "code_challenge") || !strings.Contains(out, "Bob") {
		t.Fatalf("call with the kept token: exit %d\n%s\n%s", code, out, errOut)
	}

	// Step-up: a login for atoms:read only, then a write gets 403
	// insufficient_scope; the client logs in again for both scopes and the
	// write goes through.
	c = startCLI(t, env, "login", s.URL, "--no-browser", "--scope", "atoms:read")
	approve(t, b, c.loginURL(), "bob@example.com", "bob-password-1")
	if out, errOut, code := c.wait(); code != 0 || !strings.Contains(out, "scopes:               atoms:read\n") {
		t.Fatalf("login --scope atoms:read: exit %d\n%s\n%s", code, out, errOut)
	}
	c = startCLI(t, env, "tools", "call", s.URL, "entity_tool", "--no-browser",
		"--arg", "entity_type=organization", "--arg", "operation=create", "--arg", `data={"name":"Stepped Up Org"}`)
	stepURL := c.loginURL()
	if q, _ := url.Parse(stepURL); !strings.Contains(q.Query().Get("scope"), "atoms:read") || !strings.Contains(q.Query().Get("scope"), "atoms:write") {
		t.Errorf("step-up asked for %q; want atoms:read and atoms:write", q.Query().Get("scope"))
	}
	approve(t, b, stepURL, "bob@example.com", "bob-password-1")
	if out, errOut, code := c.wait(); code != 0 || !strings.Contains(out, "Stepped Up Org") {
		t.Fatalf("write after step-up: exit %d\n%s\n%s", code, out, errOut)
	}

	// --show-token prints it, on request only.
	c = startCLI(t, env, "login", s.URL, "--no-browser", "--show-token", "--json")
	approve(t, b, c.loginURL(), "bob@example.com", "bob-password-1")
	out, errOut, code = c.wait()
	var shown map[string]any
	if err := json.Unmarshal([]byte(out), &shown); code != 0 || err != nil || shown["access_token"] == "" || shown["issuer"] != s.Base {
		t.Fatalf("login --show-token --json: exit %d %v\n%s\n%s", code, err, out, errOut)
	}

	// logout forgets it: the next call must log in again (and nobody does).
	out, _, code = runCLI(t, env, "logout", s.URL)
	if code != 0 || !strings.Contains(out, "Logged out of "+s.URL) || !strings.Contains(out, "client registration") {
		t.Fatalf("logout: exit %d %s", code, out)
	}
	_, errOut, code = runCLI(t, env, "tools", "list", s.URL, "--no-browser", "--login-timeout", "1s")
	if code != 1 || !strings.Contains(errOut, "atomcp: nobody completed the login at "+s.Base+" within 1s") {
		t.Fatalf("after logout: exit %d %q", code, errOut)
	}
	// The refusal of a login is one sentence.
	c = startCLI(t, env, "login", s.URL, "--no-browser")
	authURL := c.loginURL()
	r, page := b.do(http.MethodGet, authURL, nil)
	if !strings.Contains(page, `value="deny"`) {
		t.Fatalf("no deny button on the consent page (%d):\n%s", r.StatusCode, page)
	}
	r, _ = b.submit(page, url.Values{"decision": {"deny"}})
	if r.StatusCode/100 != 3 {
		t.Fatalf("deny: %d; want a redirect to the callback", r.StatusCode)
	}
	b.do(http.MethodGet, r.Header.Get("Location"), nil)
	_, errOut, code = c.wait()
	if code != 1 || !strings.Contains(errOut, "atomcp: the authorization server refused the login: access_denied") || strings.Count(errOut, "code_challenge=") != 1 {
		t.Fatalf("denied login: exit %d %q", code, errOut)
	}
}
