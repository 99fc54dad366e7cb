package httpserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	sdkauth "github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/atomcp/atomcp/internal/fastcall"
)

// fastServer is an MCP server registered through internal/fastcall as the
// Atoms tools are: tools "read" (eligible: answers who called it, with
// characters JSON encoders may escape), "fail" (eligible: a JSON-RPC
// error), "plain" (eligible: a Go error), "empty" (eligible: a result
// without content), "missing" (eligible but not
// registered) and "write" (not eligible), and a middleware that counts
// the calls it sees and marks each result.
func fastServer(t *testing.T, opts Options) (url string, srv *Server, seen *atomic.Int64) {
	t.Helper()
	m := mcp.NewServer(&mcp.Implementation{Name: "t", Version: "1"}, nil)
	in := map[string]any{"type": "object"}
	fastcall.AddTool(m, &mcp.Tool{Name: "read", InputSchema: in}, func(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		user := ""
		if req.Extra != nil && req.Extra.TokenInfo != nil {
			user = req.Extra.TokenInfo.UserID
		}
		return &mcp.CallToolResult{
			Content:           []mcp.Content{&mcp.TextContent{Text: "<b>" + user + "</b> & " + string(req.Params.Arguments)}},
			StructuredContent: map[string]any{"user": user, "html": "<&>", "n": 1.5},
		}, nil
	})
	fastcall.AddTool(m, &mcp.Tool{Name: "fail", InputSchema: in}, func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return nil, &jsonrpc.Error{Code: -32042, Message: "refused on purpose"}
	})
	fastcall.AddTool(m, &mcp.Tool{Name: "plain", InputSchema: in}, func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return nil, errors.New("a plain error")
	})
	fastcall.AddTool(m, &mcp.Tool{Name: "empty", InputSchema: in}, func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return &mcp.CallToolResult{}, nil // go-sdk sends "content":[] for it
	})
	fastcall.AddTool(m, &mcp.Tool{Name: "write", InputSchema: in}, func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return &mcp.CallToolResult{}, nil
	})
	seen = new(atomic.Int64)
	fastcall.Use(m, func(next mcp.MethodHandler) mcp.MethodHandler {
		return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
			res, err := next(ctx, method, req)
			if method == "tools/call" {
				seen.Add(1)
				if r, ok := res.(*mcp.CallToolResult); ok && r != nil {
					r.Meta = mcp.Meta{"seen": true}
				}
			}
			return res, err
		}
	})
	fastcall.SetEligible(m, func(tool string, _ []byte) bool { return tool != "write" })
	opts.ListenLoopback, opts.RequireOrigin = true, true
	if opts.Auth == nil {
		opts.Auth = sdkauth.RequireBearerToken(func(_ context.Context, token string, _ *http.Request) (*sdkauth.TokenInfo, error) {
			return &sdkauth.TokenInfo{UserID: token, Expiration: time.Now().Add(time.Hour)}, nil
		}, nil)
	}
	srv = New(m, opts)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return ts.URL + "/api/mcp", srv, seen
}

func fastHeaders(user, session string) map[string]string {
	h := map[string]string{"Authorization": "Bearer " + user, "Accept": "application/json", "Mcp-Protocol-Version": "2025-11-25"}
	if session != "" {
		h["Mcp-Session-Id"] = session
	}
	return h
}

func callBody(id int, tool, args string) string {
	return fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":%q,"arguments":%s}}`, id, tool, args)
}

// openSession initializes a session as user and returns its id.
func openSession(t *testing.T, url, user string) string {
	t.Helper()
	h := fastHeaders(user, "")
	h["Accept"] = sdkAccept
	r := mcpPost(t, url, h, initBody("2025-11-25"))
	if r.status != http.StatusOK || r.session == "" {
		t.Fatalf("initialize: %d %q %s", r.status, r.session, r.body)
	}
	if r := mcpPost(t, url, fastHeaders(user, r.session), `{"jsonrpc":"2.0","method":"notifications/initialized"}`); r.status != http.StatusAccepted {
		t.Fatalf("initialized: %d %s", r.status, r.body)
	}
	return r.session
}

// The fast path answers every call it takes exactly as go-sdk's own
// transport answers it: the same bytes, in both modes, for results with
// characters JSON encoders may escape, tool errors, JSON-RPC errors and
// unknown tools; and it does take them (the server's counter).
func TestFastCallAnswersAsGoSDK(t *testing.T) {
	calls := []string{
		callBody(7, "read", `{"q":"<x> & y"}`),
		callBody(8, "read", `{}`),
		callBody(9, "fail", `{}`),
		callBody(10, "plain", `{}`),
		callBody(11, "missing", `{}`),
		callBody(13, "empty", `{}`),
		`{"jsonrpc":"2.0","id":"s-12","method":"tools/call","params":{"name":"read"}}`,
	}
	for _, stateless := range []bool{true, false} {
		t.Run(fmt.Sprintf("stateless=%v", stateless), func(t *testing.T) {
			fastURL, fast, fastSeen := fastServer(t, Options{Stateless: stateless, SessionTimeout: time.Minute})
			sdkURL, _, sdkSeen := fastServer(t, Options{Stateless: stateless, SessionTimeout: time.Minute, DisableFastCalls: true})
			fastSession, sdkSession := "", ""
			if !stateless {
				fastSession, sdkSession = openSession(t, fastURL, "alice"), openSession(t, sdkURL, "alice")
				// The first call on a session is go-sdk's; it teaches the book.
				mcpPost(t, fastURL, fastHeaders("alice", fastSession), callBody(1, "read", `{}`))
				mcpPost(t, sdkURL, fastHeaders("alice", sdkSession), callBody(1, "read", `{}`))
			}
			before := fast.fastServed.Load()
			for _, body := range calls {
				got := mcpPost(t, fastURL, fastHeaders("alice", fastSession), body)
				want := mcpPost(t, sdkURL, fastHeaders("alice", sdkSession), body)
				if got.status != want.status || got.contentType != want.contentType || got.body != want.body {
					t.Errorf("%s\nfast path: %d %s %s\ngo-sdk:    %d %s %s", body, got.status, got.contentType, got.body, want.status, want.contentType, want.body)
				}
			}
			if n := fast.fastServed.Load() - before; n != int64(len(calls)) {
				t.Errorf("the fast path served %d of the %d calls", n, len(calls))
			}
			if fastSeen.Load() != sdkSeen.Load() {
				t.Errorf("the middleware saw %d calls on the fast path, %d through go-sdk", fastSeen.Load(), sdkSeen.Load())
			}
		})
	}
}

// What the fast path must not answer goes to go-sdk, which answers it as
// before: writes, batches, other methods, calls with _meta, another
// protocol version, the Mcp-Name header, and calls on a session the book
// has not learned yet.
func TestFastCallLeavesTheRestToGoSDK(t *testing.T) {
	url, srv, _ := fastServer(t, Options{SessionTimeout: time.Minute})
	session := openSession(t, url, "alice")
	first := mcpPost(t, url, fastHeaders("alice", session), callBody(1, "read", `{}`))
	first.jsonResult(t, 1)
	cases := []struct {
		name   string
		header map[string]string
		body   string
	}{
		{"write", nil, callBody(2, "write", `{}`)},
		{"tools/list", nil, `{"jsonrpc":"2.0","id":3,"method":"tools/list"}`},
		{"progress token", nil, `{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"read","_meta":{"progressToken":"p"}}}`},
		{"protocol 2025-06-18 with Mcp-Name", map[string]string{"Mcp-Name": "read"}, callBody(5, "read", `{}`)},
		{"protocol 2025-03-26", map[string]string{"Mcp-Protocol-Version": "2025-03-26"}, callBody(6, "read", `{}`)},
	}
	for _, c := range cases {
		h := fastHeaders("alice", session)
		for k, v := range c.header {
			h[k] = v
		}
		before := srv.fastServed.Load()
		r := mcpPost(t, url, h, c.body)
		if srv.fastServed.Load() != before {
			t.Errorf("%s: served by the fast path", c.name)
		}
		if r.status != http.StatusOK {
			t.Errorf("%s: %d %s", c.name, r.status, r.body)
		}
	}
	// A session nobody initialized is go-sdk's 404, not a fast answer.
	if r := mcpPost(t, url, fastHeaders("alice", "no-such-session"), callBody(7, "read", `{}`)); r.status != http.StatusNotFound {
		t.Errorf("unknown session: %d %s", r.status, r.body)
	}
}

// Fast calls keep a session alive (go-sdk, which no longer sees them, does
// not close it under its client); a session idle for the timeout is
// closed, and the next call on it is go-sdk's 404; so is a call after
// DELETE.
func TestFastCallSessions(t *testing.T) {
	const timeout = 400 * time.Millisecond
	url, srv, _ := fastServer(t, Options{SessionTimeout: timeout})
	session := openSession(t, url, "alice")
	deadline := time.Now().Add(3 * timeout)
	for i := 1; time.Now().Before(deadline); i++ {
		r := mcpPost(t, url, fastHeaders("alice", session), callBody(i, "read", `{}`))
		r.jsonResult(t, i)
		time.Sleep(timeout / 8)
	}
	if srv.fastServed.Load() == 0 {
		t.Fatal("no call took the fast path")
	}
	time.Sleep(2 * timeout) // idle: the sweep closes it within timeout/4
	if r := mcpPost(t, url, fastHeaders("alice", session), callBody(1000, "read", `{}`)); r.status != http.StatusNotFound {
		t.Errorf("call on a session idle for twice its timeout: %d %s; want 404", r.status, r.body)
	}

	other := openSession(t, url, "alice")
	mcpPost(t, url, fastHeaders("alice", other), callBody(1, "read", `{}`)).jsonResult(t, 1)
	req, _ := http.NewRequest(http.MethodDelete, url, nil)
	for k, v := range fastHeaders("alice", other) {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE: %d", resp.StatusCode)
	}
	if r := mcpPost(t, url, fastHeaders("alice", other), callBody(2, "read", `{}`)); r.status != http.StatusNotFound {
		t.Errorf("call after DELETE: %d %s; want 404", r.status, r.body)
	}
}

// Another user's call on a session is refused with go-sdk's 403 and does
// not run, on the fast path as through go-sdk.
func TestFastCallRefusesAnotherUsersSession(t *testing.T) {
	url, _, seen := fastServer(t, Options{SessionTimeout: time.Minute})
	session := openSession(t, url, "alice")
	mcpPost(t, url, fastHeaders("alice", session), callBody(1, "read", `{}`)).jsonResult(t, 1)
	before := seen.Load()
	r := mcpPost(t, url, fastHeaders("mallory", session), callBody(2, "read", `{}`))
	if r.status != http.StatusForbidden || !strings.Contains(r.body, "session user mismatch") {
		t.Errorf("mallory on alice's session: %d %s; want 403", r.status, r.body)
	}
	if seen.Load() != before {
		t.Error("the tool ran for mallory")
	}
}
