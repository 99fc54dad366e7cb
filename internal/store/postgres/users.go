package postgres

import (
	"context"
	"fmt"

	"github.com/atomcp/atomcp/internal/domain"
)

const userColumns = `id, issuer, subject, email, name, created_at, updated_at`

// CreateUser inserts u. A second user with the same (issuer, subject) is a
// conflict.
func (o ops) CreateUser(ctx context.Context, u *domain.User) error {
	if u.ID == "" || u.Issuer == "" || u.Subject == "" {
		return fmt.Errorf("create user %q: %w: id, issuer and subject are required", u.ID, domain.ErrInvalid)
	}
	err := o.write(ctx, func(q querier) error {
		_, err := q.Exec(ctx, `INSERT INTO users (`+userColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			u.ID, u.Issuer, u.Subject, u.Email, u.Name, u.CreatedAt, u.UpdatedAt)
		return err
	})
	if err != nil {
		return fmt.Errorf("create user %q: %w", u.ID, mapErr(err))
	}
	return nil
}

// UpdateUser writes every column of u but its id.
func (o ops) UpdateUser(ctx context.Context, u *domain.User) error {
	err := o.write(ctx, func(q querier) error {
		tag, err := q.Exec(ctx,
			`UPDATE users SET issuer = $2, subject = $3, email = $4, name = $5, created_at = $6, updated_at = $7 WHERE id = $1`,
			u.ID, u.Issuer, u.Subject, u.Email, u.Name, u.CreatedAt, u.UpdatedAt)
		if err != nil {
			return mapErr(err)
		}
		return expectOneRow(tag)
	})
	if err != nil {
		return fmt.Errorf("update user %q: %w", u.ID, err)
	}
	return nil
}

// GetUser returns the user with the id.
func (o ops) GetUser(ctx context.Context, id string) (*domain.User, error) {
	u, err := scanUser(o.q.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("get user %q: %w", id, err)
	}
	return u, nil
}

// GetUserBySubject returns the user of a verified token.
func (o ops) GetUserBySubject(ctx context.Context, issuer, subject string) (*domain.User, error) {
	u, err := scanUser(o.q.QueryRow(ctx,
		`SELECT `+userColumns+` FROM users WHERE issuer = $1 AND subject = $2`, issuer, subject))
	if err != nil {
		return nil, fmt.Errorf("get user of issuer %q subject %q: %w", issuer, subject, err)
	}
	return u, nil
}

// FindUsersByEmail returns the users with the email, compared
// case-insensitively (lower(), see the package documentation).
func (o ops) FindUsersByEmail(ctx context.Context, email string) ([]*domain.User, error) {
	rows, err := o.q.Query(ctx, `SELECT `+userColumns+` FROM users WHERE lower(email) = lower($1::text) ORDER BY created_at, id`, email)
	if err != nil {
		return nil, fmt.Errorf("find users by email: %w", mapErr(err))
	}
	defer rows.Close()
	var users []*domain.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("find users by email: %w", err)
		}
		users = append(users, u)
	}
	return users, rows.Err()
}

func scanUser(row rowScanner) (*domain.User, error) {
	var u domain.User
	if err := row.Scan(&u.ID, &u.Issuer, &u.Subject, &u.Email, &u.Name, &u.CreatedAt, &u.UpdatedAt); err != nil {
		return nil, notFound(err)
	}
	u.CreatedAt, u.UpdatedAt = u.CreatedAt.UTC(), u.UpdatedAt.UTC()
	return &u, nil
}
