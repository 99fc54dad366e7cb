// Package atoms is the Atoms service layer: it knows who is asking, enforces
// organization membership and roles, validates input against the domain
// schema, records the audit log, and talks to the store. It knows nothing of
// MCP or HTTP.
package atoms

import (
	"fmt"

	"github.com/atomcp/atomcp/internal/domain"
)

// Caller is the verified identity of whoever is asking: the one identity
// type from the token verifier (internal/auth) to the service.
type Caller = domain.Identity

// LocalCaller is the single user of `atomcp stdio` and of ATOMCP_AUTH=none.
var LocalCaller = Caller{
	Issuer:        "local",
	Subject:       "local",
	Email:         "local@localhost",
	EmailVerified: true,
	Name:          "Local user",
}

// Actor is a resolved caller: the stored user and their memberships, loaded
// once per request.
type Actor struct {
	User  *domain.User
	roles map[string]domain.Role // organization id -> role
	// projectRoles are the actor's project memberships (project id ->
	// role), which requireWriteIn weighs against the organization role.
	projectRoles map[string]domain.Role
	// emailVerified: the caller's token vouched for User.Email, so that
	// invitations sent to that email are theirs to answer.
	emailVerified bool
}

// OrganizationIDs lists the organizations the actor belongs to.
func (a *Actor) OrganizationIDs() []string {
	ids := make([]string, 0, len(a.roles))
	for id := range a.roles {
		ids = append(ids, id)
	}
	return ids
}

// Role returns the actor's role in an organization, and whether they are a member.
func (a *Actor) Role(organizationID string) (domain.Role, bool) {
	r, ok := a.roles[organizationID]
	return r, ok
}

// canSee reports whether the actor may read entities of the organization.
func (a *Actor) canSee(organizationID string) bool {
	_, ok := a.roles[organizationID]
	return ok
}

// requireWrite returns an error unless the actor may change data in the
// organization. Non-members get "not found" so that ids do not leak.
func (a *Actor) requireWrite(organizationID string, what string) error {
	r, ok := a.roles[organizationID]
	if !ok {
		return fmt.Errorf("%s: %w", what, domain.ErrNotFound)
	}
	if !r.CanWrite() {
		return fmt.Errorf("%w: your role in this organization is %q, which may only read; ask an owner or admin for the member role", domain.ErrForbidden, r)
	}
	return nil
}

// requireWriteIn is requireWrite for data of one project (projectID ""
// for data of no project): a project role, where the actor has one,
// decides for the project's data, except that organization owners and
// admins may always write.
func (a *Actor) requireWriteIn(organizationID, projectID string, what string) error {
	r, ok := a.roles[organizationID]
	if !ok {
		return fmt.Errorf("%s: %w", what, domain.ErrNotFound)
	}
	pr, inProject := a.projectRoles[projectID]
	if projectID == "" || !inProject || r.CanManageMembers() {
		return a.requireWrite(organizationID, what)
	}
	if !pr.CanWrite() {
		return fmt.Errorf("%w: your role in project %s is %q, which may only read; writing there needs the member role (or admin or owner): ask a project or organization admin", domain.ErrForbidden, projectID, pr)
	}
	return nil
}

// requireManage returns an error unless the actor is an owner or admin.
func (a *Actor) requireManage(organizationID string, what string) error {
	r, ok := a.roles[organizationID]
	if !ok {
		return fmt.Errorf("%s: %w", what, domain.ErrNotFound)
	}
	if !r.CanManageMembers() {
		return fmt.Errorf("%w: %s needs the owner or admin role; yours is %q", domain.ErrForbidden, what, r)
	}
	return nil
}
