package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
	"github.com/atomcp/atomcp/internal/store/sqlcore"
)

// querier is what *pgxpool.Pool and pgx.Tx have in common. Begin starts a
// transaction on a pool and a savepoint in a transaction.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Begin(ctx context.Context) (pgx.Tx, error)
}

// ops implements store.Ops once, for the Store and for its transactions:
// the shared SQL of sqlcore, plus search and embeddings.
type ops struct{ sqlcore.Ops }

var _ store.Ops = ops{}

func newOps(c conn, d *sqlcore.Dialect, tables map[domain.EntityType]*table) ops {
	return ops{sqlcore.Ops{Read: coreQuerier{q: c.q, timeout: c.timeout, pool: c.pool != nil}, Conn: c, D: d,
		Entities: sqlcore.Entities{Tables: tables, Index: indexEntity, Unindex: unindexEntity}, Search: fullText(), PutVector: putVector}}
}

// conn is sqlcore.Conn on the pool or in a transaction.
type conn struct {
	q querier
	// pool is set outside a transaction (q is the pool) and nil inside one
	// (q is the pgx.Tx).
	pool *pgxpool.Pool
	// timeout is the statement timeout (Options.StatementTimeout), 0 for
	// none.
	timeout time.Duration
}

// Atomically runs fn in a transaction of its own, or in a savepoint of the
// current transaction: either all of fn's writes happen or none, and a
// failure leaves the current transaction usable.
func (c conn) Atomically(ctx context.Context, fn func(q sqlcore.Querier) error) error {
	fnTx := func(tx pgx.Tx) error { return fn(coreQuerier{q: tx, timeout: c.timeout}) }
	if c.pool == nil {
		// A savepoint: a failure to take it is the transaction's, which
		// cannot be retried here.
		return pgx.BeginFunc(ctx, c.q, fnTx)
	}
	return inTx(ctx, c.timeout, func(ctx context.Context) (pgx.Tx, error) { return c.q.Begin(ctx) }, fnTx)
}

// Write runs one writing statement (fn) so that its failure does not
// abort the caller's transaction: in a savepoint inside a transaction,
// directly outside one (a single statement is atomic by itself).
func (c conn) Write(ctx context.Context, fn func(q sqlcore.Querier) error) error {
	if c.pool != nil {
		return fn(coreQuerier{q: c.q, timeout: c.timeout, pool: true})
	}
	return c.Atomically(ctx, fn)
}

// Snapshot runs fn on a querier whose reads all see one state of the
// database: a read-only REPEATABLE READ transaction outside a
// transaction, the transaction itself inside one.
func (c conn) Snapshot(ctx context.Context, fn func(q sqlcore.Querier) error) error {
	if c.pool == nil {
		return fn(coreQuerier{q: c.q, timeout: c.timeout})
	}
	return inTx(ctx, c.timeout, func(ctx context.Context) (pgx.Tx, error) {
		return c.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	}, func(tx pgx.Tx) error { return fn(coreQuerier{q: tx, timeout: c.timeout}) })
}

// inTx is pgx.BeginFunc with the statement timeout on BEGIN, COMMIT and
// ROLLBACK (fn's statements get theirs from coreQuerier): the transaction
// as a whole may run longer, but no single round trip waits for ever on a
// server that stopped answering.
func inTx(ctx context.Context, timeout time.Duration, begin func(context.Context) (pgx.Tx, error), fn func(pgx.Tx) error) error {
	tx, err := beginTx(ctx, timeout, begin)
	if err != nil {
		return err
	}
	finished := false
	defer func() {
		if !finished {
			// Reached only while panicking; the panic goes on.
			rctx, cancel := bound(context.WithoutCancel(ctx), timeout)
			_ = tx.Rollback(rctx)
			cancel()
		}
	}()
	fnErr := fn(tx)
	finished = true
	if fnErr != nil {
		rctx, cancel := bound(context.WithoutCancel(ctx), timeout)
		defer cancel()
		if rbErr := tx.Rollback(rctx); rbErr != nil && !errors.Is(rbErr, pgx.ErrTxClosed) {
			return errors.Join(fnErr, fmt.Errorf("roll back: %w", unavailable(ctx, rctx, timeout, rbErr)))
		}
		return fnErr
	}
	cctx, cancel := bound(ctx, timeout)
	defer cancel()
	return unavailable(ctx, cctx, timeout, tx.Commit(cctx))
}

// beginTx runs begin (BEGIN on the pool) under the statement timeout, and
// once more if it failed at once for want of a server: nothing was done
// yet, and the usual cause is a pooled connection that died with a
// restarted server, which the pool has now discarded.
func beginTx(ctx context.Context, timeout time.Duration, begin func(context.Context) (pgx.Tx, error)) (pgx.Tx, error) {
	for attempt := 0; ; attempt++ {
		bctx, cancel := bound(ctx, timeout)
		tx, err := begin(bctx)
		err = unavailable(ctx, bctx, timeout, err)
		quick := bctx.Err() == nil
		cancel()
		if err == nil || attempt > 0 || !quick || !errors.Is(err, domain.ErrUnavailable) {
			return tx, err
		}
	}
}

// bound derives the context of one round trip: ctx with the statement
// timeout plus a grace period, so that a live server's own
// statement_timeout (the clearer error) comes first, and only a server
// that went silent (a stalled network) meets this deadline.
func bound(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	if timeout <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, timeout+timeoutGrace)
}

// timeoutGrace is how much longer than the statement timeout the store
// waits for the server's answer.
const timeoutGrace = 2 * time.Second

// coreQuerier is sqlcore.Querier on pgx, with the statement timeout on
// every statement and the server's absence reported as
// domain.ErrUnavailable (see unavailable).
type coreQuerier struct {
	q       querier
	timeout time.Duration
	// pool is set when q is the pool: a statement outside a transaction,
	// which may be sent again (see again).
	pool bool
}

// again reports whether a statement that failed with err under sctx is
// sent once more: only on the pool, only when it failed at once for want
// of a server (a dead pooled connection, which the pool has discarded;
// never a stall, which already cost the timeout), and only when running
// it twice cannot do twice what once would: pgx says nothing was sent,
// or it is a plain SELECT.
func (c coreQuerier) again(sctx context.Context, sql string, err error) bool {
	if !c.pool || sctx.Err() != nil || !errors.Is(err, domain.ErrUnavailable) {
		return false
	}
	if pe := pgError(err); pe != nil && pe.Code == codeQueryCanceled {
		return false
	}
	return pgconn.SafeToRetry(err) || isPlainSelect(sql)
}

// isPlainSelect reports whether sql is a SELECT that takes no row locks
// (FOR UPDATE and FOR SHARE make it part of a write).
func isPlainSelect(sql string) bool {
	head := strings.TrimSpace(sql)
	if len(head) < 6 || !strings.EqualFold(head[:6], "SELECT") {
		return false
	}
	upper := strings.ToUpper(sql)
	return !strings.Contains(upper, " FOR UPDATE") && !strings.Contains(upper, " FOR SHARE") && !strings.Contains(upper, "NEXTVAL(")
}

func (c coreQuerier) Exec(ctx context.Context, sql string, args ...any) (int64, error) {
	for attempt := 0; ; attempt++ {
		sctx, cancel := bound(ctx, c.timeout)
		tag, err := c.q.Exec(sctx, sql, args...)
		err = unavailable(ctx, sctx, c.timeout, err)
		retry := attempt == 0 && c.again(sctx, sql, err)
		cancel()
		if !retry {
			return tag.RowsAffected(), err
		}
	}
}

func (c coreQuerier) Query(ctx context.Context, sql string, args ...any) (sqlcore.Rows, error) {
	for attempt := 0; ; attempt++ {
		sctx, cancel := bound(ctx, c.timeout)
		rows, err := c.q.Query(sctx, sql, args...)
		if err == nil {
			return &timedRows{Rows: rows, ctx: ctx, sctx: sctx, cancel: cancel, timeout: c.timeout}, nil
		}
		err = unavailable(ctx, sctx, c.timeout, err)
		retry := attempt == 0 && c.again(sctx, sql, err)
		cancel()
		if !retry {
			return nil, err
		}
	}
}

func (c coreQuerier) QueryRow(ctx context.Context, sql string, args ...any) sqlcore.Row {
	return timedRow{c: c, ctx: ctx, sql: sql, args: args}
}

// timedRows is a result set read under the statement's deadline, which
// ends when it is closed.
type timedRows struct {
	pgx.Rows
	ctx, sctx context.Context
	cancel    context.CancelFunc
	timeout   time.Duration
}

func (r *timedRows) Err() error { return unavailable(r.ctx, r.sctx, r.timeout, r.Rows.Err()) }

func (r *timedRows) Close() {
	r.Rows.Close()
	r.cancel()
}

// timedRow is one row read under the statement's deadline. The query runs
// in Scan, so that it can be sent again there (see coreQuerier.again).
type timedRow struct {
	c    coreQuerier
	ctx  context.Context
	sql  string
	args []any
}

func (r timedRow) Scan(dest ...any) error {
	for attempt := 0; ; attempt++ {
		sctx, cancel := bound(r.ctx, r.c.timeout)
		err := unavailable(r.ctx, sctx, r.c.timeout, r.c.q.QueryRow(sctx, r.sql, r.args...).Scan(dest...))
		retry := attempt == 0 && r.c.again(sctx, r.sql, err)
		cancel()
		if !retry {
			return err
		}
	}
}
