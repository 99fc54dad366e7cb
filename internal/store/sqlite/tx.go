package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/atomcp/atomcp/internal/store"
)

// InTx runs fn in one IMMEDIATE transaction on the writer connection and
// commits it if fn returns nil, holding the writer's turn (writerQueue)
// throughout. If fn returns an error the transaction is
// rolled back and that error returned; if fn panics (or calls
// runtime.Goexit, as t.FailNow does) it is rolled back and the panic goes
// on.
func (s *Store) InTx(ctx context.Context, fn func(tx store.Ops) error) error {
	sqlTx, done, err := s.writer.begin(ctx)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	defer done() // deferred first, so it runs after the rollback below
	finished := false
	defer func() {
		if !finished {
			// Reached only while panicking or exiting the goroutine; the
			// panic continues once this returns. Not rolling back here
			// would keep the writer connection busy for good.
			_ = sqlTx.Rollback()
		}
	}()

	fnErr := fn(txOps(sqlTx, s.D, s.Tables))
	finished = true
	if fnErr != nil {
		// ErrTxDone: database/sql already rolled back because ctx ended.
		if rbErr := sqlTx.Rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) {
			return errors.Join(fnErr, fmt.Errorf("roll back: %w", rbErr))
		}
		return fnErr
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("commit transaction: %w", mapErr(err))
	}
	return nil
}
