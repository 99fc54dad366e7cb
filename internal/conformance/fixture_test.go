package conformance

//lint:file-ignore SA1019 the fixture's logging (deprecated in 2026-07-28, still scored for 2025-11-25) is tested.

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/atomcp/atomcp/internal/atoms"
	"github.com/atomcp/atomcp/internal/httpserver"
	"github.com/atomcp/atomcp/internal/store/storeopen"
)

// start serves the fixture as cmd/atomcp-conformance does, on a loopback
// test server.
func start(t *testing.T) (*Fixture, string) {
	t.Helper()
	ctx := context.Background()
	st, err := storeopen.Open(ctx, filepath.Join(t.TempDir(), "atomcp.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	fx := New(atoms.New(st), "test", nil, httpserver.Options{ListenLoopback: true, RequireOrigin: true, Ready: st.Ping}, nil)
	ts := httptest.NewServer(fx.HTTP)
	t.Cleanup(ts.Close)
	return fx, ts.URL + "/api/mcp"
}

// Both protocol revisions are answered at one URL: 2025-11-25 with a
// session, 2026-07-28 without.
func TestFixtureServesTheSuitesFeaturesBesideTheAtomsTools(t *testing.T) {
	_, url := start(t)
	for _, version := range []string{"2025-11-25", "2026-07-28"} {
		t.Run(version, func(t *testing.T) { exercise(t, url, version) })
	}
}

func exercise(t *testing.T, url, version string) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	var mu sync.Mutex
	var logs []string
	var progress []float64
	client := mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, &mcp.ClientOptions{
		LoggingMessageHandler: func(_ context.Context, r *mcp.LoggingMessageRequest) {
			mu.Lock()
			defer mu.Unlock()
			logs = append(logs, r.Params.Data.(string))
		},
		ProgressNotificationHandler: func(_ context.Context, r *mcp.ProgressNotificationClientRequest) {
			mu.Lock()
			defer mu.Unlock()
			progress = append(progress, r.Params.Progress)
		},
	})
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url}, &mcp.ClientSessionOptions{ProtocolVersion: version})
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	if got := cs.InitializeResult().ProtocolVersion; got != version {
		t.Fatalf("negotiated %s, want %s", got, version)
	}
	if stateful := version < "2026-07-28"; (cs.ID() != "") != stateful {
		t.Errorf("session id %q: want one exactly for the stateful revision", cs.ID())
	}

	caps := cs.InitializeResult().Capabilities
	if caps.Logging == nil || caps.Completions == nil || caps.Prompts == nil || caps.Resources == nil || !caps.Resources.Subscribe {
		t.Errorf("capabilities %+v: want logging, completions, prompts, resources with subscribe", caps)
	}

	tools, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, tl := range tools.Tools {
		have[tl.Name] = true
	}
	for _, name := range []string{"workspace_tool", "entity_tool", "test_simple_text", "test_tool_with_progress", "test_sampling", "test_input_required_result_elicitation", "json_schema_2020_12_tool"} {
		if !have[name] {
			t.Errorf("tools/list lacks %s", name)
		}
	}

	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "test_simple_text"})
	if err != nil || res.Content[0].(*mcp.TextContent).Text != "This is a simple text response for testing." {
		t.Errorf("test_simple_text: %v %+v", err, res)
	}
	res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "test_error_handling"})
	if err != nil || !res.IsError {
		t.Errorf("test_error_handling: %v, isError %v", err, res != nil && res.IsError)
	}

	params := &mcp.CallToolParams{Name: "test_tool_with_progress"}
	params.SetProgressToken("p-1")
	if _, err := cs.CallTool(ctx, params); err != nil {
		t.Fatal(err)
	}
	wantLogs := ""
	if version == "2025-11-25" { // 2026-07-28 has no logging/setLevel (a per-request level instead)
		if err := cs.SetLoggingLevel(ctx, &mcp.SetLoggingLevelParams{Level: "info"}); err != nil {
			t.Fatal(err)
		}
		if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "test_tool_with_logging"}); err != nil {
			t.Fatal(err)
		}
		wantLogs = "Tool execution started|Tool processing data|Tool execution completed"
	}
	// Notifications are handled apart from the result they precede, so
	// they may still be on their way when the call returns.
	eventually(t, func() string {
		mu.Lock()
		defer mu.Unlock()
		if got := strings.Join(logs, "|"); got != wantLogs {
			return fmt.Sprintf("log messages %q, want %q", got, wantLogs)
		}
		if len(progress) != 3 || progress[2] != 100 {
			return fmt.Sprintf("progress %v, want 0, 50, 100", progress)
		}
		return ""
	})

	rr, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "test://template/42/data"})
	if err != nil || !strings.Contains(rr.Contents[0].Text, `"id":"42"`) {
		t.Errorf("template read: %v %+v", err, rr)
	}
	if _, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "test://no-such-resource"}); err == nil {
		t.Error("reading an unknown resource succeeded")
	}
	gp, err := cs.GetPrompt(ctx, &mcp.GetPromptParams{Name: "test_prompt_with_arguments", Arguments: map[string]string{"arg1": "hello", "arg2": "world"}})
	if err != nil || gp.Messages[0].Content.(*mcp.TextContent).Text != "Prompt with arguments: arg1='hello', arg2='world'" {
		t.Errorf("prompt: %v %+v", err, gp)
	}
	cr, err := cs.Complete(ctx, &mcp.CompleteParams{Ref: &mcp.CompleteReference{Type: "ref/prompt", Name: "test_prompt_with_arguments"}, Argument: mcp.CompleteParamsArgument{Name: "arg1", Value: "he"}})
	if err != nil || strings.Join(cr.Completion.Values, ",") != "hello,help" {
		t.Errorf("completion: %v %+v", err, cr)
	}
}

// eventually fails the test unless check returns "" within two seconds.
func eventually(t *testing.T, check func() string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		msg := check()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Error(msg)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// The suite does not test CORS; browser-based clients (the MCP Inspector)
// depend on it, so the fixture's front is checked here the way a browser
// would use it, with the headers of both protocol revisions.
func TestFixtureAnswersBrowserClients(t *testing.T) {
	_, url := start(t)
	const origin = "http://localhost:6274"
	pre, _ := http.NewRequest(http.MethodOptions, url, nil)
	pre.Header.Set("Origin", origin)
	pre.Header.Set("Access-Control-Request-Method", "POST")
	pre.Header.Set("Access-Control-Request-Headers", "content-type, mcp-protocol-version, mcp-session-id, mcp-method, mcp-name, last-event-id")
	resp, err := http.DefaultClient.Do(pre)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != origin {
		t.Fatalf("preflight: %s, Allow-Origin %q", resp.Status, resp.Header.Get("Access-Control-Allow-Origin"))
	}
	allowed := strings.ToLower(resp.Header.Get("Access-Control-Allow-Headers"))
	for _, h := range []string{"content-type", "mcp-protocol-version", "mcp-session-id", "mcp-method", "mcp-name", "last-event-id"} {
		if !strings.Contains(allowed, h) {
			t.Errorf("preflight does not allow %s: %q", h, allowed)
		}
	}

	body := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"browser","version":"1"}}}`
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Origin", origin)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Access-Control-Allow-Origin") != origin {
		t.Fatalf("POST from %s: %s, Allow-Origin %q", origin, resp.Status, resp.Header.Get("Access-Control-Allow-Origin"))
	}
	exposed := strings.ToLower(resp.Header.Get("Access-Control-Expose-Headers"))
	if resp.Header.Get("Mcp-Session-Id") == "" || !strings.Contains(exposed, "mcp-session-id") {
		t.Errorf("the session id is not readable by a browser: Expose-Headers %q", exposed)
	}

	// A page on another origin may not drive the unauthenticated server.
	req, _ = http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Origin", "http://evil.example")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("POST from a foreign origin: %s, want 403", resp.Status)
	}
}
