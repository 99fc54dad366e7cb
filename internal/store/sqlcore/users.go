package sqlcore

import (
	"context"
	"fmt"

	"github.com/atomcp/atomcp/internal/domain"
)

const userColumns = `id, issuer, subject, email, name, created_at, updated_at`

// CreateUser inserts u. A second user with the same (issuer, subject) is a
// conflict.
func (o Ops) CreateUser(ctx context.Context, u *domain.User) error {
	if u.ID == "" || u.Issuer == "" || u.Subject == "" {
		return fmt.Errorf("create user %q: %w: id, issuer and subject are required", u.ID, domain.ErrInvalid)
	}
	_, err := o.exec(ctx, `INSERT INTO users (`+userColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		u.ID, u.Issuer, u.Subject, u.Email, u.Name, o.D.Time(u.CreatedAt), o.D.Time(u.UpdatedAt))
	return wrapf(err, "create user %q", u.ID)
}

// UpdateUser writes every column of u but its id.
func (o Ops) UpdateUser(ctx context.Context, u *domain.User) error {
	err := expectOneRow(o.exec(ctx,
		`UPDATE users SET issuer = $2, subject = $3, email = $4, name = $5, created_at = $6, updated_at = $7 WHERE id = $1`,
		u.ID, u.Issuer, u.Subject, u.Email, u.Name, o.D.Time(u.CreatedAt), o.D.Time(u.UpdatedAt)))
	return wrapf(err, "update user %q", u.ID)
}

// GetUser returns the user with the id.
func (o Ops) GetUser(ctx context.Context, id string) (*domain.User, error) {
	u, err := o.scanUser(o.Read.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("get user %q: %w", id, err)
	}
	return u, nil
}

// GetUserBySubject returns the user of a verified token.
func (o Ops) GetUserBySubject(ctx context.Context, issuer, subject string) (*domain.User, error) {
	u, err := o.scanUser(o.Read.QueryRow(ctx,
		`SELECT `+userColumns+` FROM users WHERE issuer = $1 AND subject = $2`, issuer, subject))
	if err != nil {
		return nil, fmt.Errorf("get user of issuer %q subject %q: %w", issuer, subject, err)
	}
	return u, nil
}

// FindUsersByEmail returns the users with the email, compared
// case-insensitively (Dialect.Fold).
func (o Ops) FindUsersByEmail(ctx context.Context, email string) ([]*domain.User, error) {
	users, err := queryAll(ctx, o.Read, o.scanUser,
		`SELECT `+userColumns+` FROM users WHERE `+o.D.Fold+`(email) = `+o.D.Fold+`(CAST($1 AS text)) ORDER BY created_at, id`, email)
	if err != nil {
		return nil, fmt.Errorf("find users by email: %w", o.D.MapErr(err))
	}
	return users, nil
}

func (o Ops) scanUser(row Row) (*domain.User, error) {
	var u domain.User
	if err := row.Scan(&u.ID, &u.Issuer, &u.Subject, &u.Email, &u.Name, o.D.ScanTime(&u.CreatedAt), o.D.ScanTime(&u.UpdatedAt)); err != nil {
		return nil, NotFound(err)
	}
	return &u, nil
}
