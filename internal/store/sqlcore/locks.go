package sqlcore

import (
	"context"
	"fmt"
	"time"

	"github.com/atomcp/atomcp/internal/domain"
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

// TxLockShared takes the lock named name in shared mode
// (Dialect.TxLockShared).
func (o Ops) TxLockShared(ctx context.Context, name string) error {
	if o.D.TxLockShared == "" {
		return nil
	}
	if _, err := o.Read.Exec(ctx, o.D.TxLockShared, name); err != nil {
		return fmt.Errorf("lock %q (shared): %w", name, err)
	}
	return nil
}

// EnsureServerSecret stores value under name unless one is stored, and
// returns the stored value. The primary key decides between processes:
// the losers' inserts do nothing and they read the winner's value.
func (o Ops) EnsureServerSecret(ctx context.Context, name string, value []byte, at time.Time) ([]byte, error) {
	if name == "" || len(value) == 0 {
		return nil, fmt.Errorf("ensure server secret: %w: name and value are required", domain.ErrInvalid)
	}
	if _, err := o.exec(ctx, `INSERT INTO server_secrets (name, value, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING`,
		name, value, o.D.Time(at)); err != nil {
		return nil, fmt.Errorf("ensure server secret %q: %w", name, err)
	}
	var stored []byte
	if err := o.Read.QueryRow(ctx, `SELECT value FROM server_secrets WHERE name = $1`, name).Scan(&stored); err != nil {
		return nil, fmt.Errorf("read server secret %q: %w", name, NotFound(err))
	}
	return stored, nil
}
