package sqlcore

import (
	"context"
	"fmt"
	"strings"

	"github.com/atomcp/atomcp/internal/domain"
)

const projectMemberColumns = `project_id, organization_id, user_id, role, status, created_at`

// PutProjectMember adds the project membership, or replaces the role and
// status of an existing one (its created_at stays).
func (o Ops) PutProjectMember(ctx context.Context, m *domain.ProjectMembership) error {
	if !m.Role.Valid() {
		return fmt.Errorf("put member %q of project %q: %w: role %q; accepted: %s",
			m.UserID, m.ProjectID, domain.ErrInvalid, m.Role, strings.Join(domain.Roles, ", "))
	}
	_, err := o.exec(ctx,
		`INSERT INTO project_members (`+projectMemberColumns+`) VALUES ($1, $2, $3, $4, $5, $6)
		 ON CONFLICT (project_id, user_id) DO UPDATE SET role = excluded.role, status = excluded.status`,
		m.ProjectID, m.OrganizationID, m.UserID, string(m.Role), m.Status, o.D.Time(m.CreatedAt))
	if err != nil {
		return fmt.Errorf("put member %q of project %q: %w", m.UserID, m.ProjectID, o.D.MapErr(err))
	}
	return nil
}

// RemoveProjectMember deletes one project membership.
func (o Ops) RemoveProjectMember(ctx context.Context, projectID, userID string) error {
	var n int64
	err := o.Conn.Write(ctx, func(q Querier) error {
		var err error
		n, err = q.Exec(ctx, `DELETE FROM project_members WHERE project_id = $1 AND user_id = $2`, projectID, userID)
		return err
	})
	if err != nil {
		err = o.D.MapDeleteErr(err)
	}
	if err := expectOneRow(n, err); err != nil {
		return fmt.Errorf("remove member %q of project %q: %w", userID, projectID, err)
	}
	return nil
}

// ListProjectMembers returns the memberships of one project, oldest first.
func (o Ops) ListProjectMembers(ctx context.Context, projectID string) ([]*domain.ProjectMembership, error) {
	ms, err := o.queryProjectMembers(ctx, `WHERE project_id = $1 ORDER BY created_at, user_id`, projectID)
	if err != nil {
		return nil, fmt.Errorf("list members of project %q: %w", projectID, err)
	}
	return ms, nil
}

// ListProjectMemberships returns the user's project memberships, oldest
// first.
func (o Ops) ListProjectMemberships(ctx context.Context, userID string) ([]*domain.ProjectMembership, error) {
	ms, err := o.queryProjectMembers(ctx, `WHERE user_id = $1 ORDER BY created_at, project_id`, userID)
	if err != nil {
		return nil, fmt.Errorf("list project memberships of user %q: %w", userID, err)
	}
	return ms, nil
}

// queryProjectMembers selects project memberships; tail is a fixed
// WHERE/ORDER BY text.
func (o Ops) queryProjectMembers(ctx context.Context, tail string, args ...any) ([]*domain.ProjectMembership, error) {
	rows, err := o.Read.Query(ctx, `SELECT `+projectMemberColumns+` FROM project_members `+tail, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	ms := []*domain.ProjectMembership{}
	for rows.Next() {
		var m domain.ProjectMembership
		if err := rows.Scan(&m.ProjectID, &m.OrganizationID, &m.UserID, (*string)(&m.Role), &m.Status, o.D.ScanTime(&m.CreatedAt)); err != nil {
			return nil, err
		}
		ms = append(ms, &m)
	}
	return ms, rows.Err()
}
