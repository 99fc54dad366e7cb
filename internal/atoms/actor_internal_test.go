package atoms

import (
	"maps"
	"path/filepath"
	"testing"
	"time"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store/sqlite"
)

// TestActorKnownUserPath: the one-query path of a known user gives the
// roles of exactly the active memberships, the same actor loadActor
// builds, and a changed profile still goes through resolveUser.
func TestActorKnownUserPath(t *testing.T) {
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "actor.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	svc := New(st)
	first, err := svc.Actor(ctx, LocalCaller)
	if err != nil {
		t.Fatal(err)
	}
	uid := first.User.ID
	now := time.Now().UTC()
	entity := func(typ domain.EntityType, orgID, slug string) *domain.Entity {
		t.Helper()
		e := &domain.Entity{Type: typ, ID: slug + "-id", OrganizationID: orgID, CreatedAt: now, UpdatedAt: now, CreatedBy: uid, UpdatedBy: uid,
			Fields: map[string]any{"name": slug, "slug": slug}}
		if typ == domain.Organization {
			e.OrganizationID, e.Fields["type"] = e.ID, "team"
		} else {
			e.Fields["organization_id"], e.Fields["status"] = orgID, "active"
		}
		if err := st.CreateEntity(ctx, e); err != nil {
			t.Fatal(err)
		}
		return e
	}
	x, y := entity(domain.Organization, "", "x"), entity(domain.Organization, "", "y")
	p, q := entity(domain.Project, x.ID, "p"), entity(domain.Project, x.ID, "q")
	for _, m := range []domain.Membership{
		{OrganizationID: x.ID, Role: domain.RoleViewer, Status: "active"},
		{OrganizationID: y.ID, Role: domain.RoleMember, Status: "suspended"},
	} {
		m.UserID, m.CreatedAt = uid, now
		if err := st.PutMember(ctx, &m); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range []domain.ProjectMembership{
		{ProjectID: p.ID, Role: domain.RoleMember, Status: "active"},
		{ProjectID: q.ID, Role: domain.RoleAdmin, Status: "invited"},
	} {
		m.OrganizationID, m.UserID, m.CreatedAt = x.ID, uid, now
		if err := st.PutProjectMember(ctx, &m); err != nil {
			t.Fatal(err)
		}
	}

	a, err := svc.Actor(ctx, LocalCaller)
	if err != nil {
		t.Fatal(err)
	}
	if a.User.ID != uid || !a.emailVerified {
		t.Errorf("actor = %s, email verified %v; want %s, verified", a.User.ID, a.emailVerified, uid)
	}
	wantRoles := map[string]domain.Role{first.OrganizationIDs()[0]: domain.RoleOwner, x.ID: domain.RoleViewer}
	if !maps.Equal(a.roles, wantRoles) {
		t.Errorf("roles = %v; want %v (y's membership is suspended)", a.roles, wantRoles)
	}
	if want := map[string]domain.Role{p.ID: domain.RoleMember}; !maps.Equal(a.projectRoles, want) {
		t.Errorf("project roles = %v; want %v (q's membership is an invitation)", a.projectRoles, want)
	}
	slow, err := svc.loadActor(ctx, st, a.User)
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(slow.roles, a.roles) || !maps.Equal(slow.projectRoles, a.projectRoles) {
		t.Errorf("loadActor = %v, %v; the known-user path = %v, %v", slow.roles, slow.projectRoles, a.roles, a.projectRoles)
	}
	if err := a.requireWriteIn(x.ID, p.ID, "write in p"); err != nil {
		t.Errorf("member of p (viewer of x) may write in p: %v", err)
	}
	if err := a.requireWriteIn(x.ID, q.ID, "write in q"); err == nil {
		t.Error("viewer of x with only an invitation to q may write in q")
	}

	// A changed name goes through resolveUser, which stores it.
	renamed := LocalCaller
	renamed.Name = "Renamed"
	a, err = svc.Actor(ctx, renamed)
	if err != nil {
		t.Fatal(err)
	}
	if u, err := st.GetUser(ctx, uid); err != nil || u.Name != "Renamed" || a.User.Name != "Renamed" {
		t.Errorf("after a changed name: stored %+v (%v), actor %q", u, err, a.User.Name)
	}
	if !maps.Equal(a.roles, wantRoles) {
		t.Errorf("roles after resolveUser = %v; want %v", a.roles, wantRoles)
	}
}
