package tools_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/atomcp/atomcp/internal/atoms"
	"github.com/atomcp/atomcp/internal/atoms/tools"
	"github.com/atomcp/atomcp/internal/tasks"
)

// taskServer serves the Atoms tools with a tasks runtime on the stateless
// 2026-07-28 wire, every call as alice.
func taskServer(t *testing.T, e *env, onReport func(ctx context.Context, id, msg string)) string {
	t.Helper()
	rt := tasks.New(tasks.Options{
		Store:        tasks.NewMemoryStore(),
		Owner:        func(context.Context, mcp.Request) (string, error) { return "alice", nil },
		PollInterval: 10 * time.Millisecond,
		OnReport:     onReport,
	})
	caps := &mcp.ServerCapabilities{}
	tasks.Advertise(caps)
	server := mcp.NewServer(&mcp.Implementation{Name: "test", Version: "1"}, &mcp.ServerOptions{Capabilities: caps})
	tools.Register(server, tools.Deps{Service: e.svc, Caller: func(context.Context, *mcp.CallToolRequest) (atoms.Caller, error) { return alice, nil }})
	if err := rt.Install(server); err != nil {
		t.Fatal(err)
	}
	tools.DeclareTasks(rt)
	ts := httptest.NewServer(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, &mcp.StreamableHTTPOptions{Stateless: true, JSONResponse: true}))
	t.Cleanup(func() {
		ts.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := rt.Close(ctx); err != nil {
			t.Error(err)
		}
	})
	return ts.URL
}

// post sends one 2026-07-28 request that declares the tasks extension.
func post(t *testing.T, url, method string, params map[string]any) map[string]any {
	t.Helper()
	params["_meta"] = map[string]any{
		"io.modelcontextprotocol/protocolVersion":    "2026-07-28",
		"io.modelcontextprotocol/clientInfo":         map[string]any{"name": "t", "version": "1"},
		"io.modelcontextprotocol/clientCapabilities": map[string]any{"extensions": map[string]any{tasks.ExtensionID: map[string]any{}}},
	}
	body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("MCP-Protocol-Version", "2026-07-28")
	req.Header.Set("Mcp-Method", method)
	if name, ok := params["name"].(string); ok {
		req.Header.Set("Mcp-Name", name)
	} else if id, ok := params["taskId"].(string); ok {
		req.Header.Set("Mcp-Name", id)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Result map[string]any  `json:"result"`
		Error  json.RawMessage `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Error != nil {
		t.Fatalf("%s: %s, %v", method, out.Error, err)
	}
	return out.Result
}

func importTask(t *testing.T, url, doc string, n int) string {
	t.Helper()
	reqs := make([]any, n)
	for i := range reqs {
		reqs[i] = map[string]any{"name": fmt.Sprintf("Requirement %d", i)}
	}
	res := post(t, url, "tools/call", map[string]any{"name": "workflow_tool", "arguments": map[string]any{
		"workflow": "import_requirements", "parameters": map[string]any{"document_id": doc, "requirements": reqs},
	}})
	id, _ := res["taskId"].(string)
	if res["resultType"] != "task" || id == "" {
		t.Fatalf("import_requirements with the extension: %v, want a task", res)
	}
	return id
}

func waitTerminal(t *testing.T, url, id string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		res := post(t, url, "tasks/get", map[string]any{"taskId": id})
		switch res["status"] {
		case "completed", "failed", "cancelled":
			return res
		}
		if time.Now().After(deadline) {
			t.Fatalf("task %s still %v", id, res["status"])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// An import run as a task commits its rows; cancelled half-way it rolls
// back, and leaves none.
func TestCancelledImportTaskLeavesNoRows(t *testing.T) {
	e := newEnv(t)
	cs := e.client(t, alice)
	_, _, doc := chain(t, cs, "Acme")

	var mu sync.Mutex
	reports := 0
	reached := make(chan struct{})
	url := taskServer(t, e, func(ctx context.Context, _, msg string) {
		mu.Lock()
		reports++
		n := reports
		mu.Unlock()
		if n == 2 { // some rows are in the transaction by now
			close(reached)
			<-ctx.Done() // hold the import here until the cancel lands
		}
	})

	id := importTask(t, url, doc, 200)
	select {
	case <-reached:
	case <-time.After(20 * time.Second):
		t.Fatal("the import reported no progress")
	}
	post(t, url, "tasks/cancel", map[string]any{"taskId": id})
	if res := waitTerminal(t, url, id); res["status"] != "cancelled" {
		t.Fatalf("cancelled import ended %v", res)
	}
	if n := count(t, cs, "requirement", nil); n != 0 {
		t.Fatalf("%d requirements after a cancelled import; want none", n)
	}

	// The same import, not cancelled, saves every row.
	done := importTask(t, url, doc, 200)
	if res := waitTerminal(t, url, done); res["status"] != "completed" {
		t.Fatalf("import ended %v", res)
	}
	if n := count(t, cs, "requirement", nil); n != 200 {
		t.Fatalf("%d requirements after the import; want 200", n)
	}
}

// An old-style call (the deployment's workflow_execute, with
// workflow_name) runs as a task exactly as its workflow_tool equivalent
// does, and the task's work is done.
func TestOldStyleCallRunsAsTask(t *testing.T) {
	e := newEnv(t)
	cs := e.client(t, alice)
	_, _, doc := chain(t, cs, "Acme")
	url := taskServer(t, e, nil)
	res := post(t, url, "tools/call", map[string]any{"name": "workflow_execute", "arguments": map[string]any{
		"workflow_name": "import_requirements",
		"parameters":    map[string]any{"document_id": doc, "requirements": []any{map[string]any{"name": "Old-style 1"}, map[string]any{"name": "Old-style 2"}}},
	}})
	id, _ := res["taskId"].(string)
	if res["resultType"] != "task" || id == "" {
		t.Fatalf("workflow_execute import_requirements with the extension: %v, want a task", res)
	}
	if res := waitTerminal(t, url, id); res["status"] != "completed" {
		t.Fatalf("task ended %v", res)
	}
	if n := count(t, cs, "requirement", nil); n != 2 {
		t.Fatalf("%d requirements after the old-style import task; want 2", n)
	}
}
