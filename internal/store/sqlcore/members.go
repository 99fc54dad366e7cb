package sqlcore

import (
	"context"
	"fmt"
	"strings"

	"github.com/atomcp/atomcp/internal/domain"
)

const memberColumns = `organization_id, user_id, role, status, created_at`

// PutMember adds the membership, or replaces the role and status of an
// existing one (its created_at stays).
func (o Ops) PutMember(ctx context.Context, m *domain.Membership) error {
	if !m.Role.Valid() {
		return fmt.Errorf("put member %q of organization %q: %w: role %q; accepted: %s",
			m.UserID, m.OrganizationID, domain.ErrInvalid, m.Role, strings.Join(domain.Roles, ", "))
	}
	_, err := o.exec(ctx,
		`INSERT INTO organization_members (`+memberColumns+`) VALUES ($1, $2, $3, $4, $5)
		 ON CONFLICT (organization_id, user_id) DO UPDATE SET role = excluded.role, status = excluded.status`,
		m.OrganizationID, m.UserID, string(m.Role), m.Status, o.D.Time(m.CreatedAt))
	return wrapf(err, "put member %q of organization %q", m.UserID, m.OrganizationID)
}

// GetMember returns one membership.
func (o Ops) GetMember(ctx context.Context, organizationID, userID string) (*domain.Membership, error) {
	rows, err := o.queryMembers(ctx, `WHERE organization_id = $1 AND user_id = $2`, organizationID, userID)
	if err == nil && len(rows) == 0 {
		err = domain.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("get member %q of organization %q: %w", userID, organizationID, err)
	}
	return rows[0], nil
}

// RemoveMember deletes one membership.
func (o Ops) RemoveMember(ctx context.Context, organizationID, userID string) error {
	err := o.deleteOne(ctx, `DELETE FROM organization_members WHERE organization_id = $1 AND user_id = $2`, organizationID, userID)
	return wrapf(err, "remove member %q of organization %q", userID, organizationID)
}

// ListMemberships returns the user's memberships, oldest first.
func (o Ops) ListMemberships(ctx context.Context, userID string) ([]*domain.Membership, error) {
	ms, err := o.queryMembers(ctx, `WHERE user_id = $1 ORDER BY created_at, organization_id`, userID)
	if err != nil {
		return nil, fmt.Errorf("list memberships of user %q: %w", userID, err)
	}
	return ms, nil
}

// ListMembers returns the memberships of one organization, oldest first.
func (o Ops) ListMembers(ctx context.Context, organizationID string) ([]*domain.Membership, error) {
	ms, err := o.queryMembers(ctx, `WHERE organization_id = $1 ORDER BY created_at, user_id`, organizationID)
	if err != nil {
		return nil, fmt.Errorf("list members of organization %q: %w", organizationID, err)
	}
	return ms, nil
}

// queryMembers selects memberships; tail is a fixed WHERE/ORDER BY text.
func (o Ops) queryMembers(ctx context.Context, tail string, args ...any) ([]*domain.Membership, error) {
	return queryAll(ctx, o.Read, func(r Row) (*domain.Membership, error) {
		var m domain.Membership
		return &m, r.Scan(&m.OrganizationID, &m.UserID, (*string)(&m.Role), &m.Status, o.D.ScanTime(&m.CreatedAt))
	}, `SELECT `+memberColumns+` FROM organization_members `+tail, args...)
}
