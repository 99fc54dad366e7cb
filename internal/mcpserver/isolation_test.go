package mcpserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sdkauth "github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/atomcp/atomcp/internal/atoms"
	"github.com/atomcp/atomcp/internal/httpserver"
	"github.com/atomcp/atomcp/internal/mcpserver"
	"github.com/atomcp/atomcp/internal/store/sqlite"
)

// bearer adds a token to every request.
type bearer struct{ token string }

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}

// TestOneUsersLoadLeavesAnotherUsersLatency: four hostile clients of one
// user, sending 1 MB and longest-allowed searches as fast as they are
// answered, leave another user's tool calls within 2× their p99 without
// that load (issue 18). What holds them: the length limits refuse the
// 1 MB terms before any search, search cost is bounded, and the per-user
// rate and concurrency limits (ATOMCP_TOOL_*) hold the hostile user to
// its rate by making its requests wait, which costs no CPU.
func TestOneUsersLoadLeavesAnotherUsersLatency(t *testing.T) {
	// A latency ratio is a measurement, not a unit test: on a machine that
	// runs other packages' tests at the same time (go test ./... on two
	// cores, as CI does) it measures the neighbours. It runs when asked:
	// ATOMCP_MEASURE_ISOLATION=1 go test ./internal/mcpserver -run OneUsersLoad -v
	// (docs/security.md has the figures).
	if testing.Short() || os.Getenv("ATOMCP_MEASURE_ISOLATION") == "" {
		t.Skip("a latency measurement: set ATOMCP_MEASURE_ISOLATION=1 to run it on a quiet machine")
	}
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "iso.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	identify := func(_ context.Context, req *mcp.CallToolRequest) (atoms.Caller, error) {
		u := req.Extra.TokenInfo.UserID
		return atoms.Caller{Issuer: "https://issuer.test", Subject: u, Email: u + "@example.com", EmailVerified: true, Name: u}, nil
	}
	server := mcpserver.New(atoms.New(st), mcpserver.Options{Caller: identify, RequestTimeout: 30 * time.Second})
	verify := func(_ context.Context, token string, _ *http.Request) (*sdkauth.TokenInfo, error) {
		return &sdkauth.TokenInfo{UserID: token, Expiration: time.Now().Add(time.Hour)}, nil
	}
	front := httpserver.New(server, httpserver.Options{
		MaxBodyBytes: 4 << 20,
		Auth:         sdkauth.RequireBearerToken(verify, nil),
		Limits:       httpserver.Limits{Tools: httpserver.ToolLimits{Rate: 10, Burst: 20, Concurrency: 4}},
	})
	ts := httptest.NewServer(front)
	defer ts.Close()
	url := ts.URL + "/api/mcp"

	connect := func(user string) *mcp.ClientSession {
		cs, err := mcp.NewClient(&mcp.Implementation{Name: user, Version: "1"}, nil).Connect(ctx,
			&mcp.StreamableClientTransport{Endpoint: url, HTTPClient: &http.Client{Transport: bearer{user}}, DisableStandaloneSSE: true}, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cs.Close() })
		return cs
	}
	call := func(cs *mcp.ClientSession, args map[string]any) map[string]any {
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "entity_tool", Arguments: args})
		if err != nil || res.IsError {
			t.Fatalf("%v: %v %v", args, err, res)
		}
		b, _ := json.Marshal(res.StructuredContent)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		return m
	}
	// Each user has an organization with 200 requirements.
	for _, user := range []string{"victim", "mallory"} {
		cs := connect(user)
		org := call(cs, map[string]any{"entity_type": "organization", "operation": "create", "data": map[string]any{"name": user + " org"}})["entity"].(map[string]any)["id"]
		proj := call(cs, map[string]any{"entity_type": "project", "operation": "create", "data": map[string]any{"organization_id": org, "name": "Rover"}})["entity"].(map[string]any)["id"]
		doc := call(cs, map[string]any{"entity_type": "document", "operation": "create", "data": map[string]any{"project_id": proj, "name": "Specs"}})["entity"].(map[string]any)["id"]
		batch := make([]any, 100)
		for round := range 2 {
			for i := range batch {
				batch[i] = map[string]any{"document_id": doc, "name": fmt.Sprintf("requirement %d-%d alpha", round, i), "description": "the rover shall drive over sand and rock at night"}
			}
			call(cs, map[string]any{"entity_type": "requirement", "operation": "batch_create", "batch": batch})
		}
	}

	victim := connect("victim")
	measure := func(n int) []time.Duration {
		out := make([]time.Duration, n)
		for i := range out {
			start := time.Now()
			res, err := victim.CallTool(ctx, &mcp.CallToolParams{Name: "query_tool", Arguments: map[string]any{"query_type": "search", "search_term": "rover sand"}})
			out[i] = time.Since(start)
			if err != nil || res.IsError {
				t.Fatalf("victim's search: %v %v", err, res)
			}
			// A person's pace, not a benchmark's: the victim is no load itself.
			time.Sleep(5 * time.Millisecond)
		}
		return out
	}
	measure(20) // warm up
	alone := measure(150)
	base := p99(alone)
	slices.Sort(alone)
	baseMedian := alone[len(alone)/2]

	// The hostile user: four clients with sessions of their own, sending
	// as fast as they are answered and ignoring Retry-After.
	mb := strings.Repeat("word ", 200_000)
	var words strings.Builder
	for i := 0; words.Len() < 990; i++ {
		fmt.Fprintf(&words, "w%d ", i)
	}
	bodies := [][]byte{
		toolCall(mb), toolCall(words.String()),
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var served, refused atomic.Int64
	for i := range 4 {
		session := rawSession(t, url, "mallory")
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := bodies[i%2]
			for {
				select {
				case <-stop:
					return
				default:
				}
				req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer mallory")
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Accept", "application/json, text/event-stream")
				req.Header.Set("Mcp-Session-Id", session)
				req.Header.Set("MCP-Protocol-Version", "2025-06-18")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusTooManyRequests {
					refused.Add(1)
				} else {
					served.Add(1)
				}
			}
		}()
	}
	time.Sleep(500 * time.Millisecond) // the load is on
	loaded := p99(measure(150))
	close(stop)
	wg.Wait()

	t.Logf("victim p99 alone %v (median %v), under load %v (%.2f×); hostile requests served %d, refused %d",
		base, baseMedian, loaded, float64(loaded)/float64(base), served.Load(), refused.Load())
	if served.Load() < 10 {
		t.Fatalf("the hostile clients got only %d requests served: no load was applied", served.Load())
	}
	// A floor under the baseline: on an idle loopback a p99 of a few
	// hundred microseconds makes any scheduler hiccup a "2×".
	if loaded > 2*max(base, 5*time.Millisecond) {
		t.Errorf("the victim's p99 rose from %v to %v under another user's load: more than 2×", base, loaded)
	}
}

func toolCall(term string) []byte {
	b, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": "tools/call",
		"params": map[string]any{"name": "query_tool", "arguments": map[string]any{"query_type": "search", "search_term": term}}})
	return b
}

// rawSession opens an MCP session by hand and returns its id.
func rawSession(t *testing.T, url, token string) string {
	t.Helper()
	post := func(session, body string) *http.Response {
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		if session != "" {
			req.Header.Set("Mcp-Session-Id", session)
			req.Header.Set("MCP-Protocol-Version", "2025-06-18")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	resp := post("", `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"m","version":"1"}}}`)
	id := resp.Header.Get("Mcp-Session-Id")
	if id == "" {
		t.Fatalf("no session: %d", resp.StatusCode)
	}
	post(id, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	return id
}

func p99(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)*99/100]
}
