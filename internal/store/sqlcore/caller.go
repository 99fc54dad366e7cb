package sqlcore

import (
	"context"
	"fmt"
	"time"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

// callerQuery reads a user and their memberships in one statement (one
// round trip and one snapshot, where Actor used to make three): the user
// row, then their organization memberships, then their project
// memberships, told apart by kind. Columns a kind does not use are ”
// (or NULL for the second timestamp). The ORDER BY gives the memberships
// ListMemberships' and ListProjectMemberships' order.
//
//	kind | c1              | c2              | c3      | c4     | c5    | t1         | t2
//	0    | id              | issuer          | subject | email  | name  | created_at | updated_at
//	1    | organization_id | ''              | role    | status | ''    | created_at | NULL
//	2    | project_id      | organization_id | role    | status | ''    | created_at | NULL
const callerQuery = `WITH u AS (
	SELECT ` + userColumns + ` FROM users WHERE issuer = $1 AND subject = $2
)
SELECT 0 AS kind, id AS c1, issuer AS c2, subject AS c3, email AS c4, name AS c5, created_at AS t1, updated_at AS t2 FROM u
UNION ALL
SELECT 1, m.organization_id, '', m.role, m.status, '', m.created_at, NULL
	FROM organization_members m JOIN u ON m.user_id = u.id
UNION ALL
SELECT 2, p.project_id, p.organization_id, p.role, p.status, '', p.created_at, NULL
	FROM project_members p JOIN u ON p.user_id = u.id
ORDER BY kind, t1, c1`

// Kinds of callerQuery's rows.
const (
	callerUser = iota
	callerMembership
	callerProjectMembership
)

// GetCaller returns the user of a verified token with their memberships.
func (o Ops) GetCaller(ctx context.Context, issuer, subject string) (*store.Caller, error) {
	c, err := o.getCaller(ctx, issuer, subject)
	if err != nil {
		return nil, fmt.Errorf("get caller of issuer %q subject %q: %w", issuer, subject, err)
	}
	return c, nil
}

func (o Ops) getCaller(ctx context.Context, issuer, subject string) (*store.Caller, error) {
	rows, err := o.Read.Query(ctx, callerQuery, issuer, subject)
	if err != nil {
		return nil, o.D.MapErr(err)
	}
	defer rows.Close()
	c := &store.Caller{Memberships: []*domain.Membership{}, ProjectMemberships: []*domain.ProjectMembership{}}
	var (
		kind               int
		c1, c2, c3, c4, c5 string
		t1                 time.Time
		t2                 *time.Time
		scanT1, scanT2     = o.D.ScanTime(&t1), o.D.ScanNullTime(&t2)
	)
	for rows.Next() {
		if err := rows.Scan(&kind, &c1, &c2, &c3, &c4, &c5, scanT1, scanT2); err != nil {
			return nil, err
		}
		if kind != callerUser && c.User == nil {
			return nil, fmt.Errorf("caller row of kind %d before the user's", kind) // the ORDER BY rules it out
		}
		switch kind {
		case callerUser:
			if t2 == nil {
				return nil, fmt.Errorf("user %q has no updated_at", c1)
			}
			c.User = &domain.User{ID: c1, Issuer: c2, Subject: c3, Email: c4, Name: c5, CreatedAt: t1, UpdatedAt: *t2}
		case callerMembership:
			c.Memberships = append(c.Memberships, &domain.Membership{
				OrganizationID: c1, UserID: c.User.ID, Role: domain.Role(c3), Status: c4, CreatedAt: t1})
		case callerProjectMembership:
			c.ProjectMemberships = append(c.ProjectMemberships, &domain.ProjectMembership{
				ProjectID: c1, OrganizationID: c2, UserID: c.User.ID, Role: domain.Role(c3), Status: c4, CreatedAt: t1})
		default:
			return nil, fmt.Errorf("caller row of unknown kind %d", kind)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if c.User == nil {
		return nil, domain.ErrNotFound
	}
	return c, nil
}
