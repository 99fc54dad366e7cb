package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// lockedBuffer is a bytes.Buffer safe for a server's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string { b.mu.Lock(); defer b.mu.Unlock(); return b.b.String() }

// runSplit runs the root command and returns its stdout and stderr apart.
func runSplit(t *testing.T, stdin string, args ...string) (string, string, error) {
	t.Helper()
	cmd := newRootCmd()
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(t.Context())
	return out.String(), errOut.String(), err
}

// bearer adds a bearer token to every request.
type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

// postInitialize sends an initialize request with the token and returns
// the status.
func postInitialize(t *testing.T, url, token string) int {
	t.Helper()
	body := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// A personal access token works on the MCP endpoint of `atomcp serve`,
// honours its scope, is refused at once after `tokens revoke`, and is
// printed once and never logged.
func TestTokensCommands(t *testing.T) {
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	t.Setenv("ATOMCP_DATABASE_URL", "sqlite://"+filepath.Join(dir, "atomcp.db"))
	t.Setenv("ATOMCP_ADDR", addr)
	t.Setenv("ATOMCP_AUTH", "embedded")
	t.Setenv("ATOMCP_LOG_FORMAT", "json")
	t.Setenv("ATOMCP_LOG_LEVEL", "debug")
	// Per-tool scope checks (off by default, see docs/auth.md).
	t.Setenv("ATOMCP_SCOPE_READ", "atoms:read")
	t.Setenv("ATOMCP_SCOPE_WRITE", "atoms:write")

	if out, _, err := runSplit(t, "s3cret-password\n", "users", "add", "alice@example.com", "--owner"); err != nil {
		t.Fatalf("users add: %v %s", err, out)
	}
	out, stderr, err := runSplit(t, "", "tokens", "create", "--user", "alice@example.com", "--scope", "atoms:read", "--ttl", "90d", "--name", "ci job")
	if err != nil {
		t.Fatalf("tokens create: %v\n%s%s", err, out, stderr)
	}
	m := regexp.MustCompile(`(?m)^token: (\S+)$`).FindStringSubmatch(out)
	id := regexp.MustCompile(`personal access token (pat-\S+) for alice@example.com`).FindStringSubmatch(out)
	if m == nil || id == nil || !strings.Contains(out, "scope: atoms:read\n") || !strings.Contains(out, "resource: http://"+addr+"/api/mcp\n") {
		t.Fatalf("tokens create printed:\n%s", out)
	}
	token := m[1]
	if strings.Count(out, token) != 1 || strings.Contains(stderr, token) {
		t.Errorf("the token must be printed once, on stdout only:\n%s\n--\n%s", out, stderr)
	}
	quiet, _, err := runSplit(t, "", "tokens", "create", "--user", "alice@example.com", "-q")
	if err != nil || strings.Count(quiet, ".") != 2 || strings.Contains(strings.TrimSpace(quiet), "\n") {
		t.Errorf("tokens create -q: %v %q", err, quiet)
	}

	// serve, in this process, on the address the token names.
	logs := &lockedBuffer{}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		cmd := newRootCmd()
		cmd.SetOut(logs)
		cmd.SetErr(logs)
		cmd.SetArgs([]string{"serve"})
		done <- cmd.ExecuteContext(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	url := "http://" + addr + "/api/mcp"
	for deadline := time.Now().Add(30 * time.Second); ; {
		if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start:\n%s", logs)
		}
		time.Sleep(20 * time.Millisecond)
	}

	hc := &http.Client{Transport: bearer{token, http.DefaultTransport}}
	client := mcp.NewClient(&mcp.Implementation{Name: "tokens-test", Version: "1"}, nil)
	cs, err := client.Connect(t.Context(), &mcp.StreamableClientTransport{Endpoint: url, HTTPClient: hc, MaxRetries: -1},
		&mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
	if err != nil {
		t.Fatalf("connect with the token: %v\n%s", err, logs)
	}
	defer cs.Close()
	res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "workspace_tool", Arguments: map[string]any{"operation": "list_workspaces"}})
	if err != nil || res.IsError {
		t.Fatalf("list_workspaces with the token: %v %+v", err, res)
	}
	// The token has atoms:read only: a write is refused.
	_, err = cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "entity_tool", Arguments: map[string]any{
		"operation": "create", "entity_type": "organization", "data": map[string]any{"name": "Nope"}}})
	if err == nil || !strings.Contains(err.Error(), "Forbidden") {
		t.Errorf("a write with an atoms:read token: %v; want a 403", err)
	}

	out, _, err = runSplit(t, "", "tokens", "list")
	if err != nil || !regexp.MustCompile(id[1]+`\s+ci job\s+alice@example.com\s+atoms:read\s+active`).MatchString(out) || strings.Contains(out, token) {
		t.Errorf("tokens list: %v\n%s", err, out)
	}

	if out, _, err := runSplit(t, "", "tokens", "revoke", id[1]); err != nil || !strings.Contains(out, "revoked "+id[1]) {
		t.Fatalf("tokens revoke: %v %s", err, out)
	}
	// At once: no cache to wait for, new connection or old session.
	if st := postInitialize(t, url, token); st != http.StatusUnauthorized {
		t.Errorf("a new request with the revoked token: %d; want 401", st)
	}
	if _, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "workspace_tool", Arguments: map[string]any{"operation": "list_workspaces"}}); err == nil {
		t.Error("the revoked token's session still answers")
	}
	out, _, _ = runSplit(t, "", "tokens", "list")
	if !regexp.MustCompile(id[1] + `\s+ci job\s+alice@example.com\s+atoms:read\s+revoked`).MatchString(out) {
		t.Errorf("tokens list after revoke:\n%s", out)
	}

	for _, bad := range [][]string{
		{"tokens", "create", "--user", "nobody@example.com"},
		{"tokens", "create", "--user", "alice@example.com", "--ttl", "400d"},
		{"tokens", "create", "--user", "alice@example.com", "--ttl", "soon"},
		{"tokens", "create", "--user", "alice@example.com", "--scope", "admin"},
		{"tokens", "revoke", "pat-unknown"},
	} {
		if _, _, err := runSplit(t, "", bad...); err == nil {
			t.Errorf("atomcp %v succeeded", bad)
		}
	}

	sig := token[strings.LastIndex(token, ".")+1:]
	if strings.Contains(logs.String(), sig) {
		t.Errorf("the token is in the server's log:\n%s", logs)
	}
}

func TestTokensNeedEmbeddedAuth(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("ATOMCP_DATABASE_URL", "sqlite://"+filepath.Join(dir, "atomcp.db"))
	t.Setenv("ATOMCP_AUTH", "none")
	if _, _, err := runSplit(t, "s3cret-password\n", "users", "add", "alice@example.com"); err != nil {
		t.Fatal(err)
	}
	_, _, err := runSplit(t, "", "tokens", "create", "--user", "alice@example.com")
	if err == nil || !strings.Contains(err.Error(), "ATOMCP_STATIC_TOKENS") {
		t.Errorf("tokens create with ATOMCP_AUTH=none: %v", err)
	}
	t.Setenv("ATOMCP_AUTH", "embedded")
	t.Setenv("ATOMCP_ADDR", "127.0.0.1:0")
	_, _, err = runSplit(t, "", "tokens", "create", "--user", "alice@example.com")
	if err == nil || !strings.Contains(err.Error(), "port 0") {
		t.Errorf("tokens create with port 0: %v", err)
	}
}

func TestParseTTL(t *testing.T) {
	for in, want := range map[string]time.Duration{"90d": 90 * 24 * time.Hour, "12h": 12 * time.Hour, "1h30m": 90 * time.Minute} {
		if got, err := parseTTL(in); err != nil || got != want {
			t.Errorf("parseTTL(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0d", "-1d", "1.5d", "-2h", "forever"} {
		if _, err := parseTTL(in); err == nil {
			t.Errorf("parseTTL(%q) accepted", in)
		}
	}
}
