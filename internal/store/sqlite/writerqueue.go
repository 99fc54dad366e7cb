package sqlite

import (
	"container/list"
	"context"
	"database/sql"
	"sync"

	"github.com/atomcp/atomcp/internal/store/sqlcore"
)

// writerQueue hands the writer connection to writers one at a time, in the
// order they asked for it.
//
// database/sql's pool gives a freed connection to a waiter picked at
// random (connRequestSet.TakeRandom), so with one connection and many
// writers a write can be passed over again and again: under CPU starvation
// some waited longer than ATOMCP_REQUEST_TIMEOUT (docs/performance.md#soak).
// Behind the queue at most one goroutine at a time asks the pool for the
// connection, so the pool's order no longer matters, and a write waits for
// at most the writers that asked before it.
type writerQueue struct {
	mu      sync.Mutex
	held    bool
	waiting list.List // of chan struct{}, the oldest first; closed when its turn comes
}

// acquire waits for the writer's turn, or until ctx ends (then it returns
// ctx.Err() and has taken nothing). A nil error must be followed by one
// release.
func (q *writerQueue) acquire(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err // as database/sql: an ended context gets no connection
	}
	q.mu.Lock()
	if !q.held && q.waiting.Len() == 0 {
		q.held = true
		q.mu.Unlock()
		return nil
	}
	turn := make(chan struct{})
	e := q.waiting.PushBack(turn)
	q.mu.Unlock()

	select {
	case <-turn:
		return nil
	case <-ctx.Done():
	}
	q.mu.Lock()
	select {
	case <-turn:
		// The turn came as ctx ended: pass it on rather than drop it.
		q.releaseLocked()
	default:
		q.waiting.Remove(e)
	}
	q.mu.Unlock()
	return ctx.Err()
}

// release ends the turn of the writer that holds it and starts the next.
func (q *writerQueue) release() {
	q.mu.Lock()
	q.releaseLocked()
	q.mu.Unlock()
}

func (q *writerQueue) releaseLocked() {
	if !q.held {
		panic("sqlite: release of a writer turn not held")
	}
	if e := q.waiting.Front(); e != nil {
		// held stays true: the turn passes straight to the oldest waiter,
		// so a newcomer cannot take it in between.
		close(q.waiting.Remove(e).(chan struct{}))
		return
	}
	q.held = false
}

// waiters is the number of writers waiting for a turn (tests).
func (q *writerQueue) waiters() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.waiting.Len()
}

// writerPool is the writer connection (a *sql.DB of one connection) behind
// its queue. Every use of the writer outside a transaction goes through it:
// each statement, and each transaction from begin to commit or rollback,
// takes one turn. It is the sqlcore.Querier of single statements.
type writerPool struct {
	db    *sql.DB
	queue writerQueue
}

var _ sqlcore.Querier = (*writerPool)(nil)

// begin waits for a turn and begins a transaction in it. done ends the
// turn; call it after Commit or Rollback.
func (w *writerPool) begin(ctx context.Context) (tx *sql.Tx, done func(), err error) {
	if err := w.queue.acquire(ctx); err != nil {
		return nil, nil, err
	}
	tx, err = w.db.BeginTx(ctx, nil)
	if err != nil {
		w.queue.release()
		return nil, nil, err
	}
	return tx, w.queue.release, nil
}

func (w *writerPool) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	if err := w.queue.acquire(ctx); err != nil {
		return 0, err
	}
	defer w.queue.release()
	return coreQuerier{w.db}.Exec(ctx, query, args...)
}

// Query keeps the turn until the rows are closed or read to the end, as
// database/sql keeps the connection.
func (w *writerPool) Query(ctx context.Context, query string, args ...any) (sqlcore.Rows, error) {
	if err := w.queue.acquire(ctx); err != nil {
		return nil, err
	}
	rows, err := w.db.QueryContext(ctx, query, args...)
	if err != nil {
		w.queue.release()
		return nil, err
	}
	return &turnRows{coreRows: coreRows{rows}, release: w.queue.release}, nil
}

// QueryRow keeps the turn until Scan, as *sql.Row keeps the connection.
func (w *writerPool) QueryRow(ctx context.Context, query string, args ...any) sqlcore.Row {
	if err := w.queue.acquire(ctx); err != nil {
		return errRow{err}
	}
	return &turnRow{row: w.db.QueryRowContext(ctx, query, args...), release: w.queue.release}
}

// turnRows ends the writer's turn when the rows are done with.
type turnRows struct {
	coreRows
	release func() // nil once called
}

func (r *turnRows) Next() bool {
	if r.coreRows.Next() {
		return true
	}
	r.Close() // database/sql has closed the rows and freed the connection
	return false
}

func (r *turnRows) Close() {
	r.coreRows.Close()
	if r.release != nil {
		r.release()
		r.release = nil
	}
}

// turnRow ends the writer's turn at Scan.
type turnRow struct {
	row     *sql.Row
	release func() // nil once called
}

func (r *turnRow) Scan(dest ...any) error {
	err := r.row.Scan(dest...)
	if r.release != nil {
		r.release()
		r.release = nil
	}
	return err
}

// errRow is a Row whose query could not run.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }
