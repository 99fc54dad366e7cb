package tasks

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"time"
)

// Status is where a task is in its life: working and input_required are
// live, the other three are terminal and never change again.
type Status string

// The statuses of the extension.
const (
	Working       Status = "working"
	InputRequired Status = "input_required"
	Completed     Status = "completed"
	Failed        Status = "failed"
	Cancelled     Status = "cancelled"
)

// Terminal reports whether s is a final status.
func (s Status) Terminal() bool { return s == Completed || s == Failed || s == Cancelled }

// Task is one task as the store keeps it. The JSON fields hold what the
// wire carries, so a replica that did not run the task can still answer
// tasks/get for it.
type Task struct {
	ID string
	// Owner is the caller identity that created the task; only it may see
	// or change the task.
	Owner         string
	Tool          string
	Status        Status
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

// ErrNotFound is returned for a task that does not exist, has expired or
// belongs to another caller: the three are indistinguishable on purpose.
var ErrNotFound = errors.New("task not found")

// Store keeps tasks. Every method is safe for concurrent use, and
// UpdateTask is an atomic read-modify-write even across processes sharing
// one database.
type Store interface {
	// CreateTask stores a new task; it is readable once this returns.
	CreateTask(ctx context.Context, t *Task) error
	// GetTask returns the owner's task, or ErrNotFound.
	GetTask(ctx context.Context, owner, id string) (*Task, error)
	// UpdateTask applies fn to the owner's task and stores the result;
	// fn's error aborts the update and is returned.
	UpdateTask(ctx context.Context, owner, id string, fn func(*Task) error) (*Task, error)
	// FailStaleTasks marks failed every live task whose heartbeat is
	// before staleBefore, with msg and errJSON, and says how many.
	FailStaleTasks(ctx context.Context, staleBefore, now time.Time, msg string, errJSON json.RawMessage) (int, error)
	// DeleteExpiredTasks removes the tasks that expired before now.
	DeleteExpiredTasks(ctx context.Context, now time.Time) (int, error)
}

// MemoryStore is a Store in process memory, for tests and the
// conformance fixture; tasks do not outlive the process.
type MemoryStore struct {
	mu    sync.Mutex
	tasks map[string]*Task
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore { return &MemoryStore{tasks: map[string]*Task{}} }

// CreateTask implements Store.
func (m *MemoryStore) CreateTask(_ context.Context, t *Task) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.tasks[t.ID]; ok {
		return errors.New("create task: duplicate id")
	}
	m.tasks[t.ID] = clone(t)
	return nil
}

// GetTask implements Store.
func (m *MemoryStore) GetTask(_ context.Context, owner, id string) (*Task, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tasks[id]
	if !ok || t.Owner != owner {
		return nil, ErrNotFound
	}
	return clone(t), nil
}

// UpdateTask implements Store.
func (m *MemoryStore) UpdateTask(_ context.Context, owner, id string, fn func(*Task) error) (*Task, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tasks[id]
	if !ok || t.Owner != owner {
		return nil, ErrNotFound
	}
	c := clone(t)
	if err := fn(c); err != nil {
		return nil, err
	}
	c.ID, c.Owner = t.ID, t.Owner
	m.tasks[id] = clone(c)
	return c, nil
}

// FailStaleTasks implements Store.
func (m *MemoryStore) FailStaleTasks(_ context.Context, staleBefore, now time.Time, msg string, errJSON json.RawMessage) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, t := range m.tasks {
		if !t.Status.Terminal() && t.HeartbeatAt.Before(staleBefore) {
			t.Status, t.StatusMessage, t.Error, t.UpdatedAt = Failed, msg, slices.Clone(errJSON), now
			t.InputRequests, t.InputResponses = nil, nil
			n++
		}
	}
	return n, nil
}

// DeleteExpiredTasks implements Store.
func (m *MemoryStore) DeleteExpiredTasks(_ context.Context, now time.Time) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for id, t := range m.tasks {
		if t.ExpiresAt.Before(now) {
			delete(m.tasks, id)
			n++
		}
	}
	return n, nil
}

func clone(t *Task) *Task {
	c := *t
	c.InputRequests = slices.Clone(t.InputRequests)
	c.InputResponses = slices.Clone(t.InputResponses)
	c.Result = slices.Clone(t.Result)
	c.Error = slices.Clone(t.Error)
	return &c
}
