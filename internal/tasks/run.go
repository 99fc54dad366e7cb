package tasks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// run is a task this process is running.
type run struct {
	rt        *Runtime
	id, owner string
	cancel    context.CancelCauseFunc
	wake      chan struct{}

	mu sync.Mutex
	// report is the latest progress the tool reported, written the one
	// the watcher last stored.
	report, written string
}

type runKey struct{}

func (r *run) wakeUp() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// start stores the task (so tasks/get answers for it before the client
// even has its id) and runs the tool's handler on a context of its own:
// the request's ends with the response, and a stateless session with it.
func (rt *Runtime) start(ctx context.Context, next mcp.MethodHandler, req *mcp.CallToolRequest, owner string) (*Task, error) {
	now := rt.opts.Now()
	t := &Task{
		ID: newID(), Owner: owner, Tool: req.Params.Name, Status: Working,
		CreatedAt: now, UpdatedAt: now, HeartbeatAt: now,
		ExpiresAt: now.Add(rt.opts.TTL), PollInterval: rt.opts.PollInterval,
	}
	rt.mu.Lock()
	closed := rt.closed
	rt.mu.Unlock()
	if closed {
		return nil, errShutdown
	}
	if err := rt.opts.Store.CreateTask(ctx, t); err != nil {
		return nil, fmt.Errorf("create task: %w", err)
	}
	runCtx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	r := &run{rt: rt, id: t.ID, owner: owner, cancel: cancel, wake: make(chan struct{}, 1)}
	runCtx = context.WithValue(runCtx, runKey{}, r)
	rt.mu.Lock()
	rt.running[t.ID] = r
	rt.wg.Add(1)
	rt.mu.Unlock()
	go r.execute(runCtx, next, req)
	return t, nil
}

func (r *run) execute(ctx context.Context, next mcp.MethodHandler, req *mcp.CallToolRequest) {
	defer r.rt.wg.Done()
	defer func() {
		r.rt.mu.Lock()
		delete(r.rt.running, r.id)
		r.rt.mu.Unlock()
	}()
	go r.watch(ctx)
	res, err := call(ctx, next, req)
	cause := context.Cause(ctx)
	r.cancel(nil) // stops the watcher
	r.finish(res, err, cause)
}

// call runs the handler chain; a panic fails the task rather than the
// process.
func call(ctx context.Context, next mcp.MethodHandler, req *mcp.CallToolRequest) (res mcp.Result, err error) {
	defer func() {
		if v := recover(); v != nil {
			res, err = nil, fmt.Errorf("the tool panicked: %v", v)
		}
	}()
	return next(ctx, "tools/call", req)
}

// finish records how the tool ended. A task that was cancelled is
// cancelled unless its tool still returned a successful result (the work
// was done after all); a task that was already terminal stays as it is.
func (r *run) finish(res mcp.Result, err error, cause error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	now := r.rt.opts.Now()
	ctr, _ := res.(*mcp.CallToolResult)
	_, uerr := r.rt.opts.Store.UpdateTask(ctx, r.owner, r.id, func(t *Task) error {
		if t.Status.Terminal() {
			return nil
		}
		t.InputRequests, t.InputResponses, t.UpdatedAt = nil, nil, now
		succeeded := err == nil && ctr != nil && !ctr.IsError && len(ctr.InputRequests) == 0
		switch {
		case errors.Is(cause, errShutdown) && !succeeded:
			t.Status, t.StatusMessage = Failed, errShutdown.Error()
			t.Error = errorJSON(codeInternal, errShutdown.Error())
		case errors.Is(cause, errCancelled) && !succeeded:
			t.Status, t.StatusMessage = Cancelled, "cancelled at the client's request"
		case err != nil:
			code, msg := int64(codeInternal), err.Error()
			var je *jsonrpc.Error
			if errors.As(err, &je) {
				code, msg = je.Code, je.Message
			}
			t.Status, t.StatusMessage, t.Error = Failed, msg, errorJSON(code, msg)
		case ctr == nil:
			t.Status, t.StatusMessage = Failed, "the tool returned no result"
			t.Error = errorJSON(codeInternal, t.StatusMessage)
		case len(ctr.InputRequests) > 0:
			// A tool that asks in-band inside a task has no client to
			// answer it; task input goes through Ask and tasks/update.
			t.Status, t.StatusMessage = Failed, "the tool asked for input in-band, which a task cannot answer"
			t.Error = errorJSON(codeInternal, t.StatusMessage)
		default:
			b, merr := json.Marshal(ctr)
			if merr != nil {
				t.Status, t.StatusMessage = Failed, "the tool's result could not be encoded"
				t.Error = errorJSON(codeInternal, t.StatusMessage)
				break
			}
			t.Status, t.StatusMessage, t.Result = Completed, "", b
		}
		return nil
	})
	if uerr != nil {
		r.rt.opts.Logger.Error("record the end of a task", "task", r.id, "err", uerr)
	}
}

// watch looks at the task's row every poll interval, for what may have
// reached another replica (a cancel, answers), and keeps the heartbeat
// that tells the sweepers this process still runs the task.
func (r *run) watch(ctx context.Context) {
	tick := time.NewTicker(r.rt.opts.PollInterval)
	defer tick.Stop()
	beat := r.rt.opts.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		t, err := r.rt.opts.Store.GetTask(ctx, r.owner, r.id)
		if errors.Is(err, ErrNotFound) {
			r.cancel(errCancelled) // expired and swept: nobody can read the result
			return
		}
		if err != nil {
			continue
		}
		if t.CancelRequested {
			r.cancel(errCancelled)
			return
		}
		if len(t.InputResponses) > 0 {
			r.wakeUp()
		}
		r.flushReport(ctx)
		if now := r.rt.opts.Now(); now.Sub(beat) >= r.rt.opts.Heartbeat {
			beat = now
			r.beat(ctx, now)
		}
	}
}

// beat records that this process still runs the task.
func (r *run) beat(ctx context.Context, now time.Time) {
	_, _ = r.rt.opts.Store.UpdateTask(ctx, r.owner, r.id, func(t *Task) error {
		t.HeartbeatAt = now
		return nil
	})
}

// ErrNotTask is returned by Ask when the call is not running as a task.
var ErrNotTask = errors.New("not running as a task")

// InTask reports whether ctx is that of a tool call running as a task.
func InTask(ctx context.Context) bool { return runOf(ctx) != nil }

func runOf(ctx context.Context) *run {
	r, _ := ctx.Value(runKey{}).(*run)
	return r
}

// Ask parks the task as input_required with the given input requests
// (their keys must be new to the task) and returns the answers once the
// client has sent every one with tasks/update. It returns ErrNotTask
// outside a task, and the context's error if the task is cancelled while
// it waits.
func Ask(ctx context.Context, reqs mcp.InputRequestMap) (map[string]json.RawMessage, error) {
	r := runOf(ctx)
	if r == nil {
		return nil, ErrNotTask
	}
	b, err := json.Marshal(reqs)
	if err != nil {
		return nil, fmt.Errorf("encode input requests: %w", err)
	}
	var asked map[string]json.RawMessage
	if err := json.Unmarshal(b, &asked); err != nil {
		return nil, fmt.Errorf("encode input requests: %w", err)
	}
	st := r.rt.opts.Store
	_, err = st.UpdateTask(ctx, r.owner, r.id, func(t *Task) error {
		out := map[string]json.RawMessage{}
		if len(t.InputRequests) > 0 {
			if err := json.Unmarshal(t.InputRequests, &out); err != nil {
				return err
			}
		}
		maps.Copy(out, asked)
		t.InputRequests, t.Status, t.StatusMessage, t.UpdatedAt = marshalOrNil(out), InputRequired, "waiting for the client's input", r.rt.opts.Now()
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("record input requests: %w", err)
	}
	keys := slices.Collect(maps.Keys(asked))
	for {
		got, err := r.take(ctx, keys)
		if err != nil || got != nil {
			return got, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-r.wake:
		case <-time.After(r.rt.opts.PollInterval):
		}
	}
}

// take removes and returns the answers to keys once all have arrived.
func (r *run) take(ctx context.Context, keys []string) (map[string]json.RawMessage, error) {
	var got map[string]json.RawMessage
	_, err := r.rt.opts.Store.UpdateTask(ctx, r.owner, r.id, func(t *Task) error {
		answers := map[string]json.RawMessage{}
		if len(t.InputResponses) > 0 {
			if err := json.Unmarshal(t.InputResponses, &answers); err != nil {
				return err
			}
		}
		for _, k := range keys {
			if _, ok := answers[k]; !ok {
				return errNotYet
			}
		}
		got = map[string]json.RawMessage{}
		for _, k := range keys {
			got[k] = answers[k]
			delete(answers, k)
		}
		t.InputResponses = marshalOrNil(answers)
		return nil
	})
	if errors.Is(err, errNotYet) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read answers: %w", err)
	}
	return got, nil
}

var errNotYet = errors.New("not all answers yet")

// Report sets the status message of the running task to msg (how far
// the work has got). It only records msg: the task's watcher writes the
// latest one at its next poll, so that a tool reporting from inside a
// database transaction never waits for the database (on SQLite the one
// writer connection is that transaction's). It reports whether ctx is a
// task's.
func Report(ctx context.Context, msg string) bool {
	r := runOf(ctx)
	if r == nil {
		return false
	}
	r.mu.Lock()
	r.report = msg
	r.mu.Unlock()
	if r.rt.opts.OnReport != nil {
		r.rt.opts.OnReport(ctx, r.id, msg)
	}
	return true
}

// flushReport writes the latest report, if it is new.
func (r *run) flushReport(ctx context.Context) {
	r.mu.Lock()
	msg, written := r.report, r.written
	r.written = msg
	r.mu.Unlock()
	if msg == "" || msg == written {
		return
	}
	now := r.rt.opts.Now()
	_, _ = r.rt.opts.Store.UpdateTask(ctx, r.owner, r.id, func(t *Task) error {
		if t.Status == Working {
			t.StatusMessage, t.UpdatedAt = msg, now
		}
		return nil
	})
}
