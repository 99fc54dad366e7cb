package storetest

import (
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

func newTask(f *fixture, id, owner string, status store.TaskStatus) *store.Task {
	now := f.now()
	return &store.Task{
		ID: id, Owner: owner, Tool: "workflow_tool", Status: status, StatusMessage: "",
		CreatedAt: now, UpdatedAt: now, HeartbeatAt: now, ExpiresAt: now.Add(24 * time.Hour),
		PollInterval: 500 * time.Millisecond,
	}
}

var taskTests = []test{
	{"round-trips every field and is its owner's only", func(t *testing.T, f *fixture) {
		in := newTask(f, "task-1", "local\nlocal", store.TaskInputRequired)
		in.StatusMessage = "waiting"
		in.InputRequests = json.RawMessage(`{"confirm":{"method":"elicitation/create"}}`)
		in.InputResponses = json.RawMessage(`{"x":{"action":"accept"}}`)
		in.Result = json.RawMessage(`{"content":[]}`)
		in.Error = json.RawMessage(`{"code":-32603,"message":"m"}`)
		in.CancelRequested = true
		if err := f.s.CreateTask(f.ctx, in); err != nil {
			t.Fatal(err)
		}
		got, err := f.s.GetTask(f.ctx, in.Owner, in.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != in.ID || got.Owner != in.Owner || got.Tool != in.Tool || got.Status != in.Status ||
			got.StatusMessage != in.StatusMessage || !got.CreatedAt.Equal(in.CreatedAt) || !got.UpdatedAt.Equal(in.UpdatedAt) ||
			!got.HeartbeatAt.Equal(in.HeartbeatAt) || !got.ExpiresAt.Equal(in.ExpiresAt) || got.PollInterval != in.PollInterval ||
			string(got.InputRequests) != string(in.InputRequests) || string(got.InputResponses) != string(in.InputResponses) ||
			string(got.Result) != string(in.Result) || string(got.Error) != string(in.Error) || !got.CancelRequested {
			t.Fatalf("read back %+v\nwant %+v", got, in)
		}
		if _, err := f.s.GetTask(f.ctx, "someone else", in.ID); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("another owner's read = %v, want ErrNotFound", err)
		}
		if _, err := f.s.UpdateTask(f.ctx, "someone else", in.ID, func(*store.Task) error { return nil }); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("another owner's update = %v, want ErrNotFound", err)
		}
		if _, err := f.s.GetTask(f.ctx, in.Owner, "missing"); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("missing task = %v, want ErrNotFound", err)
		}
		if err := f.s.CreateTask(f.ctx, newTask(f, "task-1", "other", store.TaskWorking)); err == nil {
			t.Error("a second task with the same id was created")
		}
	}},
	{"updates atomically, concurrently, and never lose a write", func(t *testing.T, f *fixture) {
		in := newTask(f, "task-c", "alice", store.TaskWorking)
		if err := f.s.CreateTask(f.ctx, in); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := f.s.UpdateTask(f.ctx, "alice", "task-c", func(t *store.Task) error {
					var keys map[string]int
					_ = json.Unmarshal(t.InputResponses, &keys)
					if keys == nil {
						keys = map[string]int{}
					}
					keys[string(rune('a'+i))] = i
					t.InputResponses, _ = json.Marshal(keys)
					return nil
				})
				if err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		got, err := f.s.GetTask(f.ctx, "alice", "task-c")
		if err != nil {
			t.Fatal(err)
		}
		var keys map[string]int
		if err := json.Unmarshal(got.InputResponses, &keys); err != nil || len(keys) != 8 {
			t.Fatalf("after 8 concurrent updates: %s, %v; want 8 keys", got.InputResponses, err)
		}
		boom := errors.New("boom")
		if _, err := f.s.UpdateTask(f.ctx, "alice", "task-c", func(t *store.Task) error {
			t.Status = store.TaskFailed
			return boom
		}); !errors.Is(err, boom) {
			t.Errorf("update whose fn fails = %v, want its error", err)
		}
		if got, _ := f.s.GetTask(f.ctx, "alice", "task-c"); got.Status != store.TaskWorking {
			t.Errorf("a failed update was written: %s", got.Status)
		}
	}},
	{"fails stale live tasks and deletes expired ones", func(t *testing.T, f *fixture) {
		stale := newTask(f, "stale", "alice", store.TaskInputRequired)
		stale.InputRequests = json.RawMessage(`{"k":{}}`)
		done := newTask(f, "done", "alice", store.TaskCompleted)
		cutoff := f.now()
		fresh := newTask(f, "fresh", "alice", store.TaskWorking)
		for _, tk := range []*store.Task{stale, done, fresh} {
			if err := f.s.CreateTask(f.ctx, tk); err != nil {
				t.Fatal(err)
			}
		}
		now := f.now()
		n, err := f.s.FailStaleTasks(f.ctx, cutoff, now, "the server stopped", json.RawMessage(`{"code":-32603,"message":"the server stopped"}`))
		if err != nil || n != 1 {
			t.Fatalf("FailStaleTasks = %d, %v; want 1", n, err)
		}
		got, _ := f.s.GetTask(f.ctx, "alice", "stale")
		if got.Status != store.TaskFailed || got.StatusMessage != "the server stopped" || len(got.Error) == 0 || got.InputRequests != nil || !got.UpdatedAt.Equal(now) {
			t.Errorf("stale task after the sweep: %+v", got)
		}
		for id, want := range map[string]store.TaskStatus{"done": store.TaskCompleted, "fresh": store.TaskWorking} {
			if got, _ := f.s.GetTask(f.ctx, "alice", id); got.Status != want {
				t.Errorf("%s became %s", id, got.Status)
			}
		}
		n, err = f.s.DeleteExpiredTasks(f.ctx, done.ExpiresAt.Add(time.Microsecond))
		if err != nil || n != 2 {
			t.Fatalf("DeleteExpiredTasks = %d, %v; want the two older tasks", n, err)
		}
		if _, err := f.s.GetTask(f.ctx, "alice", "done"); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("an expired task is still there: %v", err)
		}
		if _, err := f.s.GetTask(f.ctx, "alice", "fresh"); err != nil {
			t.Errorf("a task that has not expired was deleted: %v", err)
		}
	}},
}
