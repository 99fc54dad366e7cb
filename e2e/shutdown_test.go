package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// TestGracefulShutdownFinishesToolCalls: SIGTERM while a batch_create is
// being served lets it finish and answer; the process then exits cleanly
// and the batch is stored.
func TestGracefulShutdownFinishesToolCalls(t *testing.T) {
	dir := t.TempDir()
	srv := startServer(t, dir)
	cs := connect(t, srv.URL)
	org := entityOf(t, mustCall(t, cs, "entity_tool", map[string]any{"entity_type": "organization", "operation": "create", "data": map[string]any{"name": "Shutdown"}}))
	proj := entityOf(t, mustCall(t, cs, "entity_tool", map[string]any{"entity_type": "project", "operation": "create", "data": map[string]any{"organization_id": org["id"], "name": "P"}}))
	doc := entityOf(t, mustCall(t, cs, "entity_tool", map[string]any{"entity_type": "document", "operation": "create", "data": map[string]any{"project_id": proj["id"], "name": "D"}}))

	const n = 1000
	batch := make([]any, n)
	for i := range batch {
		batch[i] = map[string]any{"document_id": doc["id"], "name": fmt.Sprintf("Drain %d", i), "external_id": fmt.Sprintf("TERM-%04d", i), "content": strings.Repeat("text ", 100)}
	}
	signal := &sentSignal{marker: "TERM-0000", sent: make(chan struct{})}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	session, err := mcp.NewClient(&mcp.Implementation{Name: "drain", Version: "1"}, nil).Connect(ctx,
		&mcp.StreamableClientTransport{Endpoint: srv.URL, HTTPClient: &http.Client{Transport: signal}, MaxRetries: -1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	type outcome struct {
		res *mcp.CallToolResult
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: "entity_tool", Arguments: map[string]any{"entity_type": "requirement", "operation": "batch_create", "batch": batch}})
		done <- outcome{res, err}
	}()
	<-signal.sent
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	got := <-done
	if got.err != nil || got.res.IsError {
		t.Fatalf("the call in flight at SIGTERM did not finish: %v %+v", got.err, got.res)
	}
	select {
	case err := <-srv.done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, srv.rest())
		}
	case <-time.After(45 * time.Second):
		t.Fatal("atomcp did not exit after SIGTERM")
	}
	srv = startServer(t, dir)
	cs = connect(t, srv.URL)
	list := mustCall(t, cs, "entity_tool", map[string]any{"entity_type": "requirement", "operation": "list", "filters": map[string]any{"document_id": doc["id"]}, "limit": 1})
	if list["total"] != float64(n) {
		t.Fatalf("%v of %d requirements stored", list["total"], n)
	}
}
