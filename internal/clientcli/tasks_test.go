package clientcli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/spf13/cobra"

	"github.com/atomcp/atomcp/internal/tasks"
)

// taskServer is a stateless MCP server with the tasks runtime: "slow"
// reports progress and answers once released (or after millis), "quick"
// is never a task.
type taskServer struct {
	url     string
	release chan struct{}
	started chan string // the label of each slow run, as it starts
	stopped chan string // the label of each slow run its cancel stopped

	mu        sync.Mutex
	nameHeads []string // Mcp-Name of the tasks/* requests
}

func newTaskServer(t *testing.T, jsonResponse bool) *taskServer {
	t.Helper()
	ts := &taskServer{release: make(chan struct{}), started: make(chan string, 10), stopped: make(chan string, 10)}
	rt := tasks.New(tasks.Options{
		Store:        tasks.NewMemoryStore(),
		PollInterval: 20 * time.Millisecond,
		Owner:        func(context.Context, mcp.Request) (string, error) { return "me", nil },
	})
	caps := &mcp.ServerCapabilities{}
	tasks.Advertise(caps)
	s := mcp.NewServer(&mcp.Implementation{Name: "t", Version: "1"}, &mcp.ServerOptions{Capabilities: caps})
	type slowArgs struct {
		Label  string `json:"label"`
		Millis int    `json:"millis,omitempty"`
	}
	mcp.AddTool(s, &mcp.Tool{Name: "slow"}, func(ctx context.Context, _ *mcp.CallToolRequest, a slowArgs) (*mcp.CallToolResult, any, error) {
		tasks.Report(ctx, "halfway through "+a.Label)
		ts.started <- a.Label
		var after <-chan time.Time
		if a.Millis > 0 {
			after = time.After(time.Duration(a.Millis) * time.Millisecond)
		}
		select {
		case <-after:
		case <-ts.release:
		case <-ctx.Done():
			ts.stopped <- a.Label
			return nil, nil, ctx.Err()
		}
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "done " + a.Label}}}, nil, nil
	})
	rt.Declare("slow", tasks.Always(tasks.Optional))
	mcp.AddTool(s, &mcp.Tool{Name: "quick"}, func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, any, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "quick answer"}}}, nil, nil
	})
	if err := rt.Install(s); err != nil {
		t.Fatal(err)
	}
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, &mcp.StreamableHTTPOptions{Stateless: true, JSONResponse: jsonResponse})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.Header.Get("Mcp-Method"), "tasks/") {
			ts.mu.Lock()
			ts.nameHeads = append(ts.nameHeads, r.Header.Get("Mcp-Name"))
			ts.mu.Unlock()
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := rt.Close(ctx); err != nil {
			t.Error(err)
		}
	})
	ts.url = srv.URL
	return ts
}

// run runs atomcp's client commands with args; ctx ends the run as
// Ctrl-C does (main's signal context).
func run(ctx context.Context, args ...string) (stdout, stderr string, err error) {
	root := &cobra.Command{Use: "atomcp", SilenceUsage: true, SilenceErrors: true}
	root.AddCommand(Commands("test")...)
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(append(args, "--token", "t"))
	err = root.ExecuteContext(ctx)
	return out.String(), errOut.String(), err
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestToolsCallTask(t *testing.T) {
	for _, jsonResponse := range []bool{true, false} {
		name := "event stream"
		if jsonResponse {
			name = "JSON"
		}
		t.Run(name, func(t *testing.T) {
			ts := newTaskServer(t, jsonResponse)
			ctx := testCtx(t)
			out, errOut, err := run(ctx, "tools", "call", "--task", ts.url, "slow", "--arg", "label=a", "--arg", "millis=300")
			if err != nil {
				t.Fatalf("%v (stderr %q)", err, errOut)
			}
			if out != "done a\n" {
				t.Errorf("stdout %q; want the tool's text", out)
			}
			if !regexp.MustCompile(`Task [A-Z0-9]+ started \(working`).MatchString(errOut) || !strings.Contains(errOut, "working: halfway through a") {
				t.Errorf("stderr %q; want the start and the progress", errOut)
			}
			ts.mu.Lock()
			heads := ts.nameHeads
			ts.mu.Unlock()
			if len(heads) == 0 || heads[0] == "" {
				t.Errorf("tasks/get was sent with Mcp-Name %q", heads)
			}

			out, _, err = run(ctx, "tools", "call", "--task", "--json", ts.url, "slow", "--input", `{"label":"b","millis":50}`)
			if err != nil {
				t.Fatal(err)
			}
			var res struct {
				Content []struct{ Text string } `json:"content"`
			}
			if json.Unmarshal([]byte(out), &res) != nil || len(res.Content) != 1 || res.Content[0].Text != "done b" {
				t.Errorf("--json printed %q; want the CallToolResult", out)
			}
		})
	}
}

func TestToolsCallTaskAnsweredAtOnce(t *testing.T) {
	ts := newTaskServer(t, true)
	out, errOut, err := run(testCtx(t), "tools", "call", "--task", ts.url, "quick")
	if err != nil || out != "quick answer\n" || !strings.Contains(errOut, "at once, not as a task") {
		t.Fatalf("%v, stdout %q, stderr %q", err, out, errOut)
	}
}

// interruptedTask starts slow as a task and interrupts the command once
// the tool runs, as Ctrl-C does; it returns the task id from the hint.
func interruptedTask(t *testing.T, ts *taskServer, label string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(testCtx(t))
	go func() {
		select {
		case <-ts.started:
			time.Sleep(100 * time.Millisecond) // a few polls
			cancel()
		case <-ctx.Done():
		}
	}()
	_, errOut, err := run(ctx, "tools", "call", "--task", ts.url, "slow", "--arg", "label="+label)
	cancel()
	if err == nil {
		t.Fatalf("the interrupted call succeeded (stderr %q)", errOut)
	}
	m := regexp.MustCompile("^interrupted; the task (\\S+) goes on running on the server: `atomcp tasks get (\\S+) (\\S+) --wait` waits for its result, `atomcp tasks cancel (\\S+) (\\S+)` cancels it$").FindStringSubmatch(err.Error())
	if m == nil || m[2] != ts.url || m[3] != m[1] || m[4] != ts.url || m[5] != m[1] {
		t.Fatalf("error %q; want the resume hint", err)
	}
	if !strings.Contains(errOut, "halfway through "+label) {
		t.Errorf("stderr %q; want the progress shown before the interrupt", errOut)
	}
	return m[1]
}

func TestTaskInterruptedThenResumed(t *testing.T) {
	ts := newTaskServer(t, true)
	ctx := testCtx(t)
	id := interruptedTask(t, ts, "r")
	select {
	case l := <-ts.stopped:
		t.Fatalf("the interrupt cancelled the task %s", l)
	default:
	}
	out, _, err := run(ctx, "tasks", "get", ts.url, id)
	if err != nil || out != id+": working: halfway through r\n" {
		t.Fatalf("tasks get: %v, %q", err, out)
	}
	out, _, err = run(ctx, "tasks", "get", "--json", ts.url, id)
	var w taskResult
	if err != nil || json.Unmarshal([]byte(out), &w) != nil || w.TaskID != id || w.Status != "working" {
		t.Fatalf("tasks get --json: %v, %q", err, out)
	}
	time.AfterFunc(200*time.Millisecond, func() { close(ts.release) })
	out, errOut, err := run(ctx, "tasks", "get", "--wait", ts.url, id)
	if err != nil || out != "done r\n" {
		t.Fatalf("tasks get --wait: %v, stdout %q, stderr %q", err, out, errOut)
	}
	if !strings.Contains(errOut, "working: halfway through r") {
		t.Errorf("stderr %q; want the status while waiting", errOut)
	}
	// Finished, it answers without --wait too.
	if out, _, err := run(ctx, "tasks", "get", ts.url, id); err != nil || out != "done r\n" {
		t.Errorf("tasks get of a completed task: %v, %q", err, out)
	}
}

func TestTaskCancel(t *testing.T) {
	ts := newTaskServer(t, true)
	ctx := testCtx(t)
	id := interruptedTask(t, ts, "c")
	out, _, err := run(ctx, "tasks", "cancel", ts.url, id)
	if err != nil || !strings.Contains(out, id) {
		t.Fatalf("tasks cancel: %v, %q", err, out)
	}
	select {
	case l := <-ts.stopped:
		if l != "c" {
			t.Fatalf("stopped %q", l)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the tool was not stopped")
	}
	_, _, err = run(ctx, "tasks", "get", "--wait", ts.url, id)
	if err == nil || err.Error() != "the task "+id+" was cancelled" {
		t.Fatalf("tasks get --wait of a cancelled task: %v", err)
	}
	if _, _, err := run(ctx, "tasks", "get", ts.url, "no-such-task"); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("an unknown task: %v", err)
	}
}
