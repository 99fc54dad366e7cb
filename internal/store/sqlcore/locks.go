package sqlcore

import (
	"context"
	"fmt"
)

// TxLock takes the transaction-scoped lock named name (Dialect.TxLock).
// Read is the transaction inside one, which is where the lock belongs.
func (o Ops) TxLock(ctx context.Context, name string) error {
	if o.D.TxLock == "" {
		return nil
	}
	if _, err := o.Read.Exec(ctx, o.D.TxLock, name); err != nil {
		return fmt.Errorf("lock %q: %w", name, err)
	}
	return nil
}
