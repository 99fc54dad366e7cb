package eventstore_test

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/atomcp/atomcp/internal/eventstore"
)

// event is one server-sent event of a response.
type event struct{ id, data string }

func events(t *testing.T, body string) []event {
	t.Helper()
	var out []event
	var e event
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if e != (event{}) {
				out = append(out, e)
			}
			e = event{}
		case strings.HasPrefix(line, "id: "):
			e.id = strings.TrimPrefix(line, "id: ")
		case strings.HasPrefix(line, "data: "):
			e.data = strings.TrimPrefix(line, "data: ")
		}
	}
	return out
}

// TestResumeThroughGoSDK: go-sdk's Streamable HTTP handler with the store
// replays a tool call's result to a GET with the Last-Event-ID of the
// priming event, as a client whose stream was cut before the result
// resumes it; a resume of the initialize stream is refused.
func TestResumeThroughGoSDK(t *testing.T) {
	server := mcp.NewServer(&mcp.Implementation{Name: "t", Version: "1"}, nil)
	mcp.AddTool(server, &mcp.Tool{Name: "echo"}, func(_ context.Context, _ *mcp.CallToolRequest, in struct {
		Text string `json:"text"`
	}) (*mcp.CallToolResult, any, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "echo " + in.Text}}}, nil, nil
	})
	store, err := eventstore.New(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server },
		&mcp.StreamableHTTPOptions{EventStore: store})
	do := func(method, session, lastEventID, body string) *httptest.ResponseRecorder {
		t.Helper()
		req := httptest.NewRequest(method, "/mcp", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("MCP-Protocol-Version", "2025-11-25")
		if session != "" {
			req.Header.Set("Mcp-Session-Id", session)
		}
		if lastEventID != "" {
			req.Header.Set("Last-Event-ID", lastEventID)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	rec := do(http.MethodPost, "", "", `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}`)
	sid := rec.Header().Get("Mcp-Session-Id")
	initEvents := events(t, rec.Body.String())
	if sid == "" || len(initEvents) == 0 {
		t.Fatalf("initialize: %d %s", rec.Code, rec.Body)
	}
	do(http.MethodPost, sid, "", `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	rec = do(http.MethodPost, sid, "", `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}`)
	call := events(t, rec.Body.String())
	if len(call) != 2 || call[0].data != "" || !strings.Contains(call[1].data, "echo hi") {
		t.Fatalf("tools/call: want the priming event and the result, got %q", call)
	}
	if got := store.Stats(); got.Events != 1 {
		t.Errorf("store holds %+v, want the one result (not the initialize answer)", got)
	}

	// The client saw only the priming event, then the stream was cut.
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the replay is written before the GET would hang
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/mcp", nil)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("MCP-Protocol-Version", "2025-11-25")
	req.Header.Set("Mcp-Session-Id", sid)
	req.Header.Set("Last-Event-ID", call[0].id)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	replay := events(t, rec.Body.String())
	if rec.Code != http.StatusOK || len(replay) != 1 || replay[0] != call[1] {
		t.Fatalf("resume after %s: %d, events %q; want the result %q with its id", call[0].id, rec.Code, replay, call[1])
	}

	rec = do(http.MethodGet, sid, initEvents[0].id, "")
	if rec.Code != http.StatusBadRequest {
		t.Errorf("resume of the initialize stream: %d %s, want 400 (not kept)", rec.Code, rec.Body)
	}

	if rec := do(http.MethodDelete, sid, "", ""); rec.Code/100 != 2 {
		t.Fatalf("DELETE: %d %s", rec.Code, rec.Body)
	}
	if got := store.Stats(); got != (eventstore.Stats{}) {
		t.Errorf("after the session ended the store holds %+v", got)
	}
}
