package postgres

import (
	"context"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

// querier is what *pgxpool.Pool and pgx.Tx have in common; every store
// method is written once against it. Begin starts a transaction on a pool
// and a savepoint in a transaction.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Begin(ctx context.Context) (pgx.Tx, error)
}

// ops implements store.Ops once, for the Store and for its transactions.
type ops struct {
	q querier
	// pool is set outside a transaction (q is the pool) and nil inside one
	// (q is the pgx.Tx).
	pool   *pgxpool.Pool
	tables map[domain.EntityType]*table
}

var _ store.Ops = ops{}

// atomically runs fn in a transaction of its own, or in a savepoint of the
// current transaction: either all of fn's writes happen or none, and a
// failure leaves the current transaction usable.
func (o ops) atomically(ctx context.Context, fn func(q querier) error) error {
	return pgx.BeginFunc(ctx, o.q, func(tx pgx.Tx) error { return fn(tx) })
}

// write runs one writing statement (fn) so that its failure does not
// abort the caller's transaction: in a savepoint inside a transaction,
// directly outside one (a single statement is atomic by itself).
func (o ops) write(ctx context.Context, fn func(q querier) error) error {
	if o.pool != nil {
		return fn(o.q)
	}
	return o.atomically(ctx, fn)
}

// snapshot runs fn on a querier whose reads all see one state of the
// database: a read-only REPEATABLE READ transaction outside a
// transaction, the transaction itself inside one.
func (o ops) snapshot(ctx context.Context, fn func(q querier) error) error {
	if o.pool == nil {
		return fn(o.q)
	}
	return pgx.BeginTxFunc(ctx, o.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly},
		func(tx pgx.Tx) error { return fn(tx) })
}

// params collects the arguments of a statement built piece by piece; add
// returns the placeholder of the value it appended.
type params []any

func (p *params) add(v any) string {
	*p = append(*p, v)
	return "$" + strconv.Itoa(len(*p))
}
