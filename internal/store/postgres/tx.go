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
	tx, err := beginTx(ctx, s.timeout, s.pool.Begin)
	if err != nil {
		return fmt.Errorf("begin transaction on %s: %w", s.where, err)
	}
	// The rollbacks get a context of their own: the caller's may be what
	// ended.
	rollback := func() error {
		rctx, cancel := bound(context.WithoutCancel(ctx), s.timeout)
		defer cancel()
		return unavailable(ctx, rctx, s.timeout, tx.Rollback(rctx))
	}
	finished := false
	defer func() {
		if !finished {
			// Reached only while panicking or exiting the goroutine; the
			// panic continues once this returns.
			_ = rollback()
		}
	}()

	fnErr := fn(newOps(conn{q: tx, timeout: s.timeout}, s.D, s.Tables))
	finished = true
	if fnErr != nil {
		if rbErr := rollback(); rbErr != nil && !errors.Is(rbErr, pgx.ErrTxClosed) {
			return errors.Join(fnErr, fmt.Errorf("roll back: %w", rbErr))
		}
		return fnErr
	}
	cctx, cancel := bound(ctx, s.timeout)
	defer cancel()
	if err := unavailable(ctx, cctx, s.timeout, tx.Commit(cctx)); err != nil {
		if errors.Is(err, pgx.ErrTxCommitRollback) {
			// A statement failed and fn went on as if it had not: the
			// server rolled everything back.
			return fmt.Errorf("commit transaction: a statement of the transaction failed, so PostgreSQL rolled it back: %w", err)
		}
		return fmt.Errorf("commit transaction: %w", mapErr(err))
	}
	return nil
}
