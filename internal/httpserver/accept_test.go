package httpserver

//lint:file-ignore SA1019 a log notification is the simplest server-to-client message to test streaming with; logging stays on offer for 2025-11-25 clients.

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// acceptServer is an MCP server with one tool behind the HTTP front.
func acceptServer(t *testing.T, opts Options) string {
	t.Helper()
	m := mcp.NewServer(&mcp.Implementation{Name: "t", Version: "1"}, nil)
	mcp.AddTool(m, &mcp.Tool{Name: "echo", Description: "echoes"},
		func(ctx context.Context, req *mcp.CallToolRequest, in struct {
			Text string `json:"text"`
		}) (*mcp.CallToolResult, any, error) {
			// A log notification on the response stream, which a
			// JSON-only client never sees.
			_ = req.Session.Log(ctx, &mcp.LoggingMessageParams{Level: "info", Data: "echoing"})
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: in.Text}}}, nil, nil
		})
	opts.ListenLoopback, opts.RequireOrigin = true, true
	ts := httptest.NewServer(New(m, opts))
	t.Cleanup(ts.Close)
	return ts.URL + "/api/mcp"
}

type mcpReply struct {
	status      int
	contentType string
	session     string
	body        string
}

func mcpPost(t *testing.T, url string, header map[string]string, body string) mcpReply {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		if v == "-" {
			req.Header.Del(k)
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return mcpReply{resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Mcp-Session-Id"), string(b)}
}

// jsonResult checks a JSON (not event-stream) answer and returns the
// JSON-RPC response's result.
func (r mcpReply) jsonResult(t *testing.T, id int) map[string]any {
	t.Helper()
	if r.status != http.StatusOK || !strings.HasPrefix(r.contentType, "application/json") {
		t.Fatalf("status %d, Content-Type %q; want 200 application/json\n%s", r.status, r.contentType, r.body)
	}
	var m struct {
		ID     int            `json:"id"`
		Result map[string]any `json:"result"`
		Error  any            `json:"error"`
	}
	if err := json.Unmarshal([]byte(r.body), &m); err != nil {
		t.Fatalf("body is not one JSON-RPC message: %v\n%s", err, r.body)
	}
	if m.ID != id || m.Result == nil {
		t.Fatalf("response %s; want the result of request %d", r.body, id)
	}
	return m.Result
}

func initBody(version string) string {
	return `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"` + version + `","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}`
}

const echoCall = `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}`

// A client that sends Accept: application/json alone (or */*, or no
// Accept) gets JSON answers, with every session-based revision, in the
// stateful and the stateless mode.
func TestAcceptJSONOnly(t *testing.T) {
	for _, stateless := range []bool{false, true} {
		url := acceptServer(t, Options{Stateless: stateless})
		for _, version := range []string{"2025-03-26", "2025-06-18", "2025-11-25"} {
			for _, accept := range []string{"application/json", "*/*", "-", "application/*", "application/json;q=0.9, text/html;q=0.1"} {
				name := map[bool]string{false: "stateful", true: "stateless"}[stateless] + " " + version + " Accept " + accept
				t.Run(name, func(t *testing.T) {
					h := map[string]string{"Accept": accept}
					res := mcpPost(t, url, h, initBody(version)).jsonResult(t, 1)
					if res["protocolVersion"] != version {
						t.Errorf("negotiated %v; want %s", res["protocolVersion"], version)
					}
					init := mcpPost(t, url, h, initBody(version))
					if !stateless && init.session == "" {
						t.Fatalf("no Mcp-Session-Id on initialize")
					}
					h["Mcp-Session-Id"] = init.session
					if stateless {
						h["Mcp-Session-Id"] = "-"
					}
					if version != "2025-03-26" {
						h["MCP-Protocol-Version"] = version
					}
					if r := mcpPost(t, url, h, `{"jsonrpc":"2.0","method":"notifications/initialized"}`); r.status != http.StatusAccepted {
						t.Fatalf("initialized: %d %s", r.status, r.body)
					}
					res = mcpPost(t, url, h, echoCall).jsonResult(t, 2)
					if b, _ := json.Marshal(res); !strings.Contains(string(b), `"text":"hi"`) {
						t.Errorf("tools/call result %s", b)
					}
				})
			}
		}
	}
}

// 2026-07-28 has no initialize and no sessions; its requests carry the
// Mcp-Method and Mcp-Name headers, and JSON-only clients get JSON too.
func TestAcceptJSONOnlyNewProtocol(t *testing.T) {
	url := acceptServer(t, Options{})
	body := `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28",` +
		`"io.modelcontextprotocol/clientInfo":{"name":"c","version":"1"},"io.modelcontextprotocol/clientCapabilities":{}},"name":"echo","arguments":{"text":"hi"}}}`
	for _, accept := range []string{"application/json", "-", sdkAccept} {
		r := mcpPost(t, url, map[string]string{"Accept": accept, "MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/call", "Mcp-Name": "echo"}, body)
		if accept == sdkAccept {
			if r.status != http.StatusOK || !strings.HasPrefix(r.contentType, "text/event-stream") || !strings.Contains(r.body, `"text":"hi"`) {
				t.Errorf("Accept %s: %d %q\n%s; want the event stream", accept, r.status, r.contentType, r.body)
			}
			continue
		}
		res := r.jsonResult(t, 2)
		if b, _ := json.Marshal(res); !strings.Contains(string(b), `"text":"hi"`) {
			t.Errorf("Accept %s: result %s", accept, b)
		}
	}
}

// Clients that name both keep the event stream; text/event-stream alone
// gets it as well; an Accept that allows neither gets a JSON 406.
func TestAcceptOtherHeaders(t *testing.T) {
	url := acceptServer(t, Options{})
	for _, accept := range []string{sdkAccept, "text/event-stream", "application/json, text/*"} {
		r := mcpPost(t, url, map[string]string{"Accept": accept}, initBody("2025-11-25"))
		if r.status != http.StatusOK || !strings.HasPrefix(r.contentType, "text/event-stream") || !strings.Contains(r.body, "data: ") {
			t.Errorf("Accept %q: %d %q; want an event stream\n%s", accept, r.status, r.contentType, r.body)
		}
	}
	for _, accept := range []string{"text/html", "application/json;q=0"} {
		r := mcpPost(t, url, map[string]string{"Accept": accept}, initBody("2025-11-25"))
		var m map[string]string
		if r.status != http.StatusNotAcceptable || json.Unmarshal([]byte(r.body), &m) != nil || !strings.Contains(m["message"], "text/event-stream") {
			t.Errorf("Accept %q: %d %q %s; want a JSON 406", accept, r.status, r.contentType, r.body)
		}
	}
}

func TestAcceptable(t *testing.T) {
	for _, tc := range []struct {
		values           []string
		jsonOK, streamOK bool
	}{
		{nil, true, false},
		{[]string{""}, true, false},
		{[]string{"application/json"}, true, false},
		{[]string{"application/json; charset=utf-8"}, true, false},
		{[]string{"*/*"}, true, false},
		{[]string{"application/json", "text/event-stream"}, true, true},
		{[]string{"text/event-stream;q=0.5, application/json"}, true, true},
		{[]string{"text/event-stream"}, false, true},
		{[]string{"application/json;q=0, text/event-stream"}, false, true},
		{[]string{"text/html"}, false, false},
	} {
		j, s := acceptable(tc.values)
		if j != tc.jsonOK || s != tc.streamOK {
			t.Errorf("acceptable(%q) = %v, %v; want %v, %v", tc.values, j, s, tc.jsonOK, tc.streamOK)
		}
	}
}

func TestStreamResponses(t *testing.T) {
	stream := "id: 0\ndata: \n\n" + // priming event
		"event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{}}\n\n" +
		"event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"sampling/createMessage\"}\n\n" +
		"event: message\r\nid: 3\r\ndata: {\"jsonrpc\":\"2.0\",\r\ndata: \"id\":2,\"result\":{}}\r\n\r\n"
	got := streamResponses([]byte(stream))
	if len(got) != 1 || string(got[0]) != "{\"jsonrpc\":\"2.0\",\n\"id\":2,\"result\":{}}" {
		t.Fatalf("streamResponses = %q", got)
	}
}
