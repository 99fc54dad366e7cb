package sqlite

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
	_, err := o.write.ExecContext(ctx,
		`INSERT INTO invitations (id, organization_id, email, role, status, invited_by, created_at)
		 VALUES (?, ?, ?, ?, ?, ?, ?)`,
		inv.ID, inv.OrganizationID, inv.Email, string(inv.Role), inv.Status, inv.InvitedBy, encodeTime(inv.CreatedAt))
	if err != nil {
		return fmt.Errorf("create invitation %q: %w", inv.ID, mapErr(err))
	}
	return nil
}

// ListPendingInvitations returns the pending invitations for the email,
// compared case-insensitively (Unicode, see fold), oldest first.
func (o ops) ListPendingInvitations(ctx context.Context, email string) ([]*domain.Invitation, error) {
	invs, err := o.listPendingInvitations(ctx, email)
	if err != nil {
		return nil, fmt.Errorf("list pending invitations of %q: %w", email, err)
	}
	return invs, nil
}

func (o ops) listPendingInvitations(ctx context.Context, email string) ([]*domain.Invitation, error) {
	return o.queryInvitations(ctx, `WHERE status = 'pending' AND `+foldFunc+`(email) = ? ORDER BY created_at, id`, fold(email))
}

// ListInvitations returns an organization's invitations, newest first.
func (o ops) ListInvitations(ctx context.Context, organizationID string) ([]*domain.Invitation, error) {
	invs, err := o.queryInvitations(ctx, `WHERE organization_id = ? ORDER BY created_at DESC, id`, organizationID)
	if err != nil {
		return nil, fmt.Errorf("list invitations of organization %q: %w", organizationID, err)
	}
	return invs, nil
}

func (o ops) queryInvitations(ctx context.Context, tail string, args ...any) ([]*domain.Invitation, error) {
	rows, err := o.read.QueryContext(ctx,
		`SELECT id, organization_id, email, role, status, invited_by, created_at FROM invitations `+tail, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	invs := []*domain.Invitation{}
	for rows.Next() {
		var (
			inv             domain.Invitation
			role, createdAt string
		)
		if err := rows.Scan(&inv.ID, &inv.OrganizationID, &inv.Email, &role, &inv.Status, &inv.InvitedBy, &createdAt); err != nil {
			return nil, err
		}
		inv.Role = domain.Role(role)
		if inv.CreatedAt, err = decodeTime(createdAt); err != nil {
			return nil, err
		}
		invs = append(invs, &inv)
	}
	return invs, rows.Err()
}

// SetInvitationStatus changes the status of one invitation.
func (o ops) SetInvitationStatus(ctx context.Context, id, status string) error {
	if status == "" {
		return fmt.Errorf("set status of invitation %q: %w: empty status", id, domain.ErrInvalid)
	}
	res, err := o.write.ExecContext(ctx, `UPDATE invitations SET status = ? WHERE id = ?`, status, id)
	if err == nil {
		err = expectOneRow(res)
	}
	if err != nil {
		return fmt.Errorf("set status of invitation %q: %w", id, err)
	}
	return nil
}
