package mcpserver

import (
	"context"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// requestDeadline gives every tools/call a deadline of timeout (0: none).
// The tool's context reaches the store, whose queries stop when it ends
// (the SQLite driver interrupts the statement; pgx cancels the query),
// and the tool answers that the call took too long.
//
// When is a call also cancelled? When the client sends
// notifications/cancelled, when its session closes, and, without sessions
// (ATOMCP_STATELESS, protocol 2026-07-28), when its HTTP request ends:
// the client went away. With sessions a dropped response stream does not
// cancel the call: the client may resume the stream (Last-Event-ID) and
// still get the result, so the deadline is what bounds it.
func requestDeadline(timeout time.Duration) mcp.Middleware {
	return func(next mcp.MethodHandler) mcp.MethodHandler {
		if timeout <= 0 {
			return next
		}
		return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
			if _, ok := req.(*mcp.CallToolRequest); !ok {
				return next(ctx, method, req)
			}
			ctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			return next(ctx, method, req)
		}
	}
}
