package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/atomcp/atomcp/internal/domain"
)

// CreateInvitation inserts inv.
func (o ops) CreateInvitation(ctx context.Context, inv *domain.Invitation) error {
	switch {
	case inv.ID == "" || inv.Email == "" || inv.Status == "":
		return fmt.Errorf("create invitation %q: %w: id, email and status are required", inv.ID, domain.ErrInvalid)
	case !inv.Role.Valid():
		return fmt.Errorf("create invitation %q: %w: role %q; accepted: %s",
			inv.ID, domain.ErrInvalid, inv.Role, strings.Join(domain.Roles, ", "))
	}
	err := o.write(ctx, func(q querier) error {
		_, err := q.Exec(ctx,
			`INSERT INTO invitations (id, organization_id, email, role, status, invited_by, created_at)
			 VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			inv.ID, inv.OrganizationID, inv.Email, string(inv.Role), inv.Status, inv.InvitedBy, inv.CreatedAt)
		return err
	})
	if err != nil {
		return fmt.Errorf("create invitation %q: %w", inv.ID, mapErr(err))
	}
	return nil
}

// ListPendingInvitations returns the pending invitations for the email,
// compared case-insensitively (lower(), see the package documentation),
// oldest first.
func (o ops) ListPendingInvitations(ctx context.Context, email string) ([]*domain.Invitation, error) {
	invs, err := o.queryInvitations(ctx, `WHERE status = 'pending' AND lower(email) = lower($1::text) ORDER BY created_at, id`, email)
	if err != nil {
		return nil, fmt.Errorf("list pending invitations of %q: %w", email, err)
	}
	return invs, nil
}

// ListInvitations returns an organization's invitations, newest first.
func (o ops) ListInvitations(ctx context.Context, organizationID string) ([]*domain.Invitation, error) {
	invs, err := o.queryInvitations(ctx, `WHERE organization_id = $1 ORDER BY created_at DESC, id`, organizationID)
	if err != nil {
		return nil, fmt.Errorf("list invitations of organization %q: %w", organizationID, err)
	}
	return invs, nil
}

func (o ops) queryInvitations(ctx context.Context, tail string, args ...any) ([]*domain.Invitation, error) {
	rows, err := o.q.Query(ctx,
		`SELECT id, organization_id, email, role, status, invited_by, created_at FROM invitations `+tail, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	invs := []*domain.Invitation{}
	for rows.Next() {
		var (
			inv  domain.Invitation
			role string
		)
		if err := rows.Scan(&inv.ID, &inv.OrganizationID, &inv.Email, &role, &inv.Status, &inv.InvitedBy, &inv.CreatedAt); err != nil {
			return nil, err
		}
		inv.Role, inv.CreatedAt = domain.Role(role), inv.CreatedAt.UTC()
		invs = append(invs, &inv)
	}
	return invs, rows.Err()
}

// SetInvitationStatus changes the status of one invitation.
func (o ops) SetInvitationStatus(ctx context.Context, id, status string) error {
	if status == "" {
		return fmt.Errorf("set status of invitation %q: %w: empty status", id, domain.ErrInvalid)
	}
	err := o.write(ctx, func(q querier) error {
		tag, err := q.Exec(ctx, `UPDATE invitations SET status = $2 WHERE id = $1`, id, status)
		if err != nil {
			return mapErr(err)
		}
		return expectOneRow(tag)
	})
	if err != nil {
		return fmt.Errorf("set status of invitation %q: %w", id, err)
	}
	return nil
}
