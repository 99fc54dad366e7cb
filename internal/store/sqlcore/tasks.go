package sqlcore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

const taskColumns = `id, owner, tool, status, status_message, created_at, updated_at, heartbeat_at, expires_at,
	poll_interval_ms, input_requests, input_responses, cancel_requested, result, error, version`

// CreateTask inserts the task (version 1).
func (o Ops) CreateTask(ctx context.Context, t *store.Task) error {
	_, err := o.exec(ctx, `INSERT INTO mcp_tasks (`+taskColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 1)`,
		t.ID, t.Owner, t.Tool, string(t.Status), t.StatusMessage, o.D.Time(t.CreatedAt), o.D.Time(t.UpdatedAt),
		o.D.Time(t.HeartbeatAt), o.D.Time(t.ExpiresAt), t.PollInterval.Milliseconds(),
		nullJSON(t.InputRequests), nullJSON(t.InputResponses), boolInt(t.CancelRequested), nullJSON(t.Result), nullJSON(t.Error))
	return wrapf(err, "create task")
}

// GetTask reads the owner's task.
func (o Ops) GetTask(ctx context.Context, owner, id string) (*store.Task, error) {
	t, _, err := o.getTask(ctx, owner, id)
	return t, err
}

func (o Ops) getTask(ctx context.Context, owner, id string) (*store.Task, int64, error) {
	var (
		t                          store.Task
		status                     string
		pollMs, cancelled, version int64
		in, answers, result, errJS sql.NullString
	)
	err := o.Read.QueryRow(ctx, `SELECT `+taskColumns+` FROM mcp_tasks WHERE id = $1 AND owner = $2`, id, owner).Scan(
		&t.ID, &t.Owner, &t.Tool, &status, &t.StatusMessage, o.D.ScanTime(&t.CreatedAt), o.D.ScanTime(&t.UpdatedAt),
		o.D.ScanTime(&t.HeartbeatAt), o.D.ScanTime(&t.ExpiresAt), &pollMs, &in, &answers, &cancelled, &result, &errJS, &version)
	if err != nil {
		return nil, 0, fmt.Errorf("read task %q: %w", id, NotFound(err))
	}
	t.Status, t.PollInterval, t.CancelRequested = store.TaskStatus(status), time.Duration(pollMs)*time.Millisecond, cancelled != 0
	t.InputRequests, t.InputResponses, t.Result, t.Error = rawJSON(in), rawJSON(answers), rawJSON(result), rawJSON(errJS)
	return &t, version, nil
}

// UpdateTask is optimistic: it reads the row and its version, applies fn,
// and writes only if the version is still the one it read, else starts
// again; so two replicas updating one task never lose a write, on either
// engine, without row locks.
func (o Ops) UpdateTask(ctx context.Context, owner, id string, fn func(*store.Task) error) (*store.Task, error) {
	for range 20 {
		t, version, err := o.getTask(ctx, owner, id)
		if err != nil {
			return nil, err
		}
		if err := fn(t); err != nil {
			return nil, err
		}
		n, err := o.exec(ctx, `UPDATE mcp_tasks SET status = $1, status_message = $2, updated_at = $3, heartbeat_at = $4,
			expires_at = $5, poll_interval_ms = $6, input_requests = $7, input_responses = $8, cancel_requested = $9,
			result = $10, error = $11, tool = $12, version = version + 1
			WHERE id = $13 AND owner = $14 AND version = $15`,
			string(t.Status), t.StatusMessage, o.D.Time(t.UpdatedAt), o.D.Time(t.HeartbeatAt), o.D.Time(t.ExpiresAt),
			t.PollInterval.Milliseconds(), nullJSON(t.InputRequests), nullJSON(t.InputResponses), boolInt(t.CancelRequested),
			nullJSON(t.Result), nullJSON(t.Error), t.Tool, id, owner, version)
		if err != nil {
			return nil, fmt.Errorf("update task %q: %w", id, err)
		}
		if n == 1 {
			t.ID, t.Owner = id, owner
			return t, nil
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("update task %q: %w: too many concurrent updates", id, domain.ErrConflict)
}

// FailStaleTasks fails the live tasks whose process stopped beating.
func (o Ops) FailStaleTasks(ctx context.Context, staleBefore, now time.Time, msg string, errJSON json.RawMessage) (int, error) {
	n, err := o.exec(ctx, `UPDATE mcp_tasks SET status = $1, status_message = $2, error = $3, updated_at = $4,
		input_requests = NULL, input_responses = NULL, version = version + 1
		WHERE status IN ($5, $6) AND heartbeat_at < $7`,
		string(store.TaskFailed), msg, nullJSON(errJSON), o.D.Time(now),
		string(store.TaskWorking), string(store.TaskInputRequired), o.D.Time(staleBefore))
	if err != nil {
		return 0, fmt.Errorf("fail stale tasks: %w", err)
	}
	return int(n), nil
}

// DeleteExpiredTasks removes expired tasks.
func (o Ops) DeleteExpiredTasks(ctx context.Context, now time.Time) (int, error) {
	n, err := o.exec(ctx, `DELETE FROM mcp_tasks WHERE expires_at < $1`, o.D.Time(now))
	if err != nil {
		return 0, fmt.Errorf("delete expired tasks: %w", err)
	}
	return int(n), nil
}

// The JSON columns are text on both engines: the database never looks
// inside them.
func nullJSON(b json.RawMessage) any {
	if len(b) == 0 {
		return nil
	}
	return string(b)
}

func rawJSON(s sql.NullString) json.RawMessage {
	if !s.Valid {
		return nil
	}
	return json.RawMessage(s.String)
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
