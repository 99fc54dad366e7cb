package tasks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// ownerKey carries, from the middleware to the method handlers, the
// identity a tasks/* request acts for (the handlers see no RequestExtra).
type ownerKey struct{}

func ownerOf(ctx context.Context) (string, error) {
	o, ok := ctx.Value(ownerKey{}).(string)
	if !ok {
		return "", errors.New("tasks: request reached a tasks/* handler without the tasks middleware")
	}
	return o, nil
}

func notFound(id string) error {
	return &jsonrpc.Error{Code: codeInvalidParams, Message: fmt.Sprintf("task %q not found (unknown, expired, or not yours)", id)}
}

// load returns the caller's task; an expired one not yet swept is as gone
// as a deleted one.
func (rt *Runtime) load(ctx context.Context, owner, id string) (*Task, error) {
	t, err := rt.opts.Store.GetTask(ctx, owner, id)
	if errors.Is(err, ErrNotFound) || (err == nil && !t.ExpiresAt.IsZero() && rt.opts.Now().After(t.ExpiresAt)) {
		return nil, notFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("read task: %w", err)
	}
	return t, nil
}

func (rt *Runtime) get(ctx context.Context, _ *mcp.ServerSession, p *TaskParams) (*GetTaskResult, error) {
	owner, err := ownerOf(ctx)
	if err != nil {
		return nil, err
	}
	t, err := rt.load(ctx, owner, p.TaskID)
	if err != nil {
		return nil, err
	}
	return detailed(t), nil
}

// update delivers the answers to outstanding input requests; answers to
// anything else are ignored, as the extension asks. A task left with no
// outstanding request is working again.
func (rt *Runtime) update(ctx context.Context, _ *mcp.ServerSession, p *UpdateParams) (*AckResult, error) {
	owner, err := ownerOf(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := rt.load(ctx, owner, p.TaskID); err != nil {
		return nil, err
	}
	now := rt.opts.Now()
	_, err = rt.opts.Store.UpdateTask(ctx, owner, p.TaskID, func(t *Task) error {
		if t.Status.Terminal() || len(p.InputResponses) == 0 {
			return nil
		}
		outstanding := map[string]json.RawMessage{}
		answers := map[string]json.RawMessage{}
		if len(t.InputRequests) > 0 {
			if err := json.Unmarshal(t.InputRequests, &outstanding); err != nil {
				return fmt.Errorf("stored input requests: %w", err)
			}
		}
		if len(t.InputResponses) > 0 {
			if err := json.Unmarshal(t.InputResponses, &answers); err != nil {
				return fmt.Errorf("stored input responses: %w", err)
			}
		}
		changed := false
		for k, v := range p.InputResponses {
			if _, ok := outstanding[k]; !ok {
				continue
			}
			answers[k] = v
			delete(outstanding, k)
			changed = true
		}
		if !changed {
			return nil
		}
		t.InputRequests, t.InputResponses = marshalOrNil(outstanding), marshalOrNil(answers)
		if len(outstanding) == 0 && t.Status == InputRequired {
			t.Status, t.StatusMessage = Working, ""
		}
		t.UpdatedAt = now
		return nil
	})
	if errors.Is(err, ErrNotFound) {
		return nil, notFound(p.TaskID)
	}
	if err != nil {
		return nil, fmt.Errorf("update task: %w", err)
	}
	rt.nudge(p.TaskID)
	return ack(), nil
}

// cancel asks the task to stop. Cancelling a finished task does nothing
// and is not an error; the task becomes cancelled once its tool has
// stopped (and, for a transactional workflow, rolled back).
func (rt *Runtime) cancel(ctx context.Context, _ *mcp.ServerSession, p *TaskParams) (*AckResult, error) {
	owner, err := ownerOf(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := rt.load(ctx, owner, p.TaskID); err != nil {
		return nil, err
	}
	// A task this process runs is stopped first, then flagged: its tool
	// may hold the database's one writer (SQLite) until it stops.
	rt.mu.Lock()
	r := rt.running[p.TaskID]
	rt.mu.Unlock()
	if r != nil && r.owner == owner {
		r.cancel(errCancelled)
	}
	_, err = rt.opts.Store.UpdateTask(ctx, owner, p.TaskID, func(t *Task) error {
		if !t.Status.Terminal() {
			t.CancelRequested = true
		}
		return nil
	})
	if errors.Is(err, ErrNotFound) {
		return nil, notFound(p.TaskID)
	}
	if err != nil {
		return nil, fmt.Errorf("cancel task: %w", err)
	}
	return ack(), nil
}

// nudge wakes the local run of a task, if this process runs it, so that it
// sees new answers at once rather than at its next poll.
func (rt *Runtime) nudge(id string) {
	rt.mu.Lock()
	r := rt.running[id]
	rt.mu.Unlock()
	if r != nil {
		r.wakeUp()
	}
}

func marshalOrNil(m map[string]json.RawMessage) json.RawMessage {
	if len(m) == 0 {
		return nil
	}
	b, _ := json.Marshal(m)
	return b
}
