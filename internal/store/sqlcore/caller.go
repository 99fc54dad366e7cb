package sqlcore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

// callerQuery reads a user and their memberships in one statement (one
// round trip and one snapshot, where Actor used to make three): the user
// row, their organization memberships and their project memberships, told
// apart by kind, in no particular order. The rows are as narrow as the
// widest kind needs; a column a kind does not use is NULL, which the
// SQLite driver hands over without reading a value, and the user's issuer
// and subject are the arguments. getCaller sorts the memberships into
// ListMemberships' and ListProjectMemberships' order: a handful of rows,
// cheaper to sort in Go than through SQLite's sorter, which an ORDER BY
// over the UNION ran once per branch.
//
//	kind | c1              | c2   | c3     | c4              | t1         | t2
//	0    | id              | email| name   | NULL            | created_at | updated_at
//	1    | organization_id | role | status | NULL            | created_at | NULL
//	2    | project_id      | role | status | organization_id | created_at | NULL
const callerQuery = `WITH u AS (
	SELECT id, email, name, created_at, updated_at FROM users WHERE issuer = $1 AND subject = $2
)
SELECT 0 AS kind, id AS c1, email AS c2, name AS c3, NULL AS c4, created_at AS t1, updated_at AS t2 FROM u
UNION ALL
SELECT 1, m.organization_id, m.role, m.status, NULL, m.created_at, NULL
	FROM organization_members m JOIN u ON m.user_id = u.id
UNION ALL
SELECT 2, p.project_id, p.role, p.status, p.organization_id, p.created_at, NULL
	FROM project_members p JOIN u ON p.user_id = u.id`

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
		kind           int64
		c1, c2, c3     string
		c4             nullString
		t1             time.Time
		t2             *time.Time
		scanT1, scanT2 = o.D.ScanTime(&t1), o.D.ScanNullTime(&t2)
	)
	for rows.Next() {
		if err := rows.Scan(&kind, &c1, &c2, &c3, &c4, scanT1, scanT2); err != nil {
			return nil, err
		}
		switch kind {
		case callerUser:
			if t2 == nil {
				return nil, fmt.Errorf("user %q has no updated_at", c1)
			}
			c.User = &domain.User{ID: c1, Issuer: issuer, Subject: subject, Email: c2, Name: c3, CreatedAt: t1, UpdatedAt: *t2}
		case callerMembership:
			c.Memberships = append(c.Memberships, &domain.Membership{
				OrganizationID: c1, Role: domain.Role(c2), Status: c3, CreatedAt: t1})
		case callerProjectMembership:
			c.ProjectMemberships = append(c.ProjectMemberships, &domain.ProjectMembership{
				ProjectID: c1, OrganizationID: string(c4), Role: domain.Role(c2), Status: c3, CreatedAt: t1})
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
	for _, m := range c.Memberships {
		m.UserID = c.User.ID
	}
	for _, m := range c.ProjectMemberships {
		m.UserID = c.User.ID
	}
	slices.SortFunc(c.Memberships, func(a, b *domain.Membership) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.OrganizationID, b.OrganizationID))
	})
	slices.SortFunc(c.ProjectMemberships, func(a, b *domain.ProjectMembership) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.ProjectID, b.ProjectID))
	})
	return c, nil
}

// nullString scans a text column that may be NULL ("").
type nullString string

func (n *nullString) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*n = ""
	case string:
		*n = nullString(v)
	case []byte:
		*n = nullString(v)
	default:
		return fmt.Errorf("text column is %T", src)
	}
	return nil
}
