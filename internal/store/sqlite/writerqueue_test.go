package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/atomcp/atomcp/internal/store"
	"github.com/atomcp/atomcp/internal/store/sqlcore"
)

// waitWaiters yields until n writers wait in q.
func waitWaiters(q *writerQueue, n int) {
	for q.waiters() != n {
		runtime.Gosched()
	}
}

// free reports whether nobody holds or waits for q.
func free(q *writerQueue) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return !q.held && q.waiting.Len() == 0
}

// TestWriterQueueOrder: writers that queue one after the other get their
// turns in that order.
func TestWriterQueueOrder(t *testing.T) {
	var q writerQueue
	if err := q.acquire(t.Context()); err != nil {
		t.Fatal(err)
	}
	const n = 48
	var (
		mu    sync.Mutex
		order []int
		wg    sync.WaitGroup
	)
	for i := range n {
		wg.Go(func() {
			if err := q.acquire(context.Background()); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
			q.release()
		})
		waitWaiters(&q, i+1)
	}
	q.release()
	wg.Wait()
	want := make([]int, n)
	for i := range want {
		want[i] = i
	}
	if !slices.Equal(order, want) {
		t.Errorf("turns in the order %v; want %v", order, want)
	}
	if !free(&q) {
		t.Error("the queue is still held after every writer released it")
	}
}

// TestWriterQueueCancel: a writer whose context ends leaves the queue
// with ctx's error and takes no turn; the next one still gets its turn.
func TestWriterQueueCancel(t *testing.T) {
	var q writerQueue
	if err := q.acquire(t.Context()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	gaveUp := make(chan error)
	go func() { gaveUp <- q.acquire(ctx) }()
	waitWaiters(&q, 1)
	got := make(chan error)
	go func() { got <- q.acquire(t.Context()) }()
	waitWaiters(&q, 2)

	cancel()
	if err := <-gaveUp; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled writer: %v; want context.Canceled", err)
	}
	if n := q.waiters(); n != 1 {
		t.Fatalf("%d writers wait after one gave up; want 1", n)
	}
	q.release()
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	q.release()
	if !free(&q) {
		t.Error("the queue is still held")
	}
	if err := q.acquire(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("acquire with an ended context on a free queue: %v; want context.Canceled", err)
	}
	if !free(&q) {
		t.Error("an ended context took the turn")
	}
}

// TestWriterQueueCancelAtHandover: a turn handed to a writer whose context
// ends at the same moment is passed on, never lost (run with -race).
func TestWriterQueueCancelAtHandover(t *testing.T) {
	var q writerQueue
	for range 1000 {
		if err := q.acquire(t.Context()); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- q.acquire(ctx) }()
		waitWaiters(&q, 1)
		// Both before the waiter runs, most times: its select then sees
		// the turn and the ended context at once and picks either.
		cancel()
		q.release()
		if err := <-done; err == nil {
			q.release()
		}
		if !free(&q) {
			t.Fatal("a turn was lost when its writer's context ended at the handover")
		}
	}
}

// TestWriterPoolReleases: each way of using the writer outside a
// transaction ends its turn, as database/sql frees the connection.
func TestWriterPoolReleases(t *testing.T) {
	ctx := t.Context()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "atomcp.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	w := s.writer
	if _, err := w.Exec(ctx, "CREATE TABLE t (n INTEGER)"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Exec(ctx, "INSERT INTO t VALUES (1), (2)"); err != nil {
		t.Fatal(err)
	}
	check := func(what string) {
		t.Helper()
		if !free(&w.queue) {
			t.Fatalf("%s: the writer's turn was not released", what)
		}
	}
	check("Exec")
	if _, err := w.Exec(ctx, "INSERT INTO nope VALUES (1)"); err == nil {
		t.Fatal("insert into a missing table worked")
	}
	check("failed Exec")

	var n int
	if err := w.QueryRow(ctx, "SELECT count(*) FROM t").Scan(&n); err != nil || n != 2 {
		t.Fatalf("count %d, %v", n, err)
	}
	check("QueryRow")
	if err := w.QueryRow(ctx, "SELECT n FROM t WHERE n = 3").Scan(&n); !errors.Is(err, sql.ErrNoRows) {
		t.Fatalf("QueryRow of no row: %v; want sql.ErrNoRows", err)
	}
	check("QueryRow of no row")

	rows, err := w.Query(ctx, "SELECT n FROM t")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
	}
	check("Query read to the end, not closed")
	rows.Close()
	rows.Close()
	check("Query closed twice")
	rows, err = w.Query(ctx, "SELECT n FROM t")
	if err != nil {
		t.Fatal(err)
	}
	if !rows.Next() {
		t.Fatal("no row")
	}
	rows.Close()
	check("Query closed early")
	if _, err := w.Query(ctx, "SELECT * FROM nope"); err == nil {
		t.Fatal("query of a missing table worked")
	}
	check("failed Query")

	ended, cancel := context.WithCancel(ctx)
	cancel()
	if err := w.QueryRow(ended, "SELECT 1").Scan(&n); !errors.Is(err, context.Canceled) {
		t.Fatalf("QueryRow with an ended context: %v", err)
	}
	check("QueryRow with an ended context")

	if err := s.InTx(ctx, func(store.Ops) error { return nil }); err != nil {
		t.Fatal(err)
	}
	check("InTx committed")
	boom := errors.New("boom")
	if err := s.InTx(ctx, func(store.Ops) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("InTx: %v; want boom", err)
	}
	check("InTx rolled back")
	func() {
		defer func() { _ = recover() }()
		_ = s.InTx(ctx, func(store.Ops) error { panic(boom) })
	}()
	check("InTx that panicked")
	if err := (conn{pool: w}).Atomically(ctx, func(q sqlcore.Querier) error {
		_, err := q.Exec(ctx, "INSERT INTO t VALUES (3)")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	check("Atomically")
}

// BenchmarkWriterWait has 48 writers make b.N short IMMEDIATE
// transactions on the writer connection and reports how many turns (other
// writers' transactions) the longest-waiting one waited, from asking for
// the connection to beginning: database-sql asks database/sql's pool
// directly (as the store did before writerQueue), queue goes through the
// queue (Store.InTx). With first come, first served no transaction waits
// for much more than the 47 others; with database/sql's random hand-over
// the worst wait grows with b.N.
//
//	go test ./internal/store/sqlite -run xxx -bench WriterWait -benchtime 20000x
func BenchmarkWriterWait(b *testing.B) {
	const writers = 48
	for _, c := range []struct {
		name  string
		begin func(*writerPool, context.Context) (*sql.Tx, func(), error)
	}{
		{"database-sql", func(w *writerPool, ctx context.Context) (*sql.Tx, func(), error) {
			tx, err := w.db.BeginTx(ctx, nil)
			return tx, func() {}, err
		}},
		{"queue", (*writerPool).begin},
	} {
		b.Run(c.name, func(b *testing.B) {
			ctx := context.Background()
			s, err := Open(ctx, filepath.Join(b.TempDir(), "atomcp.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			if _, err := s.writer.Exec(ctx, "CREATE TABLE t (n INTEGER)"); err != nil {
				b.Fatal(err)
			}
			var (
				served, left atomic.Int64
				worst        atomic.Int64
				total        atomic.Int64
			)
			left.Store(int64(b.N))
			var wg sync.WaitGroup
			b.ResetTimer()
			for range writers {
				wg.Go(func() {
					for left.Add(-1) >= 0 {
						asked := served.Load()
						tx, done, err := c.begin(s.writer, ctx)
						if err != nil {
							b.Error(err)
							return
						}
						turns := served.Add(1) - 1 - asked
						total.Add(turns)
						for w := worst.Load(); turns > w && !worst.CompareAndSwap(w, turns); w = worst.Load() {
						}
						_, err = tx.ExecContext(ctx, "INSERT INTO t VALUES (1)")
						if err == nil {
							err = tx.Commit()
						} else {
							_ = tx.Rollback()
						}
						done()
						if err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.ReportMetric(float64(worst.Load()), "max-turns")
			b.ReportMetric(float64(total.Load())/float64(b.N), "mean-turns")
		})
	}
}
