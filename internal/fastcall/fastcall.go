// Package fastcall remembers, for each *mcp.Server, the receiving
// middleware and tool handlers atomcp registers on it, so that the HTTP
// layer can run an eligible tools/call itself (internal/httpserver's fast
// path) through exactly the chain go-sdk would run it through.
//
// Why: go-sdk serves every call through its Streamable HTTP transport, a
// jsonrpc2 connection per session and an SSE stream per POST; for a short
// read that machinery costs more CPU than the tool (docs/performance.md,
// "The fast path for read-only tool calls"). The fast path skips the
// transport, never the middleware: every receiving middleware must be
// added with Use, and every tool the fast path may run with AddTool, or
// the fast path would run a call without it. A test in this package
// (TestNoMiddlewareBypassesTheFastPath) refuses a direct
// AddReceivingMiddleware anywhere in atomcp.
package fastcall

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"weak"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Calls is what one server's fast path needs: its middleware, in the order
// added, its tool handlers by name, and which calls may take the fast path.
type Calls struct {
	mu       sync.RWMutex
	mws      []mcp.Middleware // in the order go-sdk wraps the handler in them
	tools    map[string]mcp.ToolHandler
	eligible func(tool string, arguments []byte) bool
	chain    mcp.MethodHandler // built on first use, reset by Use
}

// registry maps a server, weakly (a server no longer used is forgotten),
// to its Calls.
var registry sync.Map // weak.Pointer[mcp.Server] → *Calls

// For returns the Calls of s, making them on first use.
func For(s *mcp.Server) *Calls {
	key := weak.Make(s)
	if c, ok := registry.Load(key); ok {
		return c.(*Calls)
	}
	c, loaded := registry.LoadOrStore(key, &Calls{tools: map[string]mcp.ToolHandler{}})
	if !loaded {
		runtime.AddCleanup(s, func(k weak.Pointer[mcp.Server]) { registry.Delete(k) }, key)
	}
	return c.(*Calls)
}

// Lookup returns the Calls of s if anything was registered on it.
func Lookup(s *mcp.Server) (*Calls, bool) {
	c, ok := registry.Load(weak.Make(s))
	if !ok {
		return nil, false
	}
	return c.(*Calls), true
}

// Use adds receiving middleware to s, as s.AddReceivingMiddleware does,
// and records it for the fast path.
func Use(s *mcp.Server, mw ...mcp.Middleware) {
	s.AddReceivingMiddleware(mw...)
	c := For(s)
	c.mu.Lock()
	defer c.mu.Unlock()
	// go-sdk wraps the handler in the last of one call's middleware
	// first (the first listed ends outermost); recorded in wrapping order.
	for _, m := range slices.Backward(mw) {
		c.mws = append(c.mws, m)
	}
	c.chain = nil
}

// AddTool adds a tool to s, as s.AddTool does, and records its handler for
// the fast path.
func AddTool(s *mcp.Server, t *mcp.Tool, h mcp.ToolHandler) {
	s.AddTool(t, h)
	c := For(s)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tools[t.Name] = h
}

// SetEligible sets which tool calls may take the fast path (none until it
// is set). It is asked with the tool name and arguments as the client sent
// them, before any middleware ran.
func SetEligible(s *mcp.Server, f func(tool string, arguments []byte) bool) {
	c := For(s)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.eligible = f
}

// Eligible reports whether a call of tool with arguments may take the fast
// path.
func (c *Calls) Eligible(tool string, arguments []byte) bool {
	c.mu.RLock()
	f := c.eligible
	c.mu.RUnlock()
	return f != nil && f(tool, arguments)
}

// Call runs a tools/call through the middleware, in go-sdk's order (the
// last added runs first), down to the tool handler, as go-sdk's
// Server.callTool does: an unknown tool is a JSON-RPC invalid-params
// error, a result without content gets an empty content list.
func (c *Calls) Call(ctx context.Context, req *mcp.CallToolRequest) (mcp.Result, error) {
	return c.handler()(ctx, "tools/call", req)
}

func (c *Calls) handler() mcp.MethodHandler {
	c.mu.RLock()
	h := c.chain
	c.mu.RUnlock()
	if h != nil {
		return h
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.chain == nil {
		h := mcp.MethodHandler(c.callTool)
		for _, mw := range c.mws {
			h = mw(h)
		}
		c.chain = h
	}
	return c.chain
}

// callTool is the end of the chain: go-sdk's Server.callTool for the
// tools recorded here.
func (c *Calls) callTool(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
	call, ok := req.(*mcp.CallToolRequest)
	if method != "tools/call" || !ok || call.Params == nil {
		return nil, fmt.Errorf("fastcall: %s is not a tool call", method)
	}
	c.mu.RLock()
	h := c.tools[call.Params.Name]
	c.mu.RUnlock()
	if h == nil {
		return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: fmt.Sprintf("unknown tool %q", call.Params.Name)}
	}
	res, err := h(ctx, call)
	if err != nil || res == nil {
		return res, err
	}
	if res.InputRequests != nil {
		// go-sdk turns these into a multi-round-trip result; no tool the
		// fast path runs asks for input, so one that does is a bug here.
		return nil, fmt.Errorf("fastcall: tool %q asked for input on the fast path; it must not be eligible", call.Params.Name)
	}
	if res.Content == nil {
		res2 := *res
		res2.Content = []mcp.Content{}
		res = &res2
	}
	return res, nil
}
