package tools_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/atomcp/atomcp/internal/atoms"
	"github.com/atomcp/atomcp/internal/atoms/tools"
)

// TestBatchCreateReportsProgress: a client that sends a progressToken gets
// progress notifications ending at the total.
func TestBatchCreateReportsProgress(t *testing.T) {
	e := newEnv(t)
	setup := e.client(t, alice)
	_, _, doc := chain(t, setup, "Progress")

	var (
		mu   sync.Mutex
		seen []float64
		// all is closed when the last notification was handled: go-sdk
		// hands notifications to their handler concurrently with the
		// response, so the result may be read before the handler of the
		// last notification has run.
		all = make(chan struct{})
	)
	server := mcp.NewServer(&mcp.Implementation{Name: "test", Version: "1"}, nil)
	tools.Register(server, tools.Deps{Service: e.svc, Caller: func(context.Context, *mcp.CallToolRequest) (atoms.Caller, error) { return alice, nil }})
	st, ct := mcp.NewInMemoryTransports()
	ctx := context.Background()
	ss, err := server.Connect(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ss.Close()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "c", Version: "1"}, &mcp.ClientOptions{
		ProgressNotificationHandler: func(_ context.Context, req *mcp.ProgressNotificationClientRequest) {
			mu.Lock()
			defer mu.Unlock()
			if req.Params.Total != 40 {
				t.Errorf("progress total = %v; want 40", req.Params.Total)
			}
			seen = append(seen, req.Params.Progress)
			if req.Params.Progress == 40 {
				close(all)
			}
		},
	}).Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()

	batch := make([]any, 40)
	for i := range batch {
		batch[i] = map[string]any{"document_id": doc, "name": fmt.Sprintf("r%d", i)}
	}
	params := &mcp.CallToolParams{Name: "entity_tool", Arguments: map[string]any{"entity_type": "requirement", "operation": "batch_create", "batch": batch}}
	params.SetProgressToken("batch-1")
	res, err := cs.CallTool(ctx, params)
	if err != nil || res.IsError {
		t.Fatalf("batch_create: %v %v", err, res)
	}
	select {
	case <-all:
	case <-time.After(10 * time.Second):
		t.Fatal("no progress notification reached 40 within 10 s of the result")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 20 || slices.Max(seen) != 40 {
		t.Fatalf("progress = %v; want 20 notifications ending at 40", seen)
	}
}
