package auth

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// FuzzReadToolCalls: the body peek never panics, puts the body back
// byte for byte for the MCP handler, and finds a tool call only in a
// tools/call message.
func FuzzReadToolCalls(f *testing.F) {
	for _, seed := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"entity_tool","arguments":{"operation":"create"}}}`,
		`[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a"}},{"jsonrpc":"2.0","method":"notifications/initialized"}]`,
		`{"method":"tools/call","params":{"name":"x","arguments":{"operation":7}}}`,
		`  [ ]`, `{"method":"tools/list"}`, `not json`, ``, `[{"method":"tools/call"},1,null]`,
	} {
		f.Add([]byte(seed))
	}
	m := &Middleware{o: MiddlewareOptions{MaxBodyBytes: 1 << 20}}
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest(http.MethodPost, "/api/mcp", bytes.NewReader(body))
		v := &verified{}
		if e := m.readToolCalls(httptest.NewRecorder(), r, v); e != nil {
			t.Fatalf("refused a body within the limit: %v", e)
		}
		back, _ := io.ReadAll(r.Body)
		if !bytes.Equal(back, body) {
			t.Fatalf("the body was not put back as it came")
		}
		if len(v.calls) > 0 && !bytes.Contains(body, []byte("tools/call")) && !bytes.Contains(body, []byte(`\u`)) {
			t.Fatalf("tool calls %v found in a body without tools/call", v.calls)
		}
	})
}
