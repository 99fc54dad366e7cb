package sqlcore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

const localAccountColumns = `id, email, name, password_hash, role, disabled_at, failed_logins, locked_until, created_at, updated_at`

// CreateLocalAccount inserts a. Its email must be lower-case already: a
// store that lower-cased it silently would hide a caller's bug.
func (o Ops) CreateLocalAccount(ctx context.Context, a *store.LocalAccount) error {
	if err := checkAccount(a); err != nil {
		return fmt.Errorf("create local account %q: %w", a.ID, err)
	}
	_, err := o.exec(ctx,
		`INSERT INTO local_accounts (`+localAccountColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		a.ID, a.Email, a.Name, a.PasswordHash, a.Role, o.D.NullTime(a.DisabledAt), a.FailedLogins,
		o.D.NullTime(a.LockedUntil), o.D.Time(a.CreatedAt), o.D.Time(a.UpdatedAt))
	return wrapf(err, "create local account %q", a.ID)
}

// UpdateLocalAccount writes every field of a but its id and created_at.
func (o Ops) UpdateLocalAccount(ctx context.Context, a *store.LocalAccount) error {
	if err := checkAccount(a); err != nil {
		return fmt.Errorf("update local account %q: %w", a.ID, err)
	}
	err := expectOneRow(o.exec(ctx,
		`UPDATE local_accounts SET email = $2, name = $3, password_hash = $4, role = $5, disabled_at = $6,
			failed_logins = $7, locked_until = $8, updated_at = $9 WHERE id = $1`,
		a.ID, a.Email, a.Name, a.PasswordHash, a.Role, o.D.NullTime(a.DisabledAt), a.FailedLogins,
		o.D.NullTime(a.LockedUntil), o.D.Time(a.UpdatedAt)))
	return wrapf(err, "update local account %q", a.ID)
}

func checkAccount(a *store.LocalAccount) error {
	switch {
	case a.ID == "" || a.Email == "" || a.PasswordHash == "":
		return fmt.Errorf("%w: id, email and password hash are required", domain.ErrInvalid)
	case a.Email != strings.ToLower(a.Email):
		return fmt.Errorf("%w: the email must be lower-case", domain.ErrInvalid)
	case a.Role != "owner" && a.Role != "user":
		return fmt.Errorf("%w: role %q is not owner or user", domain.ErrInvalid, a.Role)
	}
	return nil
}

// GetLocalAccount returns the account with the id.
func (o Ops) GetLocalAccount(ctx context.Context, id string) (*store.LocalAccount, error) {
	a, err := o.scanLocalAccount(o.Read.QueryRow(ctx, `SELECT `+localAccountColumns+` FROM local_accounts WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("get local account %q: %w", id, err)
	}
	return a, nil
}

// GetLocalAccountByEmail returns the account with the email.
func (o Ops) GetLocalAccountByEmail(ctx context.Context, email string) (*store.LocalAccount, error) {
	a, err := o.scanLocalAccount(o.Read.QueryRow(ctx, `SELECT `+localAccountColumns+` FROM local_accounts WHERE email = $1`, email))
	if err != nil {
		return nil, fmt.Errorf("get local account by email: %w", err)
	}
	return a, nil
}

// ListLocalAccounts returns every account, oldest first.
func (o Ops) ListLocalAccounts(ctx context.Context) ([]*store.LocalAccount, error) {
	out, err := queryAll(ctx, o.Read, o.scanLocalAccount, `SELECT `+localAccountColumns+` FROM local_accounts ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list local accounts: %w", err)
	}
	return out, nil
}

// CountLocalAccounts counts the accounts.
func (o Ops) CountLocalAccounts(ctx context.Context) (int, error) {
	var n int
	if err := o.Read.QueryRow(ctx, `SELECT count(*) FROM local_accounts`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count local accounts: %w", err)
	}
	return n, nil
}

// RecordLoginFailure counts a wrong password. The increment is one UPDATE
// (failed_logins = failed_logins + 1 … RETURNING), so parallel failures
// all count, on any replica; the lock-out is then set from the count that
// this failure produced, never lowered by a slower parallel one.
func (o Ops) RecordLoginFailure(ctx context.Context, id string, lockedUntil func(failures int) time.Time) (int, error) {
	var n int
	err := o.Conn.Write(ctx, func(q Querier) error {
		return q.QueryRow(ctx,
			`UPDATE local_accounts SET failed_logins = failed_logins + 1 WHERE id = $1 RETURNING failed_logins`, id).Scan(&n)
	})
	if err != nil {
		return 0, fmt.Errorf("record login failure of %q: %w", id, NotFound(err))
	}
	_, err = o.exec(ctx,
		`UPDATE local_accounts SET locked_until = $2 WHERE id = $1 AND (locked_until IS NULL OR locked_until < $2)`,
		id, o.D.Time(lockedUntil(n)))
	if err != nil {
		return 0, fmt.Errorf("record login failure of %q: %w", id, err)
	}
	return n, nil
}

func (o Ops) scanLocalAccount(row Row) (*store.LocalAccount, error) {
	var a store.LocalAccount
	err := row.Scan(&a.ID, &a.Email, &a.Name, &a.PasswordHash, &a.Role, o.D.ScanNullTime(&a.DisabledAt), &a.FailedLogins,
		o.D.ScanNullTime(&a.LockedUntil), o.D.ScanTime(&a.CreatedAt), o.D.ScanTime(&a.UpdatedAt))
	if err != nil {
		return nil, NotFound(err)
	}
	return &a, nil
}
