package atoms

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

// Administration views (the /admin page and `atomcp orgs`/`atomcp audit`):
// what an organization's owners and admins manage, and, for the server's
// owner, every organization.

// AsServerOwner returns an actor that is owner of every organization: the
// server owner's view in the admin page and the CLI (which runs with the
// database's own authority). Only callers that checked the person is the
// server owner may use it.
func (s *Service) AsServerOwner(ctx context.Context, a *Actor) (*Actor, error) {
	page, err := s.store.ListEntities(ctx, store.EntityQuery{Type: domain.Organization, AllOrganizations: true, Limit: 100000})
	if err != nil {
		return nil, fmt.Errorf("list organizations: %w", err)
	}
	out := &Actor{User: a.User, roles: map[string]domain.Role{}, projectRoles: a.projectRoles, emailVerified: a.emailVerified}
	for _, o := range page.Items {
		out.roles[o.ID] = domain.RoleOwner
	}
	return out, nil
}

// OrgSummary is an organization as the admin page lists it.
type OrgSummary struct {
	ID, Name, Slug, Type string
	Role                 domain.Role // the actor's
	Members              int
}

// ManagedOrganizations lists the live organizations the actor owns or
// administers, by name.
func (s *Service) ManagedOrganizations(ctx context.Context, a *Actor) ([]OrgSummary, error) {
	var ids []string
	for id, r := range a.roles {
		if r.CanManageMembers() {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	page, err := s.store.ListEntities(ctx, store.EntityQuery{Type: domain.Organization, OrganizationIDs: ids, Limit: 100000})
	if err != nil {
		return nil, fmt.Errorf("list organizations: %w", err)
	}
	out := make([]OrgSummary, 0, len(page.Items))
	for _, o := range page.Items {
		if o.IsDeleted {
			continue
		}
		ms, err := s.store.ListMembers(ctx, o.ID)
		if err != nil {
			return nil, err
		}
		name, _ := o.Fields["name"].(string)
		slug, _ := o.Fields["slug"].(string)
		typ, _ := o.Fields["type"].(string)
		out = append(out, OrgSummary{ID: o.ID, Name: name, Slug: slug, Type: typ, Role: a.roles[o.ID], Members: len(ms)})
	}
	slices.SortFunc(out, func(x, y OrgSummary) int { return strings.Compare(strings.ToLower(x.Name), strings.ToLower(y.Name)) })
	return out, nil
}

// ProjectSummary is a project with its members, as the admin page shows it.
type ProjectSummary struct {
	ID, Name string
	Members  []ProjectMemberResult
}

// ManagedProjects lists the live projects of an organization the actor
// manages, with their project members.
func (s *Service) ManagedProjects(ctx context.Context, a *Actor, org EntityRef) ([]ProjectSummary, error) {
	o, err := s.managedOrg(ctx, s.store, a, org, "managing projects")
	if err != nil {
		return nil, err
	}
	page, err := s.store.ListEntities(ctx, store.EntityQuery{Type: domain.Project, OrganizationIDs: []string{o.ID}, Limit: 100000})
	if err != nil {
		return nil, fmt.Errorf("list projects: %w", err)
	}
	var out []ProjectSummary
	for _, p := range page.Items {
		if p.IsDeleted {
			continue
		}
		name, _ := p.Fields["name"].(string)
		ms, err := s.ListProjectMembers(ctx, a, EntityRef{Type: domain.Project, ID: p.ID})
		if err != nil {
			return nil, err
		}
		out = append(out, ProjectSummary{ID: p.ID, Name: name, Members: ms})
	}
	slices.SortFunc(out, func(x, y ProjectSummary) int {
		return strings.Compare(strings.ToLower(x.Name), strings.ToLower(y.Name))
	})
	return out, nil
}

// AuditFilter selects audit entries for an administrator.
type AuditFilter struct {
	ActorID        string // a user id
	Action         string
	OrganizationID string // "" for every organization the actor manages
	Since, Until   time.Time
	Limit          int // default 100, at most 1000
}

// AuditEntryView is an audit entry with its actor's and organization's
// names resolved for display.
type AuditEntryView struct {
	*domain.AuditEntry
	ActorEmail       string
	OrganizationName string
}

// AuditSearch returns the newest audit entries of the organizations the
// actor manages (owner or admin), filtered.
func (s *Service) AuditSearch(ctx context.Context, a *Actor, f AuditFilter) ([]AuditEntryView, error) {
	managed := []string{}
	for id, r := range a.roles {
		if r.CanManageMembers() {
			managed = append(managed, id)
		}
	}
	q := store.AuditQuery{OrganizationIDs: managed, ActorID: strings.TrimSpace(f.ActorID), Action: strings.TrimSpace(f.Action),
		Since: f.Since, Until: f.Until, Limit: f.Limit}
	if f.OrganizationID != "" {
		if err := a.requireManage(f.OrganizationID, "reading the audit log"); err != nil {
			return nil, err
		}
		q.OrganizationIDs = []string{f.OrganizationID}
	}
	switch {
	case q.Limit == 0:
		q.Limit = 100
	case q.Limit < 0 || q.Limit > 1000:
		return nil, fmt.Errorf("%w: limit %d; accepted: 1 to 1000", domain.ErrInvalid, f.Limit)
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Until.After(f.Since) {
		return nil, fmt.Errorf("%w: the time range ends before it starts", domain.ErrInvalid)
	}
	entries, err := s.store.ListAudit(ctx, q)
	if err != nil {
		return nil, err
	}
	users, orgs := map[string]string{}, map[string]string{}
	out := make([]AuditEntryView, 0, len(entries))
	for _, e := range entries {
		v := AuditEntryView{AuditEntry: e}
		if email, ok := users[e.ActorID]; ok {
			v.ActorEmail = email
		} else if u, err := s.store.GetUser(ctx, e.ActorID); err == nil {
			users[e.ActorID], v.ActorEmail = u.Email, u.Email
		}
		if name, ok := orgs[e.OrganizationID]; ok {
			v.OrganizationName = name
		} else if o, err := s.store.GetEntity(ctx, domain.Organization, e.OrganizationID); err == nil {
			n, _ := o.Fields["name"].(string)
			orgs[e.OrganizationID], v.OrganizationName = n, n
		}
		out = append(out, v)
	}
	return out, nil
}

// UserByEmail returns the stored user of an email (the first, when
// several identities share it), for the admin page's actor filter; it is
// for administrators, who see the members of their organizations.
func (s *Service) UserByEmail(ctx context.Context, email string) (*domain.User, error) {
	users, err := s.store.FindUsersByEmail(ctx, strings.TrimSpace(email))
	if err != nil {
		return nil, err
	}
	if len(users) == 0 {
		return nil, fmt.Errorf("user %q: %w", email, domain.ErrNotFound)
	}
	return users[0], nil
}
