package tasks

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/atomcp/atomcp/internal/store"
	"github.com/atomcp/atomcp/internal/store/storeopen"
)

func openSQLite(t *testing.T, path string) store.Store {
	t.Helper()
	st, err := storeopen.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return st
}

// A task and its result survive a restart of the server: the second
// process, on the same SQLite file, answers tasks/get for it.
func TestTaskSurvivesARestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "atomcp.db")
	st := openSQLite(t, path)
	first := newHarness(t, st)
	id := first.start("alice", "slow", map[string]any{"millis": 1})
	first.waitFor("alice", id, Completed)
	first.stop()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	st = openSQLite(t, path)
	defer st.Close()
	second := newHarness(t, st)
	res := second.get("alice", id)
	if res["status"] != string(Completed) || res["result"] == nil {
		t.Fatalf("after the restart: %v", res)
	}
	if _, rerr := second.call("bob", true, MethodGet, id, map[string]any{"taskId": id}); rerr == nil || rerr.Code != -32602 {
		t.Errorf("bob after the restart: %+v, want not found", rerr)
	}
}

// A process that dies mid-task leaves a working row; the next process on
// the database marks it failed, with the reason, instead of leaving it
// working for ever.
func TestTaskOfAProcessThatDiedIsFailedAfterTheRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "atomcp.db")
	st := openSQLite(t, path)
	first := newHarness(t, st)
	id := first.start("alice", "slow", map[string]any{"millis": 60000})
	first.waitFor("alice", id, Working)
	// A crash: nothing is recorded, the row stays working. (stop would
	// record the shutdown; a kill -9 does not get that far.)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	first.stop() // its writes now fail, like a dead process's

	st = openSQLite(t, path)
	defer st.Close()
	if got, err := st.GetTask(t.Context(), "alice", id); err != nil || got.Status != Working {
		t.Fatalf("the crashed process's row: %+v, %v; want working", got, err)
	}
	second := newHarness(t, st)
	second.skew.Store(int64(time.Minute)) // the dead process's heartbeat is old by now
	if err := second.rt.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	res := second.get("alice", id)
	if res["status"] != string(Failed) || res["statusMessage"] == "" || res["error"] == nil {
		t.Fatalf("after the restart: %v, want failed with a reason", res)
	}
}

// Two replicas on one PostgreSQL database: a task started on one is read,
// and cancelled, on the other.
func TestSecondReplicaReadsAndCancelsTheTask(t *testing.T) {
	url := postgresSchema(t)
	stA, err := storeopen.Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer stA.Close()
	if _, err := stA.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	stB, err := storeopen.Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer stB.Close()
	a, b := newHarness(t, stA), newHarness(t, stB)

	done := a.start("alice", "slow", map[string]any{"millis": 1})
	a.waitFor("alice", done, Completed)
	if res := b.get("alice", done); res["status"] != string(Completed) || res["result"] == nil {
		t.Fatalf("replica B reads %v", res)
	}
	if _, rerr := b.call("bob", true, MethodGet, done, map[string]any{"taskId": done}); rerr == nil || rerr.Code != -32602 {
		t.Errorf("bob on replica B: %+v, want not found", rerr)
	}

	running := a.start("alice", "slow", map[string]any{"millis": 60000})
	b.mustCall("alice", MethodCancel, running, map[string]any{"taskId": running})
	b.waitFor("alice", running, Cancelled)
	if a.stopped.Load() != 1 {
		t.Errorf("the cancel on B did not stop the tool on A")
	}
}

// postgresSchema returns the URL of a fresh schema on the local
// PostgreSQL, dropped at the end; it skips without a server unless CI is
// set.
func postgresSchema(t *testing.T) string {
	t.Helper()
	base := "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("no PostgreSQL at 127.0.0.1:5432 (CI is set, so this fails instead of skipping): %v", err)
		}
		t.Skipf("no PostgreSQL at 127.0.0.1:5432: %v", err)
	}
	defer conn.Close(context.Background())
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := "tasks_test_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), base)
		if err == nil {
			_, _ = c.Exec(context.Background(), `DROP SCHEMA `+name+` CASCADE`)
			c.Close(context.Background())
		}
	})
	return base + "&search_path=" + name
}
