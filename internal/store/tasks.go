package store

import (
	"context"
	"encoding/json"
	"time"
)

// TaskStatus is where an MCP task is in its life: working and
// input_required are live, the other three are terminal and final.
type TaskStatus string

// The statuses of the tasks extension.
const (
	TaskWorking       TaskStatus = "working"
	TaskInputRequired TaskStatus = "input_required"
	TaskCompleted     TaskStatus = "completed"
	TaskFailed        TaskStatus = "failed"
	TaskCancelled     TaskStatus = "cancelled"
)

// Terminal reports whether s is a final status.
func (s TaskStatus) Terminal() bool {
	return s == TaskCompleted || s == TaskFailed || s == TaskCancelled
}

// Task is one MCP task (internal/tasks) as the database keeps it. The
// JSON fields hold what the wire carries, so that a replica that did not
// run the task can still answer tasks/get for it.
type Task struct {
	ID string
	// Owner is the caller identity that created the task; only it may see
	// or change the task.
	Owner         string
	Tool          string
	Status        TaskStatus
	StatusMessage string
	CreatedAt     time.Time
	UpdatedAt     time.Time
	// HeartbeatAt is when the process running the task last said it still
	// is; a live task whose heartbeat is old lost its process.
	HeartbeatAt time.Time
	// ExpiresAt is when the task and its result are removed.
	ExpiresAt    time.Time
	PollInterval time.Duration
	// InputRequests are the outstanding input requests (an object of
	// key → {method, params}), InputResponses the answers received for
	// them that the running tool has not taken yet.
	InputRequests  json.RawMessage
	InputResponses json.RawMessage
	// CancelRequested is set by tasks/cancel; the process running the task
	// sees it and stops the tool.
	CancelRequested bool
	// Result is the CallToolResult of a completed task, Error the JSON-RPC
	// error ({code, message}) of a failed one.
	Result json.RawMessage
	Error  json.RawMessage
}

// Tasks keeps MCP tasks, so that a task outlives the request that
// started it, the process that runs it, and is read on any replica.
type Tasks interface {
	// CreateTask stores a new task; it is readable once this returns.
	CreateTask(ctx context.Context, t *Task) error
	// GetTask returns the owner's task; domain.ErrNotFound if there is no
	// such task or it is another owner's (the two are not told apart).
	GetTask(ctx context.Context, owner, id string) (*Task, error)
	// UpdateTask applies fn to the owner's task and stores the result,
	// atomically even against other processes on the database (fn may run
	// more than once); fn's error aborts the update and is returned. ID
	// and Owner cannot change.
	UpdateTask(ctx context.Context, owner, id string, fn func(*Task) error) (*Task, error)
	// FailStaleTasks marks failed, with msg and errJSON, every live task
	// whose heartbeat is before staleBefore, and says how many.
	FailStaleTasks(ctx context.Context, staleBefore, now time.Time, msg string, errJSON json.RawMessage) (int, error)
	// DeleteExpiredTasks removes the tasks that expired before now and
	// says how many.
	DeleteExpiredTasks(ctx context.Context, now time.Time) (int, error)
}
