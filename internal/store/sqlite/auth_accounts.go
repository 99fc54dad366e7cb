package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

const localAccountColumns = `id, email, name, password_hash, role, disabled_at, failed_logins, locked_until, created_at, updated_at`

// CreateLocalAccount inserts a. Its email must be lower-case already: a
// store that lower-cased it silently would hide a caller's bug.
func (o ops) CreateLocalAccount(ctx context.Context, a *store.LocalAccount) error {
	if err := checkAccount(a); err != nil {
		return fmt.Errorf("create local account %q: %w", a.ID, err)
	}
	_, err := o.write.ExecContext(ctx,
		`INSERT INTO local_accounts (`+localAccountColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.ID, a.Email, a.Name, a.PasswordHash, a.Role, encodeTimePtr(a.DisabledAt), a.FailedLogins,
		encodeTimePtr(a.LockedUntil), encodeTime(a.CreatedAt), encodeTime(a.UpdatedAt))
	if err != nil {
		return fmt.Errorf("create local account %q: %w", a.ID, mapErr(err))
	}
	return nil
}

// UpdateLocalAccount writes every field of a but its id and created_at.
func (o ops) UpdateLocalAccount(ctx context.Context, a *store.LocalAccount) error {
	if err := checkAccount(a); err != nil {
		return fmt.Errorf("update local account %q: %w", a.ID, err)
	}
	res, err := o.write.ExecContext(ctx,
		`UPDATE local_accounts SET email = ?, name = ?, password_hash = ?, role = ?, disabled_at = ?,
			failed_logins = ?, locked_until = ?, updated_at = ? WHERE id = ?`,
		a.Email, a.Name, a.PasswordHash, a.Role, encodeTimePtr(a.DisabledAt), a.FailedLogins,
		encodeTimePtr(a.LockedUntil), encodeTime(a.UpdatedAt), a.ID)
	if err != nil {
		return fmt.Errorf("update local account %q: %w", a.ID, mapErr(err))
	}
	if err := expectOneRow(res); err != nil {
		return fmt.Errorf("update local account %q: %w", a.ID, err)
	}
	return nil
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
func (o ops) GetLocalAccount(ctx context.Context, id string) (*store.LocalAccount, error) {
	a, err := scanLocalAccount(o.read.QueryRowContext(ctx, `SELECT `+localAccountColumns+` FROM local_accounts WHERE id = ?`, id))
	if err != nil {
		return nil, fmt.Errorf("get local account %q: %w", id, err)
	}
	return a, nil
}

// GetLocalAccountByEmail returns the account with the email.
func (o ops) GetLocalAccountByEmail(ctx context.Context, email string) (*store.LocalAccount, error) {
	a, err := scanLocalAccount(o.read.QueryRowContext(ctx, `SELECT `+localAccountColumns+` FROM local_accounts WHERE email = ?`, email))
	if err != nil {
		return nil, fmt.Errorf("get local account by email: %w", err)
	}
	return a, nil
}

// ListLocalAccounts returns every account, oldest first.
func (o ops) ListLocalAccounts(ctx context.Context) ([]*store.LocalAccount, error) {
	rows, err := o.read.QueryContext(ctx, `SELECT `+localAccountColumns+` FROM local_accounts ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list local accounts: %w", err)
	}
	defer rows.Close()
	var out []*store.LocalAccount
	for rows.Next() {
		a, err := scanLocalAccount(rows)
		if err != nil {
			return nil, fmt.Errorf("list local accounts: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list local accounts: %w", err)
	}
	return out, nil
}

// CountLocalAccounts counts the accounts.
func (o ops) CountLocalAccounts(ctx context.Context) (int, error) {
	var n int
	if err := o.read.QueryRowContext(ctx, `SELECT count(*) FROM local_accounts`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count local accounts: %w", err)
	}
	return n, nil
}

// RecordLoginFailure counts a wrong password. The increment is one UPDATE
// (failed_logins = failed_logins + 1 … RETURNING), so parallel failures
// all count; the lock-out is then set from the count that this failure
// produced, never lowered by a slower parallel one.
func (o ops) RecordLoginFailure(ctx context.Context, id string, lockedUntil func(failures int) time.Time) (int, error) {
	var n int
	err := o.write.QueryRowContext(ctx,
		`UPDATE local_accounts SET failed_logins = failed_logins + 1 WHERE id = ? RETURNING failed_logins`, id).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("record login failure of %q: %w", id, notFound(err))
	}
	until := encodeTime(lockedUntil(n))
	_, err = o.write.ExecContext(ctx,
		`UPDATE local_accounts SET locked_until = ? WHERE id = ? AND (locked_until IS NULL OR locked_until < ?)`,
		until, id, until)
	if err != nil {
		return 0, fmt.Errorf("record login failure of %q: %w", id, err)
	}
	return n, nil
}

func scanLocalAccount(row rowScanner) (*store.LocalAccount, error) {
	var (
		a                    store.LocalAccount
		disabled, locked     sql.NullString
		createdAt, updatedAt string
	)
	err := row.Scan(&a.ID, &a.Email, &a.Name, &a.PasswordHash, &a.Role, &disabled, &a.FailedLogins, &locked, &createdAt, &updatedAt)
	if err != nil {
		return nil, notFound(err)
	}
	if a.DisabledAt, err = decodeTimePtr(disabled); err != nil {
		return nil, err
	}
	if a.LockedUntil, err = decodeTimePtr(locked); err != nil {
		return nil, err
	}
	if a.CreatedAt, err = decodeTime(createdAt); err != nil {
		return nil, err
	}
	if a.UpdatedAt, err = decodeTime(updatedAt); err != nil {
		return nil, err
	}
	return &a, nil
}
