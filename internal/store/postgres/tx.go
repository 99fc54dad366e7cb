package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/atomcp/atomcp/internal/store"
)

// InTx runs fn in one READ COMMITTED transaction and commits it if fn
// returns nil. If fn returns an error the transaction is rolled back and
// that error returned; if fn panics (or calls runtime.Goexit, as
// t.FailNow does) it is rolled back and the panic goes on.
func (s *Store) InTx(ctx context.Context, fn func(tx store.Ops) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin transaction on %s: %s", s.where, describe(err))
	}
	finished := false
	defer func() {
		if !finished {
			// Reached only while panicking or exiting the goroutine; the
			// panic continues once this returns. The context may be what
			// ended, so the rollback gets one of its own.
			_ = tx.Rollback(context.WithoutCancel(ctx))
		}
	}()

	fnErr := fn(newOps(conn{q: tx}, s.D, s.Tables))
	finished = true
	if fnErr != nil {
		if rbErr := tx.Rollback(context.WithoutCancel(ctx)); rbErr != nil && !errors.Is(rbErr, pgx.ErrTxClosed) {
			return errors.Join(fnErr, fmt.Errorf("roll back: %w", rbErr))
		}
		return fnErr
	}
	if err := tx.Commit(ctx); err != nil {
		if errors.Is(err, pgx.ErrTxCommitRollback) {
			// A statement failed and fn went on as if it had not: the
			// server rolled everything back.
			return fmt.Errorf("commit transaction: a statement of the transaction failed, so PostgreSQL rolled it back: %w", err)
		}
		return fmt.Errorf("commit transaction: %w", mapErr(err))
	}
	return nil
}
