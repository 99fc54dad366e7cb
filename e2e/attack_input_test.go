//go:build attack

package e2e

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func toolCallBody(name, args string) string {
	return `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"` + name + `","arguments":` + args + `,"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"attack","version":"1"},"io.modelcontextprotocol/clientCapabilities":{}}}}`
}

// alive checks that the server still answers a tool call of Alice.
func (a *attackServer) alive(t *testing.T) {
	t.Helper()
	st, _, body := postJSONRPC(t, a.URL, a.alicePAT, toolCallBody("workspace_tool", `{"operation":"list_workspaces"}`))
	if st != 200 || !strings.Contains(body, `"result"`) || strings.Contains(body, `"isError":true`) {
		t.Fatalf("the server no longer answers a plain tool call: %d %.300s", st, body)
	}
}

// TestAttackHostileInput: malformed JSON-RPC and hostile arguments. Each
// is refused with a clear error (HTTP status, JSON-RPC error or tool
// error), writes nothing, and leaves the server answering.
func TestAttackHostileInput(t *testing.T) {
	a := newAttackServer(t)
	a.alive(t)
	mb := strings.Repeat("word ", 200<<10) // 1 MB of words
	deep := strings.Repeat("[", 100000) + strings.Repeat("]", 100000)
	deepArgs := strings.Repeat(`{"a":`, 10000) + "1" + strings.Repeat("}", 10000)
	cases := []struct {
		name   string
		body   string
		header []string
		status int    // the HTTP status
		rpc    int    // the JSON-RPC error code, if any
		tool   string // a word the tool error must contain, if any
	}{
		{"1 MB search_term to query_tool", toolCallBody("query_tool", `{"query_type":"search","search_term":"`+mb+`"}`), nil, 200, 0, "limit"},
		{"1 MB search_term to entity_tool", toolCallBody("entity_tool", `{"entity_type":"requirement","operation":"search","search_term":"`+mb+`"}`), nil, 200, 0, "limit"},
		{"200 KB entity_id (fuzzy matching)", toolCallBody("entity_tool", `{"entity_type":"requirement","operation":"read","entity_id":"`+strings.Repeat("x", 200<<10)+`"}`), nil, 200, 0, "limit"},
		{"1 MB organization name", toolCallBody("entity_tool", `{"entity_type":"organization","operation":"create","data":{"name":"`+strings.Repeat("n", 1<<20)+`"}}`), nil, 200, 0, "limit"},
		{"an unknown method", `{"jsonrpc":"2.0","id":3,"method":"no/such/method","params":{}}`, nil, 0, -32601, ""},
		{"an unknown tool", toolCallBody("no_such_tool", `{}`), nil, 0, -32602, ""},
		{"not JSON", `{"jsonrpc":"2.0","id":1,"method":`, nil, 400, 0, ""},
		{"deeply nested JSON body", deep, nil, 400, 0, ""},
		{"deeply nested tool arguments", toolCallBody("entity_tool", deepArgs), nil, 0, 0, ""},
		{"jsonrpc 1.0", `{"jsonrpc":"1.0","id":1,"method":"tools/list"}`, nil, 400, 0, ""},
		{"an object as id", `{"jsonrpc":"2.0","id":{"x":1},"method":"tools/list"}`, nil, 400, 0, ""},
		{"arguments of the wrong type", toolCallBody("entity_tool", `"just a string"`), nil, 0, 0, ""},
		{"a batch of 1000 calls", "[" + strings.TrimSuffix(strings.Repeat(toolCallBody("workspace_tool", `{"operation":"list_workspaces"}`)+",", 1000), ",") + "]", nil, 400, 0, ""},
		{"a body over the 4 MiB limit", toolCallBody("query_tool", `{"query_type":"search","search_term":"`+strings.Repeat("a", 5<<20)+`"}`), nil, 413, 0, ""},
		{"text/plain body", toolCallBody("workspace_tool", `{"operation":"list_workspaces"}`), []string{"Content-Type", "text/plain"}, 415, 0, ""},
		{"NUL and invalid UTF-8 in a name", toolCallBody("entity_tool", `{"entity_type":"requirement","operation":"read","entity_id":"a\u0000b\udc00"}`), nil, 200, 0, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := a.state(t)
			st, _, body := postJSONRPC(t, a.URL, a.alicePAT, tc.body, tc.header...)
			if st >= 500 {
				t.Fatalf("status %d: %.300s", st, body)
			}
			if tc.status != 0 && st != tc.status {
				t.Fatalf("status %d, want %d: %.300s", st, tc.status, body)
			}
			code, _, isRPC := jsonrpcError(body)
			if tc.rpc != 0 && code != tc.rpc {
				t.Errorf("JSON-RPC error %d (%v), want %d: %.300s", code, isRPC, tc.rpc, body)
			}
			if tc.tool != "" && (!strings.Contains(body, `"isError":true`) || !strings.Contains(strings.ToLower(body), tc.tool)) {
				t.Errorf("want a tool error saying %q: %.300s", tc.tool, body)
			}
			if strings.Contains(body, "goroutine ") || strings.Contains(body, "panic") || strings.Contains(strings.ToLower(body), "internal error") {
				t.Errorf("the answer shows an internal failure: %.300s", body)
			}
			if len(body) > 64<<10 && strings.Contains(body, strings.Repeat("word ", 1000)) {
				t.Errorf("the answer echoes the hostile input (%d bytes)", len(body))
			}
			a.unchanged(t, before)
			a.alive(t)
		})
	}
	t.Run("no secret in the log", func(t *testing.T) { a.logsClean(t) })
}

// TestAttackExhaustion: many sessions, slow headers, a trickled body,
// too many connections from one address, and one user's flood of tool
// calls, against a server with short timeouts and low limits (settings)
// so that the suite does not wait for the defaults.
func TestAttackExhaustion(t *testing.T) {
	a := newAttackServer(t, "ATOMCP_READ_HEADER_TIMEOUT=2s", "ATOMCP_READ_BODY_TIMEOUT=2s", "ATOMCP_MIN_BODY_RATE=1048576",
		"ATOMCP_MAX_CONNS_PER_CLIENT=16", "ATOMCP_TOOL_RATE=2", "ATOMCP_TOOL_BURST=4", "ATOMCP_TOOL_CONCURRENCY=2")
	host := strings.TrimPrefix(a.Base, "http://")

	// closedWithin waits (generously) for the server to end conn.
	closedWithin := func(t *testing.T, conn net.Conn) {
		t.Helper()
		_ = conn.SetReadDeadline(time.Now().Add(60 * time.Second))
		_, err := io.Copy(io.Discard, conn)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatal("the server kept the connection open for 60 s")
		}
	}
	t.Run("slow headers", func(t *testing.T) {
		conn, err := net.Dial("tcp", host)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST /api/mcp HTTP/1.1\r\nHost: %s\r\nX-Slow: ", host)
		closedWithin(t, conn)
	})
	t.Run("slow body", func(t *testing.T) {
		conn, err := net.Dial("tcp", host)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST /api/mcp HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: 100000\r\n\r\n{", host, a.alicePAT)
		// One byte a second: far below the minimum rate.
		stop := make(chan struct{})
		go func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				case <-time.After(time.Second):
					if _, err := conn.Write([]byte(" ")); err != nil {
						return
					}
				}
			}
		}()
		defer close(stop)
		_ = conn.SetReadDeadline(time.Now().Add(60 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode < 400 {
				t.Fatalf("a trickled body got %d", resp.StatusCode)
			}
			return
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatal("the server kept reading a trickled body for 60 s")
		}
	})
	t.Run("too many connections from one address", func(t *testing.T) {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for range 40 {
			c, err := net.Dial("tcp", host)
			if err != nil {
				break
			}
			conns = append(conns, c)
		}
		closed := 0
		for _, c := range conns {
			_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
			if _, err := c.Read(make([]byte, 1)); err != nil {
				var ne net.Error
				if !errors.As(err, &ne) || !ne.Timeout() {
					closed++
				}
			}
		}
		if open := len(conns) - closed; open > 16 {
			t.Errorf("%d connections from one address stay open; the cap is 16", open)
		}
		for _, c := range conns {
			c.Close()
		}
		conns = nil
		// Once they are gone, the address is served again.
		var err error
		for range 50 {
			var st int
			if st, err = statusOf(a.Base + "/healthz"); err == nil && st == 200 {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Errorf("the address is not served after its connections closed: %v", err)
	})
	t.Run("many sessions", func(t *testing.T) {
		// A server with the default limits: 300 sessions of one user
		// (each initialize is an MCP request under the user's rate).
		m := newAttackServer(t)
		waitAlive(t, m)
		postJSONRPC(t, m.URL, m.bobPAT, initializeBody) // Bob's profile
		before := m.state(t)
		opened := 0
		for i := range 300 {
			st, hdr, body := postJSONRPC(t, m.URL, m.bobPAT, initializeBody)
			if st == 429 {
				continue // refused: fine
			}
			if st != 200 || hdr.Get("Mcp-Session-Id") == "" {
				t.Fatalf("initialize %d: %d %.200s", i, st, body)
			}
			opened++
		}
		t.Logf("%d of 300 sessions opened", opened)
		m.unchanged(t, before)
		waitAlive(t, m)
		m.logsClean(t)
	})
	t.Run("one user's flood of tool calls", func(t *testing.T) {
		// 12 parallel callers (under the connection cap), 3 calls each,
		// against a rate of 2 a second and a burst of 4.
		var mu sync.Mutex
		calls, refused, retryAfter := 0, 0, 0
		var errs []error
		var wg sync.WaitGroup
		for range 12 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 3 {
					st, hdr, err := tryPost(a.URL, a.bobPAT, toolCallBody("query_tool", `{"query_type":"search","search_term":"flood"}`))
					mu.Lock()
					calls++
					if err != nil {
						errs = append(errs, err)
					} else if st == 429 {
						refused++
						if hdr.Get("Retry-After") != "" {
							retryAfter++
						}
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if len(errs) > 0 {
			t.Errorf("%d of %d calls failed at the connection: %v", len(errs), calls, errs[0])
		}
		if refused == 0 || retryAfter != refused {
			t.Errorf("%d calls over a rate of 2/s: %d refused, %d with Retry-After; want refusals, each with Retry-After", calls, refused, retryAfter)
		}
		// Another user is not limited by Bob's flood.
		a.alive(t)
	})
	t.Run("no secret in the log", func(t *testing.T) { a.logsClean(t) })
}

// tryPost is postJSONRPC for goroutines: it returns the error.
func tryPost(u, token, body string) (int, http.Header, error) {
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	statelessHeaders(req, body)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, resp.Header, nil
}

func statusOf(u string) (int, error) {
	resp, err := http.Get(u)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// waitAlive waits (generously) for Alice's tool call to be answered.
func waitAlive(t *testing.T, a *attackServer) {
	t.Helper()
	for range 100 {
		st, _, _ := postJSONRPC(t, a.URL, a.alicePAT, toolCallBody("workspace_tool", `{"operation":"list_workspaces"}`))
		if st == 200 {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatal("the server does not answer Alice any more")
}
