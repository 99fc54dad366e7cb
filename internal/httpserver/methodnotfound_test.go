package httpserver

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func rawMCPPost(t *testing.T, url string, header map[string]string, body string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// TestUnknownMethodIsMethodNotFound: every protocol revision, with and
// without sessions, answers a request for an unknown method with JSON-RPC
// -32601 to its id; an unknown notification is accepted and ignored.
func TestUnknownMethodIsMethodNotFound(t *testing.T) {
	const initialize = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}`
	for _, tc := range []struct {
		name       string
		stateless  bool
		version    string
		wantStatus int
	}{
		{"stateful 2025-06-18", false, "2025-06-18", http.StatusOK},
		{"stateful 2025-11-25", false, "2025-11-25", http.StatusOK},
		{"stateless 2025-06-18", true, "2025-06-18", http.StatusOK},
		{"2026-07-28", false, "2026-07-28", http.StatusNotFound}, // SEP-2575: 404
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := httptest.NewServer(newTestServer(Options{Stateless: tc.stateless}))
			defer ts.Close()
			url := ts.URL + "/api/mcp"
			h := map[string]string{"MCP-Protocol-Version": tc.version}
			if !tc.stateless && tc.version < statelessProtocol {
				_, hdr, _ := rawMCPPost(t, url, nil, strings.Replace(initialize, "2025-06-18", tc.version, 1))
				h["Mcp-Session-Id"] = hdr.Get("Mcp-Session-Id")
				rawMCPPost(t, url, h, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
			}
			status, _, body := rawMCPPost(t, url, h, `{"jsonrpc":"2.0","id":"req-7","method":"no/such/method"}`)
			var resp struct {
				ID    any `json:"id"`
				Error struct {
					Code    int    `json:"code"`
					Message string `json:"message"`
				} `json:"error"`
			}
			if err := json.Unmarshal([]byte(body), &resp); err != nil {
				t.Fatalf("%d %q: not a JSON-RPC response: %v", status, body, err)
			}
			if status != tc.wantStatus || resp.Error.Code != -32601 || resp.ID != "req-7" || !strings.Contains(resp.Error.Message, "no/such/method") {
				t.Errorf("got %d %s; want %d with -32601 to id req-7", status, body, tc.wantStatus)
			}
			if tc.version < statelessProtocol {
				if status, _, body := rawMCPPost(t, url, h, `{"jsonrpc":"2.0","method":"notifications/no_such_thing"}`); status != http.StatusAccepted {
					t.Errorf("unknown notification: %d %s; want 202", status, body)
				}
			}
			// A known method still works through the wrapper.
			if tc.version >= statelessProtocol {
				return // its ping needs per-request _meta; covered elsewhere
			}
			if status, _, body := rawMCPPost(t, url, h, `{"jsonrpc":"2.0","id":9,"method":"ping"}`); status != http.StatusOK || !strings.Contains(body, `"id":9`) {
				t.Errorf("ping: %d %s", status, body)
			}
		})
	}
}
