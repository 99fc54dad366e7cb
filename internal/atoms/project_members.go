package atoms

import (
	"context"
	"fmt"
	"strings"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

// Project membership (the Atoms data model's project_members): a member of
// a project's organization may have a role in the project. It narrows or
// widens what they may change there: a project viewer only reads the
// project even as an organization member; a project member, admin or
// owner writes it even as an organization viewer. Organization owners and
// admins write every project. Seeing a project still needs the
// organization membership.

// ProjectMemberResult is a project membership as tools show it.
type ProjectMemberResult struct {
	ProjectID      string      `json:"project_id"`
	OrganizationID string      `json:"organization_id"`
	UserID         string      `json:"user_id"`
	Email          string      `json:"email,omitempty"`
	Name           string      `json:"name,omitempty"`
	Role           domain.Role `json:"role"`
	Status         string      `json:"status"`
}

func (s *Service) projectMemberResult(ctx context.Context, tx store.Ops, m *domain.ProjectMembership) ProjectMemberResult {
	r := ProjectMemberResult{ProjectID: m.ProjectID, OrganizationID: m.OrganizationID, UserID: m.UserID, Role: m.Role, Status: m.Status}
	if u, err := tx.GetUser(ctx, m.UserID); err == nil {
		r.Email, r.Name = u.Email, u.Name
	}
	return r
}

// managedProject resolves a live project whose members the actor may
// manage: an owner or admin of its organization or of the project.
func (s *Service) managedProject(ctx context.Context, tx store.Ops, a *Actor, project EntityRef, what string) (*domain.Entity, error) {
	p, err := s.resolveLive(ctx, tx, a, EntityRef{Type: domain.Project, ID: project.ID}, "source")
	if err != nil {
		return nil, err
	}
	if r, ok := a.projectRoles[p.ID]; !ok || !r.CanManageMembers() {
		if err := a.requireManage(p.OrganizationID, what); err != nil {
			return nil, err
		}
	}
	// Project roles weigh in the organization's write checks: their
	// changes take the organization's members lock too.
	if err := s.lockMembers(ctx, tx, a, p.OrganizationID); err != nil {
		return nil, err
	}
	if err := confirmProjectRoles(ctx, tx, a, map[string]bool{p.ID: true}); err != nil {
		return nil, err
	}
	return p, nil
}

// projectUser finds the user a reference (id or email) means, who must be
// a member of the organization.
func (s *Service) projectUser(ctx context.Context, tx store.Ops, p *domain.Entity, userRef string) (*domain.User, error) {
	u, err := s.memberUser(ctx, tx, p.OrganizationID, userRef, "target")
	if err != nil {
		return nil, fmt.Errorf("%w (a project's members are members of its organization: add them there first, with a member link whose source is the organization)", err)
	}
	return u, nil
}

// AddProjectMember gives a member of the project's organization a role in
// the project (member by default), or changes it.
func (s *Service) AddProjectMember(ctx context.Context, a *Actor, project EntityRef, userRef string, role domain.Role) (*ProjectMemberResult, error) {
	if role == "" {
		role = domain.RoleMember
	}
	if err := checkRole(role); err != nil {
		return nil, err
	}
	var res *ProjectMemberResult
	err := s.inTx(ctx, func(tx store.Ops) error {
		p, err := s.managedProject(ctx, tx, a, project, "adding project members")
		if err != nil {
			return err
		}
		u, err := s.projectUser(ctx, tx, p, userRef)
		if err != nil {
			return err
		}
		m := &domain.ProjectMembership{ProjectID: p.ID, OrganizationID: p.OrganizationID, UserID: u.ID, Role: role, Status: "active", CreatedAt: s.now()}
		if err := tx.PutProjectMember(ctx, m); err != nil {
			return err
		}
		r := s.projectMemberResult(ctx, tx, m)
		res = &r
		return s.auditMember(ctx, tx, a, "add_project_member", p.OrganizationID, u.ID, string(role)+" in project "+p.ID)
	})
	return res, err
}

// RemoveProjectMember takes a user's role in a project away (they stay a
// member of the organization).
func (s *Service) RemoveProjectMember(ctx context.Context, a *Actor, project EntityRef, userRef string) (*ProjectMemberResult, error) {
	var res *ProjectMemberResult
	err := s.inTx(ctx, func(tx store.Ops) error {
		p, err := s.managedProject(ctx, tx, a, project, "removing project members")
		if err != nil {
			return err
		}
		m, err := s.findProjectMember(ctx, tx, p, userRef)
		if err != nil {
			return err
		}
		if err := tx.RemoveProjectMember(ctx, p.ID, m.UserID); err != nil {
			return err
		}
		r := s.projectMemberResult(ctx, tx, m)
		res = &r
		return s.auditMember(ctx, tx, a, "remove_project_member", p.OrganizationID, m.UserID, "project "+p.ID)
	})
	return res, err
}

func (s *Service) findProjectMember(ctx context.Context, tx store.Ops, p *domain.Entity, userRef string) (*domain.ProjectMembership, error) {
	ms, err := tx.ListProjectMembers(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		if m.UserID == userRef {
			return m, nil
		}
		if strings.Contains(userRef, "@") {
			if u, err := tx.GetUser(ctx, m.UserID); err == nil && strings.EqualFold(u.Email, userRef) {
				return m, nil
			}
		}
	}
	return nil, fmt.Errorf("target: %q is not a member of the project: %w", userRef, domain.ErrNotFound)
}

// ListProjectMembers lists a project's members.
func (s *Service) ListProjectMembers(ctx context.Context, a *Actor, project EntityRef) ([]ProjectMemberResult, error) {
	p, err := s.resolveLive(ctx, s.store, a, EntityRef{Type: domain.Project, ID: project.ID}, "source")
	if err != nil {
		return nil, err
	}
	ms, err := s.store.ListProjectMembers(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	out := make([]ProjectMemberResult, 0, len(ms))
	for _, m := range ms {
		out = append(out, s.projectMemberResult(ctx, s.store, m))
	}
	return out, nil
}

// CheckProjectMember returns a user's project membership, or nil.
func (s *Service) CheckProjectMember(ctx context.Context, a *Actor, project EntityRef, userRef string) (*ProjectMemberResult, error) {
	p, err := s.resolveLive(ctx, s.store, a, EntityRef{Type: domain.Project, ID: project.ID}, "source")
	if err != nil {
		return nil, err
	}
	m, err := s.findProjectMember(ctx, s.store, p, userRef)
	if err != nil {
		return nil, nil // not a member is an answer, not an error
	}
	r := s.projectMemberResult(ctx, s.store, m)
	return &r, nil
}
