package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
	"github.com/atomcp/atomcp/internal/store/sqlcore"
)

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// ops implements store.Ops once, for the Store and for its transactions:
// the shared SQL of sqlcore, plus search and embeddings. Outside a
// transaction reads and writes go to different pools (see the package
// documentation); inside one both are the *sql.Tx.
type ops struct{ sqlcore.Ops }

var _ store.Ops = ops{}

func newOps(c conn, d *sqlcore.Dialect, tables map[domain.EntityType]*table) ops {
	return ops{sqlcore.Ops{Read: coreQuerier{c.read}, Conn: c, D: d,
		Entities: sqlcore.Entities{Tables: tables, Index: indexEntity, Unindex: unindexEntity}, Search: fullText(), PutVector: putVector}}
}

// txOps returns the operations of one transaction.
func txOps(tx *sql.Tx, d *sqlcore.Dialect, tables map[domain.EntityType]*table) ops {
	return newOps(conn{read: tx, tx: tx}, d, tables)
}

// conn is sqlcore.Conn on the writer pool and a reader pool (*sql.DB), or
// in a transaction (read and tx both the *sql.Tx, pool nil).
type conn struct {
	read querier
	tx   *sql.Tx
	pool *writerPool
}

// Write runs fn on the writer, each of its statements taking its turn
// outside a transaction: a failed statement does not abort an SQLite
// transaction, so no savepoint is needed.
func (c conn) Write(_ context.Context, fn func(q sqlcore.Querier) error) error {
	if c.pool != nil {
		return fn(c.pool)
	}
	return fn(coreQuerier{c.tx})
}

// Atomically runs fn in a transaction of its own, in one turn of the
// writer, unless c already is one.
func (c conn) Atomically(ctx context.Context, fn func(q sqlcore.Querier) error) error {
	if c.pool == nil {
		return fn(coreQuerier{c.tx})
	}
	tx, done, err := c.pool.begin(ctx)
	if err != nil {
		return err
	}
	defer done()
	if err := fn(coreQuerier{tx}); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// Snapshot runs fn in a read transaction on a reader connection, so that
// the several statements of one query (a page and its total) see the same
// data, unless c already is a transaction.
func (c conn) Snapshot(ctx context.Context, fn func(q sqlcore.Querier) error) error {
	db, ok := c.read.(*sql.DB)
	if !ok {
		return fn(coreQuerier{c.read})
	}
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("begin read transaction: %w", err)
	}
	defer func() { _ = tx.Rollback() }() // read-only: nothing to commit
	return fn(coreQuerier{tx})
}

// coreQuerier is sqlcore.Querier on database/sql.
type coreQuerier struct{ q querier }

func (c coreQuerier) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := c.q.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (c coreQuerier) Query(ctx context.Context, query string, args ...any) (sqlcore.Rows, error) {
	rows, err := c.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return coreRows{rows}, nil
}

func (c coreQuerier) QueryRow(ctx context.Context, query string, args ...any) sqlcore.Row {
	return c.q.QueryRowContext(ctx, query, args...)
}

// coreRows is sqlcore.Rows on *sql.Rows, whose Close error repeats Err.
type coreRows struct{ *sql.Rows }

func (r coreRows) Close() { _ = r.Rows.Close() }
