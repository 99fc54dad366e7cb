package tasks

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

// Status is where a task is in its life (store.TaskStatus).
type Status = store.TaskStatus

// The statuses of the extension.
const (
	Working       = store.TaskWorking
	InputRequired = store.TaskInputRequired
	Completed     = store.TaskCompleted
	Failed        = store.TaskFailed
	Cancelled     = store.TaskCancelled
)

// Task is one task as the store keeps it.
type Task = store.Task

// ErrNotFound is returned for a task that does not exist, has expired or
// belongs to another caller: the three are indistinguishable on purpose.
var ErrNotFound = domain.ErrNotFound

// Store keeps tasks: store.Tasks, which both database backends implement
// (so tasks outlive a restart and are read on any replica), or a
// MemoryStore.
type Store = store.Tasks

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
