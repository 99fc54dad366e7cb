package sqlcore

import (
	"context"
	"fmt"
	"strings"

	"github.com/atomcp/atomcp/internal/domain"
)

// CreateInvitation inserts inv.
func (o Ops) CreateInvitation(ctx context.Context, inv *domain.Invitation) error {
	switch {
	case inv.ID == "" || inv.Email == "" || inv.Status == "":
		return fmt.Errorf("create invitation %q: %w: id, email and status are required", inv.ID, domain.ErrInvalid)
	case !inv.Role.Valid():
		return fmt.Errorf("create invitation %q: %w: role %q; accepted: %s",
			inv.ID, domain.ErrInvalid, inv.Role, strings.Join(domain.Roles, ", "))
	}
	_, err := o.exec(ctx,
		`INSERT INTO invitations (id, organization_id, email, role, status, invited_by, created_at, user_id, token_hash)
		 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		inv.ID, inv.OrganizationID, inv.Email, string(inv.Role), inv.Status, inv.InvitedBy, o.D.Time(inv.CreatedAt),
		inv.UserID, inv.TokenHash)
	return wrapf(err, "create invitation %q", inv.ID)
}

// ListPendingInvitations returns the pending invitations to the email,
// compared case-insensitively (Dialect.Fold), oldest first.
func (o Ops) ListPendingInvitations(ctx context.Context, email string) ([]*domain.Invitation, error) {
	invs, err := o.queryInvitations(ctx, `WHERE status = 'pending' AND `+o.D.Fold+`(email) = `+o.D.Fold+`(CAST($1 AS text))
		ORDER BY created_at, id`, email)
	if err != nil {
		return nil, fmt.Errorf("list pending invitations of %q: %w", email, err)
	}
	return invs, nil
}

// ListInvitations returns the invitations of one organization, newest
// first.
func (o Ops) ListInvitations(ctx context.Context, organizationID string) ([]*domain.Invitation, error) {
	invs, err := o.queryInvitations(ctx, `WHERE organization_id = $1 ORDER BY created_at DESC, id`, organizationID)
	if err != nil {
		return nil, fmt.Errorf("list invitations of organization %q: %w", organizationID, err)
	}
	return invs, nil
}

func (o Ops) queryInvitations(ctx context.Context, tail string, args ...any) ([]*domain.Invitation, error) {
	return queryAll(ctx, o.Read, func(row Row) (*domain.Invitation, error) {
		var inv domain.Invitation
		err := row.Scan(&inv.ID, &inv.OrganizationID, &inv.Email, (*string)(&inv.Role), &inv.Status, &inv.InvitedBy,
			o.D.ScanTime(&inv.CreatedAt), &inv.UserID, &inv.TokenHash)
		return &inv, err
	}, `SELECT id, organization_id, email, role, status, invited_by, created_at, user_id, token_hash FROM invitations `+tail, args...)
}

// GetInvitation returns one invitation, or domain.ErrNotFound.
func (o Ops) GetInvitation(ctx context.Context, id string) (*domain.Invitation, error) {
	return o.oneInvitation(ctx, fmt.Sprintf("get invitation %q", id), `WHERE id = $1`, id)
}

// GetInvitationByTokenHash returns the invitation of a link secret's hash.
func (o Ops) GetInvitationByTokenHash(ctx context.Context, tokenHash string) (*domain.Invitation, error) {
	if tokenHash == "" {
		return nil, fmt.Errorf("get invitation by link: %w", domain.ErrNotFound)
	}
	return o.oneInvitation(ctx, "get invitation by link", `WHERE token_hash = $1`, tokenHash)
}

func (o Ops) oneInvitation(ctx context.Context, what, tail string, arg string) (*domain.Invitation, error) {
	invs, err := o.queryInvitations(ctx, tail, arg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if len(invs) == 0 {
		return nil, fmt.Errorf("%s: %w", what, domain.ErrNotFound)
	}
	return invs[0], nil
}

// ListUserInvitations returns the pending invitations of a user: by id,
// or by email (case-insensitively) when email is not empty.
func (o Ops) ListUserInvitations(ctx context.Context, userID, email string) ([]*domain.Invitation, error) {
	invs, err := o.queryInvitations(ctx, `WHERE status = 'pending' AND ((user_id <> '' AND user_id = $1) OR
		(CAST($2 AS text) <> '' AND `+o.D.Fold+`(email) = `+o.D.Fold+`(CAST($2 AS text)))) ORDER BY created_at, id`, userID, email)
	if err != nil {
		return nil, fmt.Errorf("list invitations of user %q: %w", userID, err)
	}
	return invs, nil
}

// SetInvitationStatus changes the status of one invitation.
func (o Ops) SetInvitationStatus(ctx context.Context, id, status string) error {
	if status == "" {
		return fmt.Errorf("set status of invitation %q: %w: empty status", id, domain.ErrInvalid)
	}
	if err := expectOneRow(o.exec(ctx, `UPDATE invitations SET status = $2 WHERE id = $1`, id, status)); err != nil {
		return fmt.Errorf("set status of invitation %q: %w", id, err)
	}
	return nil
}
