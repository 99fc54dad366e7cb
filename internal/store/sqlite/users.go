package sqlite

import (
	"context"
	"database/sql"
	"errors"
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
	_, err := o.write.ExecContext(ctx,
		`INSERT INTO users (`+userColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		u.ID, u.Issuer, u.Subject, u.Email, u.Name, encodeTime(u.CreatedAt), encodeTime(u.UpdatedAt))
	if err != nil {
		return fmt.Errorf("create user %q: %w", u.ID, mapErr(err))
	}
	return nil
}

// UpdateUser writes every column of u but its id.
func (o ops) UpdateUser(ctx context.Context, u *domain.User) error {
	res, err := o.write.ExecContext(ctx,
		`UPDATE users SET issuer = ?, subject = ?, email = ?, name = ?, created_at = ?, updated_at = ? WHERE id = ?`,
		u.Issuer, u.Subject, u.Email, u.Name, encodeTime(u.CreatedAt), encodeTime(u.UpdatedAt), u.ID)
	if err != nil {
		return fmt.Errorf("update user %q: %w", u.ID, mapErr(err))
	}
	if err := expectOneRow(res); err != nil {
		return fmt.Errorf("update user %q: %w", u.ID, err)
	}
	return nil
}

// GetUser returns the user with the id.
func (o ops) GetUser(ctx context.Context, id string) (*domain.User, error) {
	u, err := scanUser(o.read.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
	if err != nil {
		return nil, fmt.Errorf("get user %q: %w", id, err)
	}
	return u, nil
}

// GetUserBySubject returns the user of a verified token.
func (o ops) GetUserBySubject(ctx context.Context, issuer, subject string) (*domain.User, error) {
	u, err := scanUser(o.read.QueryRowContext(ctx,
		`SELECT `+userColumns+` FROM users WHERE issuer = ? AND subject = ?`, issuer, subject))
	if err != nil {
		return nil, fmt.Errorf("get user of issuer %q subject %q: %w", issuer, subject, err)
	}
	return u, nil
}

// FindUsersByEmail returns the users with the email, compared
// case-insensitively (Unicode, see fold).
func (o ops) FindUsersByEmail(ctx context.Context, email string) ([]*domain.User, error) {
	rows, err := o.read.QueryContext(ctx, `SELECT `+userColumns+` FROM users WHERE `+foldFunc+`(email) = ? ORDER BY created_at, id`, fold(email))
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
	var (
		u                    domain.User
		createdAt, updatedAt string
	)
	err := row.Scan(&u.ID, &u.Issuer, &u.Subject, &u.Email, &u.Name, &createdAt, &updatedAt)
	if err != nil {
		return nil, notFound(err)
	}
	if u.CreatedAt, err = decodeTime(createdAt); err != nil {
		return nil, err
	}
	if u.UpdatedAt, err = decodeTime(updatedAt); err != nil {
		return nil, err
	}
	return &u, nil
}

// notFound turns sql.ErrNoRows into domain.ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return domain.ErrNotFound
	}
	return err
}

// expectOneRow turns an update or delete that touched nothing into
// domain.ErrNotFound.
func expectOneRow(res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return domain.ErrNotFound
	}
	return nil
}
