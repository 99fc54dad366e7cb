package clientcli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/atomcp/atomcp/internal/mcpclient"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/spf13/cobra"
)

// The tasks extension (SEP-2663), as docs/tasks.md describes it. The
// client keeps its own copy of the wire shapes: internal/tasks is the
// server side, with a store behind it.
const (
	tasksExtension    = "io.modelcontextprotocol/tasks"
	methodTasksGet    = "tasks/get"
	methodTasksCancel = "tasks/cancel"
	// defaultPoll is used when the server names no poll interval.
	defaultPoll = 500 * time.Millisecond
	// minPoll keeps a server that asks for 1 ms from being hammered.
	minPoll = 50 * time.Millisecond
)

// taskWire is the Task object: flat in a CreateTaskResult and in the
// answer of tasks/get.
type taskWire struct {
	TaskID         string `json:"taskId"`
	Status         string `json:"status"`
	StatusMessage  string `json:"statusMessage,omitempty"`
	CreatedAt      string `json:"createdAt,omitempty"`
	LastUpdatedAt  string `json:"lastUpdatedAt,omitempty"`
	TTLMs          *int64 `json:"ttlMs,omitempty"`
	PollIntervalMs int64  `json:"pollIntervalMs,omitempty"`
}

func (t *taskWire) terminal() bool {
	return t.Status == "completed" || t.Status == "failed" || t.Status == "cancelled"
}

func (t *taskWire) pollInterval() time.Duration {
	if t.PollIntervalMs <= 0 {
		return defaultPoll
	}
	return max(minPoll, time.Duration(t.PollIntervalMs)*time.Millisecond)
}

// taskResult answers tasks/get: the task and, by status, its result, its
// error or its outstanding input requests.
type taskResult struct {
	mcp.ResultBase
	ResultType string `json:"resultType,omitempty"`
	taskWire
	Result        json.RawMessage `json:"result,omitempty"`
	Error         json.RawMessage `json:"error,omitempty"`
	InputRequests json.RawMessage `json:"inputRequests,omitempty"`
}

// ackResult answers tasks/cancel.
type ackResult struct {
	mcp.ResultBase
	ResultType string `json:"resultType,omitempty"`
}

// taskParams are the params of tasks/get and tasks/cancel.
type taskParams struct {
	mcp.ParamsBase
	TaskID string `json:"taskId"`
}

// taskSession is a session that declares the tasks extension in every
// request, with tasks/get and tasks/cancel registered; capture holds the
// raw answer of the last tools/call, where a CreateTaskResult is (go-sdk
// decodes a tools/call answer as a CallToolResult, which has no task).
type taskSession struct {
	*clientSession
	capture *answerCapture
}

func (f *clientFlags) connectTasks(cmd *cobra.Command, raw string) (*taskSession, error) {
	capture := &answerCapture{}
	s, err := f.connectWith(cmd.Context(), cmd, raw, false, func(o *mcpclient.Options) error {
		caps := &mcp.ClientCapabilities{}
		caps.AddExtension(tasksExtension, nil)
		o.ClientOptions = &mcp.ClientOptions{Capabilities: caps}
		base := o.HTTPClient
		if base == nil {
			base = &http.Client{}
		}
		hc := *base
		capture.base = hc.Transport
		if capture.base == nil {
			capture.base = http.DefaultTransport
		}
		hc.Transport = capture
		o.HTTPClient = &hc
		o.Prepare = func(c *mcp.Client) error {
			if err := mcp.AddSendingCustomMethod[*taskParams, *taskResult](c, methodTasksGet); err != nil {
				return err
			}
			return mcp.AddSendingCustomMethod[*taskParams, *ackResult](c, methodTasksCancel)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &taskSession{clientSession: s, capture: capture}, nil
}

func (s *taskSession) get(ctx context.Context, id string) (*taskResult, error) {
	r, err := mcp.CallCustomMethod[*taskParams, *taskResult](ctx, s.ClientSession, methodTasksGet, &taskParams{TaskID: id})
	if err != nil {
		return nil, s.Describe(err)
	}
	return r, nil
}

func (s *taskSession) cancel(ctx context.Context, id string) error {
	if _, err := mcp.CallCustomMethod[*taskParams, *ackResult](ctx, s.ClientSession, methodTasksCancel, &taskParams{TaskID: id}); err != nil {
		return s.Describe(err)
	}
	return nil
}

// answerCapture is the HTTP transport under the session: it keeps the
// body of the last tools/call answer, and names the task of a tasks/*
// request in its Mcp-Name header, as the extension asks (go-sdk sets
// Mcp-Name only for the core methods).
type answerCapture struct {
	base http.RoundTripper
	mu   sync.Mutex
	last []byte
}

func (c *answerCapture) RoundTrip(req *http.Request) (*http.Response, error) {
	method := req.Header.Get("Mcp-Method")
	if strings.HasPrefix(method, "tasks/") && req.Header.Get("Mcp-Name") == "" && req.Body != nil {
		body, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("read the %s request: %w", method, err)
		}
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		var m struct {
			Params struct {
				TaskID string `json:"taskId"`
			} `json:"params"`
		}
		if json.Unmarshal(body, &m) == nil && m.Params.TaskID != "" {
			req.Header.Set("Mcp-Name", m.Params.TaskID)
		}
	}
	resp, err := c.base.RoundTrip(req)
	if err != nil || method != "tools/call" {
		return resp, err
	}
	c.mu.Lock()
	c.last = nil
	c.mu.Unlock()
	resp.Body = &teeBody{ReadCloser: resp.Body, c: c}
	return resp, nil
}

type teeBody struct {
	io.ReadCloser
	c *answerCapture
}

func (b *teeBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.c.mu.Lock()
		b.c.last = append(b.c.last, p[:n]...)
		b.c.mu.Unlock()
	}
	return n, err
}

// createdTask finds a CreateTaskResult in the last tools/call answer, a
// JSON body or an event stream; nil when the call was answered at once.
func (c *answerCapture) createdTask() *taskWire {
	c.mu.Lock()
	body := bytes.Clone(c.last)
	c.mu.Unlock()
	var candidates [][]byte
	if t := bytes.TrimSpace(body); len(t) > 0 && t[0] == '{' {
		candidates = append(candidates, t)
	} else {
		sc := bufio.NewScanner(bytes.NewReader(body))
		sc.Buffer(make([]byte, 0, 64*1024), 16<<20)
		var data []byte
		for sc.Scan() {
			line := sc.Bytes()
			switch {
			case bytes.HasPrefix(line, []byte("data:")):
				data = append(data, bytes.TrimPrefix(bytes.TrimPrefix(line, []byte("data:")), []byte(" "))...)
				data = append(data, '\n')
			case len(line) == 0 && len(data) > 0:
				candidates = append(candidates, data)
				data = nil
			}
		}
		if len(data) > 0 {
			candidates = append(candidates, data)
		}
	}
	for _, m := range candidates {
		var msg struct {
			Result *struct {
				ResultType string `json:"resultType"`
				taskWire
			} `json:"result"`
		}
		if json.Unmarshal(m, &msg) == nil && msg.Result != nil && msg.Result.ResultType == "task" && msg.Result.TaskID != "" {
			return &msg.Result.taskWire
		}
	}
	return nil
}

// callAsTask is `tools call --task`: start the call as a task, follow it,
// print its result.
func callAsTask(cmd *cobra.Command, f *clientFlags, url, name, jsonArgs string, argPairs []string, jsonOut bool) error {
	ctx := cmd.Context()
	s, err := f.connectTasks(cmd, url)
	if err != nil {
		return err
	}
	defer s.Close()
	arguments, err := callArguments(ctx, s.clientSession, url, name, jsonArgs, argPairs)
	if err != nil {
		return err
	}
	res, err := s.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: arguments})
	if err != nil {
		return s.Describe(err)
	}
	t := s.capture.createdTask()
	if t == nil {
		// Not a task: the server answered at once.
		fmt.Fprintf(cmd.ErrOrStderr(), "The server ran %s at once, not as a task.\n", name)
		return printToolResult(cmd.OutOrStdout(), name, res, jsonOut)
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "Task %s started (%s).\n", t.TaskID, statusLine(t))
	r, err := follow(ctx, cmd.ErrOrStderr(), s, url, t)
	if err != nil {
		return err
	}
	return printOutcome(cmd.OutOrStdout(), name, r, jsonOut)
}

// follow polls the task at the server's interval until it ends, showing
// on w each status or progress message that differs from the last one (t
// is the one the caller has shown). An interrupt (the command's context
// ends) stops the polling, not the task, and the error says how to pick
// the task up again.
func follow(ctx context.Context, w io.Writer, s *taskSession, url string, t *taskWire) (*taskResult, error) {
	last := *t
	for {
		wait := time.NewTimer(last.pollInterval())
		select {
		case <-ctx.Done():
			wait.Stop()
			return nil, interrupted(url, t.TaskID)
		case <-wait.C:
		}
		r, err := s.get(ctx, t.TaskID)
		if err != nil {
			if ctx.Err() != nil {
				return nil, interrupted(url, t.TaskID)
			}
			return nil, err
		}
		if (r.Status != last.Status || r.StatusMessage != last.StatusMessage) && (!r.terminal() || r.StatusMessage != "") {
			fmt.Fprintln(w, statusLine(&r.taskWire))
		}
		last = r.taskWire
		if r.terminal() || r.Status == "input_required" {
			return r, nil
		}
	}
}

func interrupted(url, id string) error {
	return fmt.Errorf("interrupted; the task %s goes on running on the server: `atomcp tasks get %s %s --wait` waits for its result, `atomcp tasks cancel %s %s` cancels it", id, url, id, url, id)
}

func statusLine(t *taskWire) string {
	if t.StatusMessage != "" {
		return fmt.Sprintf("%s: %s", t.Status, t.StatusMessage)
	}
	return t.Status
}

// printOutcome prints how a task ended: its tool's result when it
// completed (as `tools call` prints it); an error otherwise.
func printOutcome(out io.Writer, name string, r *taskResult, jsonOut bool) error {
	switch r.Status {
	case "completed":
		var res mcp.CallToolResult
		if err := json.Unmarshal(r.Result, &res); err != nil {
			return fmt.Errorf("the result of task %s is not a tool result: %w", r.TaskID, err)
		}
		if name == "" {
			name = "of task " + r.TaskID
		}
		return printToolResult(out, name, &res, jsonOut)
	case "failed":
		var e struct {
			Code    int64  `json:"code"`
			Message string `json:"message"`
		}
		if json.Unmarshal(r.Error, &e) == nil && e.Message != "" {
			return fmt.Errorf("the task %s failed: %s (code %d)", r.TaskID, e.Message, e.Code)
		}
		return fmt.Errorf("the task %s failed", r.TaskID)
	case "cancelled":
		return fmt.Errorf("the task %s was cancelled", r.TaskID)
	case "input_required":
		return fmt.Errorf("the task %s waits for input, which atomcp cannot give yet (its requests: %s)", r.TaskID, strings.TrimSpace(string(r.InputRequests)))
	}
	return fmt.Errorf("the task %s is %s", r.TaskID, r.Status)
}

func newTasksCmd(version string) *cobra.Command {
	f := &clientFlags{version: version}
	cmd := &cobra.Command{
		Use:   "tasks",
		Short: "Follow and cancel the tasks of a remote MCP server (tasks extension; see tools call --task)",
	}
	f.bind(cmd)
	cmd.AddCommand(newTasksGetCmd(f), newTasksCancelCmd(f))
	return cmd
}

func newTasksGetCmd(f *clientFlags) *cobra.Command {
	var wait bool
	cmd := &cobra.Command{
		Use:   "get URL ID",
		Short: "Show the status of the task ID (with --wait: wait for it to end and print its result)",
		Long: `Show the status of the task ID of the MCP server at URL, and its result
when it has completed. --wait follows the task until it ends, showing its
progress on stderr, and prints its result as tools call does (--json: the
tool's result as JSON). Without --wait, --json prints the task as the
server answered it. The exit status is 1 when the task failed, was
cancelled or its tool reported an error.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			s, err := f.connectTasks(cmd, args[0])
			if err != nil {
				return err
			}
			defer s.Close()
			r, err := s.get(ctx, args[1])
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if wait && !r.terminal() && r.Status != "input_required" {
				fmt.Fprintln(cmd.ErrOrStderr(), statusLine(&r.taskWire))
				if r, err = follow(ctx, cmd.ErrOrStderr(), s, args[0], &r.taskWire); err != nil {
					return err
				}
			}
			if f.jsonOut && !wait {
				if err := printJSON(out, r); err != nil {
					return err
				}
				if r.terminal() && r.Status != "completed" {
					return fmt.Errorf("the task %s is %s", r.TaskID, r.Status)
				}
				return nil
			}
			if !r.terminal() && r.Status != "input_required" {
				fmt.Fprintf(out, "%s: %s\n", r.TaskID, statusLine(&r.taskWire))
				return nil
			}
			if !f.jsonOut {
				fmt.Fprintf(cmd.ErrOrStderr(), "%s: %s\n", r.TaskID, statusLine(&r.taskWire))
			}
			return printOutcome(out, "", r, f.jsonOut)
		},
	}
	cmd.Flags().BoolVar(&wait, "wait", false, "wait for the task to end and print its result")
	return cmd
}

func newTasksCancelCmd(f *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "cancel URL ID",
		Short: "Ask the task ID to stop (a finished task stays as it is)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			s, err := f.connectTasks(cmd, args[0])
			if err != nil {
				return err
			}
			defer s.Close()
			if err := s.cancel(ctx, args[1]); err != nil {
				return err
			}
			r, err := s.get(ctx, args[1])
			if err != nil {
				return err
			}
			if f.jsonOut {
				return printJSON(cmd.OutOrStdout(), r)
			}
			if r.terminal() {
				fmt.Fprintf(cmd.OutOrStdout(), "The task %s is %s.\n", r.TaskID, r.Status)
				return nil
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Asked the task %s to stop; it is %s until its tool has stopped (atomcp tasks get %s %s --wait follows it).\n", r.TaskID, r.Status, args[0], r.TaskID)
			return nil
		},
	}
}
