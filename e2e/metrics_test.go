package e2e

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// sample is one line of the Prometheus text format.
type sample struct {
	name   string
	labels map[string]string
	value  float64
}

var labelPair = regexp.MustCompile(`(\w+)="((?:[^"\\]|\\.)*)"`)

// scrape reads and parses a /metrics page.
func scrape(t *testing.T, u string) (samples []sample, raw string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET %s: %d %q", u, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, line := range strings.Split(string(body), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("bad sample %q", line)
		}
		head := line[:i]
		s := sample{name: head, labels: map[string]string{}, value: v}
		if j := strings.IndexByte(head, '{'); j >= 0 {
			s.name = head[:j]
			for _, m := range labelPair.FindAllStringSubmatch(head[j:], -1) {
				s.labels[m[1]] = m[2]
			}
		}
		samples = append(samples, s)
	}
	return samples, string(body)
}

// find sums the samples of name whose labels include want.
func find(samples []sample, name string, want map[string]string) (total float64, found bool) {
	for _, s := range samples {
		if s.name != name {
			continue
		}
		ok := true
		for k, v := range want {
			if s.labels[k] != v {
				ok = false
			}
		}
		if ok {
			total += s.value
			found = true
		}
	}
	return total, found
}

// TestMetricsAfterTraffic scrapes /metrics of a real server after tool
// calls, a failed and a successful sign-in, a token exchange and refused
// tokens, and finds each family with the labels an operator queries; no
// label carries the user's email or a token.
func TestMetricsAfterTraffic(t *testing.T) {
	dir := t.TempDir()
	addUser(t, dir, "metrics@example.com", "metrics-password", "--name", "Metrics", "--owner")
	addr := freeAddr(t)
	create := exec.Command(binary, "tokens", "create", "--user", "metrics@example.com", "-q")
	create.Dir = dir
	create.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "ATOMCP_ADDR=" + addr, "ATOMCP_DATABASE_URL=sqlite://" + filepath.Join(dir, "atomcp.db")}
	out, err := create.Output()
	if err != nil {
		t.Fatalf("tokens create: %v", err)
	}
	token := strings.TrimSpace(string(out))
	s := startServerEnv(t, dir, "http://"+addr, "ATOMCP_AUTH=embedded", "ATOMCP_ADDR="+addr)

	// Tool calls with a personal access token, in a 2025-11-25 session
	// (initialize, an active session) and without one (2026-07-28).
	client := mcp.NewClient(&mcp.Implementation{Name: "atomcp-e2e", Version: "1"}, nil)
	cs, err := client.Connect(t.Context(), &mcp.StreamableClientTransport{Endpoint: s.URL,
		HTTPClient: &http.Client{Transport: bearerTransport{token}}, MaxRetries: -1}, &mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	stateless, err := connectWithToken(t, s.URL, token)
	if err != nil {
		t.Fatal(err)
	}
	mustCall(t, stateless, "workspace_tool", map[string]any{"operation": "list_workspaces"})
	mustCall(t, cs, "workspace_tool", map[string]any{"operation": "list_workspaces"})
	mustCall(t, cs, "entity_tool", map[string]any{"entity_type": "organization", "operation": "create", "data": map[string]any{"name": "Metrics Org"}})
	if r := call(t, cs, "entity_tool", map[string]any{"entity_type": "requirement", "operation": "read", "entity_id": "no-such-requirement"}); !r.IsError {
		t.Fatalf("reading a missing requirement succeeded")
	}

	// Refused: no token, a token that is not a JWT.
	rawPost(t, s.URL, nil, initializeBody)
	rawPost(t, s.URL, map[string]string{"Authorization": "Bearer not-a-jwt"}, initializeBody)

	// Registration, a wrong and a right password, consent, tokens.
	const redirect = "http://127.0.0.1:9/callback"
	regResp, err := http.Post(s.Base+"/oauth/register", "application/json",
		strings.NewReader(`{"redirect_uris":["`+redirect+`"],"token_endpoint_auth_method":"none","client_name":"metrics client"}`))
	if err != nil {
		t.Fatal(err)
	}
	var reg map[string]any
	_ = json.NewDecoder(regResp.Body).Decode(&reg)
	regResp.Body.Close()
	clientID, _ := reg["client_id"].(string)
	verifier := strings.Repeat("metrics-verifier-", 4)
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {redirect}, "state": {"s"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}, "resource": {s.URL}}
	b := newBrowser(t)
	_, page := b.do(http.MethodGet, s.Base+"/oauth/authorize?"+q.Encode(), nil)
	r, page := b.submit(page, url.Values{"email": {"metrics@example.com"}, "password": {"wrong-password"}})
	if r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d", r.StatusCode)
	}
	r, page = b.submit(page, url.Values{"email": {"metrics@example.com"}, "password": {"metrics-password"}})
	if r.StatusCode != 200 {
		t.Fatalf("sign-in: %d\n%s", r.StatusCode, page)
	}
	r, _ = b.submit(page, url.Values{"decision": {"allow"}})
	loc, _ := url.Parse(r.Header.Get("Location"))
	if status, tok := postForm(t, s.Base+"/oauth/token", url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")},
		"redirect_uri": {redirect}, "code_verifier": {verifier}, "client_id": {clientID}, "resource": {s.URL}}); status != 200 {
		t.Fatalf("token: %d %v", status, tok)
	}

	samples, raw := scrape(t, s.Base+"/metrics")
	for _, c := range []struct {
		name   string
		labels map[string]string
		min    float64
	}{
		{"atomcp_mcp_requests_total", map[string]string{"method": "tools/call", "tool": "workspace_tool", "outcome": "ok"}, 1},
		{"atomcp_mcp_requests_total", map[string]string{"method": "tools/call", "tool": "entity_tool", "outcome": "ok"}, 1},
		{"atomcp_mcp_requests_total", map[string]string{"method": "tools/call", "tool": "entity_tool", "outcome": "tool_error"}, 1},
		{"atomcp_mcp_requests_total", map[string]string{"method": "tools/call", "tool": "query_tool", "outcome": "ok"}, 0},
		{"atomcp_mcp_requests_total", map[string]string{"method": "initialize", "tool": "", "outcome": "ok"}, 1},
		{"atomcp_mcp_request_duration_seconds_count", map[string]string{"method": "tools/call", "tool": "entity_tool"}, 2},
		{"atomcp_mcp_request_duration_seconds_bucket", map[string]string{"method": "tools/call", "tool": "workspace_tool", "le": "+Inf"}, 1},
		{"atomcp_auth_requests_total", map[string]string{"reason": "ok"}, 3},
		{"atomcp_auth_requests_total", map[string]string{"reason": "missing_token"}, 1},
		{"atomcp_auth_requests_total", map[string]string{"reason": "malformed"}, 1},
		{"atomcp_auth_requests_total", map[string]string{"reason": "expired"}, 0},
		{"atomcp_authserver_events_total", map[string]string{"event": "client_registered"}, 1},
		{"atomcp_authserver_events_total", map[string]string{"event": "sign_in_failed"}, 1},
		{"atomcp_authserver_events_total", map[string]string{"event": "sign_in_ok"}, 1},
		{"atomcp_authserver_events_total", map[string]string{"event": "tokens_issued"}, 1},
		{"atomcp_authserver_events_total", map[string]string{"event": "refresh_token_reuse"}, 0},
		{"atomcp_mcp_sessions_active", nil, 1},
		{"atomcp_store_operation_duration_seconds_count", map[string]string{"operation": "CreateEntity", "outcome": "ok"}, 1},
		{"atomcp_store_operation_duration_seconds_count", map[string]string{"operation": "CreateOAuthClient", "outcome": "ok"}, 1},
		{"atomcp_store_operations_in_flight", nil, 0},
		{"atomcp_embedding_queue_length", nil, 0},
		{"atomcp_store_sqlite_page_cache_bytes", nil, 1}, // the writes above filled the writer's page cache
		{"atomcp_http_requests_total", map[string]string{"route": "mcp", "code": "2xx"}, 1},
		{"atomcp_http_requests_total", map[string]string{"route": "mcp", "code": "4xx"}, 2},
		{"atomcp_http_requests_total", map[string]string{"route": "oauth", "code": "2xx"}, 1},
		{"atomcp_build_info", nil, 1},
		{"go_goroutines", nil, 1},
		{"process_resident_memory_bytes", nil, 1},
	} {
		got, ok := find(samples, c.name, c.labels)
		if !ok || got < c.min {
			t.Errorf("%s%v = %v (present %v); want at least %v", c.name, c.labels, got, ok, c.min)
		}
	}
	for _, secret := range []string{"metrics@example.com", token, "not-a-jwt", "Metrics Org"} {
		if strings.Contains(raw, secret) {
			t.Errorf("/metrics contains %q", secret)
		}
	}
}
