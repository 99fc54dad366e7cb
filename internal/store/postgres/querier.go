package postgres

import (
	"context"

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
	return ops{sqlcore.Ops{Read: coreQuerier{c.q}, Conn: c, D: d,
		Entities: sqlcore.Entities{Tables: tables, Index: indexEntity, Unindex: unindexEntity}, Search: fullText(), PutVector: putVector}}
}

// conn is sqlcore.Conn on the pool or in a transaction.
type conn struct {
	q querier
	// pool is set outside a transaction (q is the pool) and nil inside one
	// (q is the pgx.Tx).
	pool *pgxpool.Pool
}

// Atomically runs fn in a transaction of its own, or in a savepoint of the
// current transaction: either all of fn's writes happen or none, and a
// failure leaves the current transaction usable.
func (c conn) Atomically(ctx context.Context, fn func(q sqlcore.Querier) error) error {
	return pgx.BeginFunc(ctx, c.q, func(tx pgx.Tx) error { return fn(coreQuerier{tx}) })
}

// Write runs one writing statement (fn) so that its failure does not
// abort the caller's transaction: in a savepoint inside a transaction,
// directly outside one (a single statement is atomic by itself).
func (c conn) Write(ctx context.Context, fn func(q sqlcore.Querier) error) error {
	if c.pool != nil {
		return fn(coreQuerier{c.q})
	}
	return c.Atomically(ctx, fn)
}

// Snapshot runs fn on a querier whose reads all see one state of the
// database: a read-only REPEATABLE READ transaction outside a
// transaction, the transaction itself inside one.
func (c conn) Snapshot(ctx context.Context, fn func(q sqlcore.Querier) error) error {
	if c.pool == nil {
		return fn(coreQuerier{c.q})
	}
	return pgx.BeginTxFunc(ctx, c.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly},
		func(tx pgx.Tx) error { return fn(coreQuerier{tx}) })
}

// coreQuerier is sqlcore.Querier on pgx; pgx.Rows and pgx.Row are
// sqlcore's Rows and Row as they are.
type coreQuerier struct{ q querier }

func (c coreQuerier) Exec(ctx context.Context, sql string, args ...any) (int64, error) {
	tag, err := c.q.Exec(ctx, sql, args...)
	return tag.RowsAffected(), err
}

func (c coreQuerier) Query(ctx context.Context, sql string, args ...any) (sqlcore.Rows, error) {
	rows, err := c.q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return rows, nil
}

func (c coreQuerier) QueryRow(ctx context.Context, sql string, args ...any) sqlcore.Row {
	return c.q.QueryRow(ctx, sql, args...)
}
