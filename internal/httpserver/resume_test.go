package httpserver

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// A response stream that is cut in the middle of a tool call must not lose
// the call's result: a client that resumes the stream with the last event
// id it saw (GET with Last-Event-ID) receives it. The conformance scenario
// server-sse-polling found that, without an event store, the stream carried
// no event id to resume from and the result was never delivered.
func TestToolResultSurvivesACutResponseStream(t *testing.T) {
	m := mcp.NewServer(&mcp.Implementation{Name: "t", Version: "1"}, nil)
	mcp.AddTool(m, &mcp.Tool{Name: "cut", Description: "closes its response stream mid-call"},
		func(ctx context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
			req.Extra.CloseSSEStream(mcp.CloseSSEStreamArgs{RetryAfter: 10 * time.Millisecond})
			time.Sleep(100 * time.Millisecond) // the result is sent after the stream is gone
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "delivered"}}}, nil, nil
		})
	ts := httptest.NewServer(New(m, Options{ListenLoopback: true, RequireOrigin: true}))
	defer ts.Close()
	url := ts.URL + "/api/mcp"

	post := func(session, body string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("MCP-Protocol-Version", "2025-11-25")
		if session != "" {
			req.Header.Set("Mcp-Session-Id", session)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	resp := post("", `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}`)
	session := resp.Header.Get("Mcp-Session-Id")
	readEvents(t, resp)
	readEvents(t, post(session, `{"jsonrpc":"2.0","method":"notifications/initialized"}`))

	events := readEvents(t, post(session, `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"cut","arguments":{}}}`))
	lastID := ""
	for _, e := range events {
		if strings.Contains(e.data, `"id":2`) {
			t.Fatalf("the result came on the stream that was cut; the test proves nothing")
		}
		if e.id != "" {
			lastID = e.id
		}
	}
	if lastID == "" {
		t.Fatalf("the cut stream carried no event id, so a client cannot resume it: %+v", events)
	}

	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("MCP-Protocol-Version", "2025-11-25")
	req.Header.Set("Mcp-Session-Id", session)
	req.Header.Set("Last-Event-ID", lastID)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("resume: %s", resp.Status)
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "data: ") && strings.Contains(sc.Text(), `"id":2`) {
			if !strings.Contains(sc.Text(), "delivered") {
				t.Fatalf("resumed stream: %s", sc.Text())
			}
			return
		}
	}
	t.Fatalf("the resumed stream ended without the result: %v", sc.Err())
}

type sseEvent struct{ id, data string }

// readEvents reads a response to its end: the events of an event stream,
// or a JSON body as one event without id.
func readEvents(t *testing.T, resp *http.Response) []sseEvent {
	t.Helper()
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		t.Fatalf("%s", resp.Status)
	}
	var out []sseEvent
	var cur sseEvent
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		l := sc.Text()
		switch {
		case l == "":
			if cur != (sseEvent{}) {
				out = append(out, cur)
			}
			cur = sseEvent{}
		case strings.HasPrefix(l, "id: "):
			cur.id = strings.TrimPrefix(l, "id: ")
		case strings.HasPrefix(l, "data: "):
			cur.data += strings.TrimPrefix(l, "data: ")
		case !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream"):
			cur.data += l
		}
	}
	if cur != (sseEvent{}) {
		out = append(out, cur)
	}
	return out
}

// A 2025-11-25 response stream starts with a priming event that carries an
// event id, so that a client can resume it from the very beginning.
func TestResponseStreamStartsWithPrimingEvent(t *testing.T) {
	ts := httptest.NewServer(newTestServer(Options{ListenLoopback: true, RequireOrigin: true}))
	defer ts.Close()
	body := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}`
	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/api/mcp", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("Content-Type %q, want an event stream", ct)
	}
	var first []string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() && sc.Text() != "" {
		first = append(first, sc.Text())
	}
	var id, data bool
	for _, l := range first {
		id = id || strings.HasPrefix(l, "id: ") && len(l) > len("id: ")
		data = data || strings.HasPrefix(l, "data: {")
	}
	if !id || data {
		t.Fatalf("first event %q: want an id and no message (a priming event)", first)
	}
}
