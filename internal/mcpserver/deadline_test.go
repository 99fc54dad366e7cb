package mcpserver

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	_ "modernc.org/sqlite"
)

// TestToolCallsHaveADeadline: a tool call still running at the deadline
// sees its context end (and so do its store queries, next test).
func TestToolCallsHaveADeadline(t *testing.T) {
	s := mcp.NewServer(&mcp.Implementation{Name: "t", Version: "1"}, nil)
	ended := make(chan error, 1)
	mcp.AddTool(s, &mcp.Tool{Name: "slow"}, func(ctx context.Context, _ *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
		select {
		case <-ctx.Done():
			ended <- ctx.Err()
		case <-time.After(10 * time.Second):
			ended <- nil
		}
		return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: "stopped"}}}, nil, nil
	})
	s.AddReceivingMiddleware(requestDeadline(100 * time.Millisecond))
	st, ct := mcp.NewInMemoryTransports()
	ss, err := s.Connect(t.Context(), st, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ss.Close()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "c", Version: "1"}, nil).Connect(t.Context(), ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	start := time.Now()
	if _, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "slow", Arguments: map[string]any{}}); err != nil {
		t.Fatal(err)
	}
	if err := <-ended; !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("the tool's context ended with %v, want the deadline", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the call returned after %v with a 100 ms deadline", d)
	}
}

// TestSQLiteQueriesStopWithTheirContext: the driver the store uses
// interrupts a running statement when its context ends, so a tool call's
// deadline stops its queries, not only the Go code around them.
func TestSQLiteQueriesStopWithTheirContext(t *testing.T) {
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "x.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	var n int64
	// Counting to ten billion takes minutes.
	err = db.QueryRowContext(ctx, `WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 10000000000) SELECT count(*) FROM c`).Scan(&n)
	if err == nil {
		t.Fatalf("the query finished: %d", n)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("the query stopped %v after it started, its context after 200ms (err %v)", d, err)
	}
}
