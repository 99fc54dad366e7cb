package sqlite

import (
	"context"
	"database/sql"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

// querier is what *sql.DB and *sql.Tx have in common; every store method is
// written once against it.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// ops implements store.Ops once, for the Store and for its transactions.
// Outside a transaction reads and writes go to different pools (see the
// package documentation); inside one both are the *sql.Tx.
type ops struct {
	read  querier
	write querier
	// snapshot runs fn on a querier whose reads all see one state of the
	// database.
	snapshot func(ctx context.Context, fn func(q querier) error) error
	tables   map[domain.EntityType]*table
}

var _ store.Ops = ops{}

// txOps returns the operations of one transaction.
func txOps(tx *sql.Tx, tables map[domain.EntityType]*table) ops {
	return ops{
		read:     tx,
		write:    tx,
		snapshot: func(_ context.Context, fn func(q querier) error) error { return fn(tx) },
		tables:   tables,
	}
}
