package tasks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// harness is a stateless MCP server with the tasks runtime over a memory
// store; the caller is whoever the X-User header names.
type harness struct {
	t     *testing.T
	url   string
	store Store
	rt    *Runtime
	// started counts the slow tool's runs; stopped its cancelled ones.
	started, stopped atomic.Int32
	// skew moves the runtime's clock forward (nanoseconds).
	skew atomic.Int64
	// stop shuts the server and the runtime down, as a process exit would
	// (it runs again at cleanup, harmlessly).
	stop func()
}

func newHarness(t *testing.T, store Store) *harness {
	t.Helper()
	h := &harness{t: t, store: store}
	h.rt = New(Options{
		Store:        store,
		PollInterval: 20 * time.Millisecond,
		Now:          func() time.Time { return time.Now().Add(time.Duration(h.skew.Load())) },
		Owner: func(_ context.Context, req mcp.Request) (string, error) {
			if e := req.GetExtra(); e != nil && e.Header.Get("X-User") != "" {
				return e.Header.Get("X-User"), nil
			}
			return "", errors.New("no user")
		},
	})
	caps := &mcp.ServerCapabilities{}
	Advertise(caps)
	s := mcp.NewServer(&mcp.Implementation{Name: "t", Version: "1"}, &mcp.ServerOptions{Capabilities: caps})
	type slowArgs struct {
		Millis int `json:"millis"`
	}
	mcp.AddTool(s, &mcp.Tool{Name: "slow"}, func(ctx context.Context, _ *mcp.CallToolRequest, a slowArgs) (*mcp.CallToolResult, any, error) {
		h.started.Add(1)
		Report(ctx, "halfway")
		select {
		case <-time.After(time.Duration(a.Millis) * time.Millisecond):
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "done"}}}, nil, nil
		case <-ctx.Done():
			h.stopped.Add(1)
			return nil, nil, ctx.Err()
		}
	})
	h.rt.Declare("slow", Always(Optional))
	mcp.AddTool(s, &mcp.Tool{Name: "must"}, func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, any, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "ok"}}}, nil, nil
	})
	h.rt.Declare("must", Always(Required))
	mcp.AddTool(s, &mcp.Tool{Name: "ask"}, func(ctx context.Context, _ *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
		got, err := Ask(ctx, mcp.InputRequestMap{
			"a": &mcp.ElicitParams{Message: "a?", RequestedSchema: map[string]any{"type": "object"}},
			"b": &mcp.ElicitParams{Message: "b?", RequestedSchema: map[string]any{"type": "object"}},
		})
		if err != nil {
			return nil, nil, err
		}
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: string(got["a"]) + string(got["b"])}}}, nil, nil
	})
	h.rt.Declare("ask", Always(Required))
	s.AddTool(&mcp.Tool{Name: "panics", InputSchema: map[string]any{"type": "object"}}, func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		panic("boom")
	})
	h.rt.Declare("panics", Always(Required))
	if err := h.rt.Install(s); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, &mcp.StreamableHTTPOptions{Stateless: true, JSONResponse: true}))
	h.stop = func() {
		ts.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := h.rt.Close(ctx); err != nil {
			t.Error(err)
		}
	}
	t.Cleanup(h.stop)
	h.url = ts.URL
	return h
}

type rpcError struct {
	Code    int64           `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data"`
}

// call sends one 2026-07-28 request as user, declaring the extension when
// ext is set; name is the Mcp-Name header ("" for none).
func (h *harness) call(user string, ext bool, method, name string, params map[string]any) (map[string]any, *rpcError) {
	h.t.Helper()
	caps := map[string]any{}
	if ext {
		caps["extensions"] = map[string]any{ExtensionID: map[string]any{}}
	}
	params["_meta"] = map[string]any{
		"io.modelcontextprotocol/protocolVersion":    "2026-07-28",
		"io.modelcontextprotocol/clientInfo":         map[string]any{"name": "t", "version": "1"},
		"io.modelcontextprotocol/clientCapabilities": caps,
	}
	body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
	req, _ := http.NewRequest(http.MethodPost, h.url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("MCP-Protocol-Version", "2026-07-28")
	req.Header.Set("Mcp-Method", method)
	if name != "" {
		req.Header.Set("Mcp-Name", name)
	}
	req.Header.Set("X-User", user)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Result map[string]any `json:"result"`
		Error  *rpcError      `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		h.t.Fatalf("%s: decode the response (HTTP %d): %v", method, resp.StatusCode, err)
	}
	return out.Result, out.Error
}

func (h *harness) mustCall(user, method, name string, params map[string]any) map[string]any {
	h.t.Helper()
	res, rerr := h.call(user, true, method, name, params)
	if rerr != nil {
		h.t.Fatalf("%s: error %d %s", method, rerr.Code, rerr.Message)
	}
	return res
}

func (h *harness) start(user, tool string, args map[string]any) string {
	h.t.Helper()
	res := h.mustCall(user, "tools/call", tool, map[string]any{"name": tool, "arguments": args})
	if res["resultType"] != "task" {
		h.t.Fatalf("tools/call %s: %v, want a CreateTaskResult", tool, res)
	}
	for _, k := range []string{"content", "requestState", "inputRequests", "result", "ttl", "pollInterval"} {
		if _, ok := res[k]; ok {
			h.t.Errorf("CreateTaskResult has %q: %v", k, res)
		}
	}
	id, _ := res["taskId"].(string)
	if len(id) < 20 {
		h.t.Fatalf("task id %q is not unguessable", id)
	}
	return id
}

func (h *harness) get(user, id string) map[string]any {
	h.t.Helper()
	return h.mustCall(user, MethodGet, id, map[string]any{"taskId": id})
}

// waitFor polls until the task has one of the statuses.
func (h *harness) waitFor(user, id string, statuses ...Status) map[string]any {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		res := h.get(user, id)
		for _, s := range statuses {
			if res["status"] == string(s) {
				return res
			}
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("task %s is %v, want one of %v", id, res["status"], statuses)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestTaskRunsToItsResult(t *testing.T) {
	h := newHarness(t, NewMemoryStore())
	id := h.start("alice", "slow", map[string]any{"millis": 100})
	res := h.get("alice", id)
	if res["resultType"] != "complete" || res["taskId"] != id {
		t.Fatalf("tasks/get right after the create: %v", res)
	}
	if ms, ok := res["ttlMs"].(float64); !ok || ms != float64(24*time.Hour/time.Millisecond) {
		t.Errorf("ttlMs %v, want the 24h default", res["ttlMs"])
	}
	res = h.waitFor("alice", id, Completed)
	result, _ := res["result"].(map[string]any)
	content, _ := result["content"].([]any)
	if len(content) != 1 || !strings.Contains(string(mustJSON(t, content)), "done") {
		t.Fatalf("completed task result %v", res)
	}
	if _, ok := res["error"]; ok {
		t.Errorf("completed task has an error: %v", res)
	}
}

func TestCancelStopsTheToolAndIsIdempotent(t *testing.T) {
	h := newHarness(t, NewMemoryStore())
	id := h.start("alice", "slow", map[string]any{"millis": 60000})
	ack := h.mustCall("alice", MethodCancel, id, map[string]any{"taskId": id})
	if len(ack) > 2 || ack["resultType"] != "complete" {
		t.Fatalf("tasks/cancel answered %v, want only resultType complete", ack)
	}
	h.waitFor("alice", id, Cancelled)
	if h.stopped.Load() != 1 {
		t.Errorf("the tool's context was not cancelled (stopped %d)", h.stopped.Load())
	}
	if again := h.mustCall("alice", MethodCancel, id, map[string]any{"taskId": id}); again["resultType"] != "complete" {
		t.Errorf("cancelling a cancelled task: %v", again)
	}
	if res := h.get("alice", id); res["status"] != string(Cancelled) {
		t.Errorf("a second cancel changed the task: %v", res)
	}
}

func TestWithoutTheExtension(t *testing.T) {
	h := newHarness(t, NewMemoryStore())
	// Optional: synchronous.
	res, rerr := h.call("alice", false, "tools/call", "slow", map[string]any{"name": "slow", "arguments": map[string]any{"millis": 1}})
	if rerr != nil || res["resultType"] == "task" || res["content"] == nil {
		t.Fatalf("optional tool without the extension: %v %v, want a synchronous result", res, rerr)
	}
	// Required: -32021 with the capability, before the tool runs.
	_, rerr = h.call("alice", false, "tools/call", "must", map[string]any{"name": "must", "arguments": map[string]any{}})
	if rerr == nil || rerr.Code != -32021 || !strings.Contains(string(rerr.Data), `"requiredCapabilities":{"extensions":{"`+ExtensionID) {
		t.Fatalf("required tool without the extension: %+v", rerr)
	}
	for _, m := range []string{MethodGet, MethodUpdate, MethodCancel} {
		_, rerr := h.call("alice", false, m, "gate", map[string]any{"taskId": "gate", "inputResponses": map[string]any{}})
		if rerr == nil || rerr.Code != -32021 {
			t.Errorf("%s without the extension: %+v, want -32021", m, rerr)
		}
	}
}

func TestRoutingHeaderMustNameTheTask(t *testing.T) {
	h := newHarness(t, NewMemoryStore())
	id := h.start("alice", "slow", map[string]any{"millis": 60000})
	_, rerr := h.call("alice", true, MethodGet, "another-task", map[string]any{"taskId": id})
	if rerr == nil || rerr.Code != -32020 {
		t.Fatalf("tasks/get with a wrong Mcp-Name: %+v, want -32020", rerr)
	}
	if res, rerr := h.call("alice", true, MethodGet, "", map[string]any{"taskId": id}); rerr != nil || res["taskId"] != id {
		t.Errorf("tasks/get without Mcp-Name: %v %+v", res, rerr)
	}
}

// Another caller's task is "not found", as an unknown id is: whether a
// task exists is not revealed to someone else.
func TestACallerSeesOnlyItsOwnTasks(t *testing.T) {
	h := newHarness(t, NewMemoryStore())
	slow := h.start("alice", "slow", map[string]any{"millis": 60000})
	asking := h.start("alice", "ask", map[string]any{})
	h.waitFor("alice", asking, InputRequired)
	for _, tc := range []struct {
		method string
		params map[string]any
	}{
		{MethodGet, map[string]any{"taskId": slow}},
		{MethodCancel, map[string]any{"taskId": slow}},
		{MethodUpdate, map[string]any{"taskId": asking, "inputResponses": map[string]any{"a": map[string]any{"action": "accept"}}}},
		{MethodGet, map[string]any{"taskId": "nonexistent"}},
	} {
		_, rerr := h.call("bob", true, tc.method, tc.params["taskId"].(string), tc.params)
		if rerr == nil || rerr.Code != -32602 {
			t.Errorf("bob's %s of %v: %+v, want -32602", tc.method, tc.params["taskId"], rerr)
		}
	}
	if res := h.get("alice", slow); res["status"] != string(Working) {
		t.Errorf("bob's cancel reached alice's task: %v", res)
	}
	if res := h.get("alice", asking); len(res["inputRequests"].(map[string]any)) != 2 {
		t.Errorf("bob's answer reached alice's task: %v", res)
	}
	if h.stopped.Load() != 0 {
		t.Error("bob stopped alice's tool")
	}
}

func TestInputRequiredTakesPartialAnswers(t *testing.T) {
	h := newHarness(t, NewMemoryStore())
	id := h.start("alice", "ask", map[string]any{})
	res := h.waitFor("alice", id, InputRequired)
	reqs, _ := res["inputRequests"].(map[string]any)
	if len(reqs) != 2 || reqs["a"].(map[string]any)["method"] != "elicitation/create" {
		t.Fatalf("input requests %v", res)
	}
	ack := h.mustCall("alice", MethodUpdate, id, map[string]any{"taskId": id, "inputResponses": map[string]any{
		"a": map[string]any{"action": "accept", "content": map[string]any{"x": 1}}, "unknown-key": map[string]any{"ignored": true},
	}})
	if len(ack) > 2 || ack["resultType"] != "complete" {
		t.Fatalf("tasks/update answered %v", ack)
	}
	res = h.get("alice", id)
	reqs, _ = res["inputRequests"].(map[string]any)
	if res["status"] != string(InputRequired) || len(reqs) != 1 || reqs["b"] == nil {
		t.Fatalf("after a partial answer: %v", res)
	}
	h.mustCall("alice", MethodUpdate, id, map[string]any{"taskId": id, "inputResponses": map[string]any{"b": map[string]any{"action": "decline"}}})
	res = h.waitFor("alice", id, Completed)
	if !strings.Contains(string(mustJSON(t, res["result"])), `decline`) {
		t.Errorf("the tool did not get both answers: %v", res)
	}
}

func TestPanicFailsTheTask(t *testing.T) {
	h := newHarness(t, NewMemoryStore())
	id := h.start("alice", "panics", map[string]any{})
	res := h.waitFor("alice", id, Failed)
	e, _ := res["error"].(map[string]any)
	if _, ok := e["code"].(float64); !ok || !strings.Contains(e["message"].(string), "boom") {
		t.Fatalf("failed task: %v", res)
	}
	if _, ok := res["result"]; ok {
		t.Errorf("a failed task has a result: %v", res)
	}
}

// A task whose process died (no heartbeat) is failed, with a reason, by
// the next Runtime that starts on the same store.
func TestTaskOfACrashedProcessIsFailedOnStart(t *testing.T) {
	store := NewMemoryStore()
	old := time.Now().Add(-time.Hour)
	if err := store.CreateTask(context.Background(), &Task{ID: "crashed-task-0000000000", Owner: "alice", Tool: "slow", Status: Working,
		CreatedAt: old, UpdatedAt: old, HeartbeatAt: old, ExpiresAt: old.Add(24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, store)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := h.rt.Start(ctx); err != nil {
		t.Fatal(err)
	}
	res := h.get("alice", "crashed-task-0000000000")
	if res["status"] != string(Failed) || !strings.Contains(res["statusMessage"].(string), "stopped") {
		t.Fatalf("after a restart: %v", res)
	}
	if e, _ := res["error"].(map[string]any); e["code"] == nil {
		t.Errorf("failed without an error: %v", res)
	}
}

func TestExpiredTasksAreGone(t *testing.T) {
	store := NewMemoryStore()
	h := newHarness(t, store)
	id := h.start("alice", "slow", map[string]any{"millis": 1})
	h.waitFor("alice", id, Completed)
	h.skew.Store(int64(25 * time.Hour))
	if _, rerr := h.call("alice", true, MethodGet, id, map[string]any{"taskId": id}); rerr == nil || rerr.Code != -32602 {
		t.Fatalf("tasks/get of an expired task: %+v", rerr)
	}
	if err := h.rt.Sweep(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := store.GetTask(context.Background(), "alice", id); !errors.Is(err, ErrNotFound) {
		t.Errorf("the sweep kept an expired task: %v", err)
	}
}

func TestProgressIsTheStatusMessage(t *testing.T) {
	h := newHarness(t, NewMemoryStore())
	id := h.start("alice", "slow", map[string]any{"millis": 60000})
	res := h.waitFor("alice", id, Working)
	deadline := time.Now().Add(2 * time.Second)
	for res["statusMessage"] != "halfway" && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
		res = h.get("alice", id)
	}
	if res["statusMessage"] != "halfway" {
		t.Errorf("status message %v, want the tool's report", res["statusMessage"])
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
