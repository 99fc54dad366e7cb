package storetest

import (
	"testing"

	"github.com/atomcp/atomcp/internal/domain"
)

var memberTests = []test{
	{"PutGetReplaceRemove", testMembersPutGetReplaceRemove},
	{"List", testMembersList},
	{"Invalid", testMembersInvalid},
	{"Projects", testProjectMembers},
}

func (f *fixture) member(org *domain.Entity, u *domain.User, role domain.Role) *domain.Membership {
	f.t.Helper()
	m := &domain.Membership{OrganizationID: org.ID, UserID: u.ID, Role: role, Status: "active", CreatedAt: f.now()}
	if err := f.s.PutMember(f.ctx, m); err != nil {
		f.t.Fatalf("PutMember: %v", err)
	}
	return m
}

func sameMember(t *testing.T, got, want *domain.Membership) {
	t.Helper()
	if got.OrganizationID != want.OrganizationID || got.UserID != want.UserID || got.Role != want.Role ||
		got.Status != want.Status || !got.CreatedAt.Equal(want.CreatedAt) {
		t.Errorf("membership = %+v; want %+v", got, want)
	}
}

func testMembersPutGetReplaceRemove(t *testing.T, f *fixture) {
	org, u := f.org("o"), f.user("u")
	m := f.member(org, u, domain.RoleMember)
	got, err := f.s.GetMember(f.ctx, org.ID, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	sameMember(t, got, m)

	// Putting again replaces role and status; the membership keeps its
	// creation time.
	replaced := *m
	replaced.Role, replaced.Status, replaced.CreatedAt = domain.RoleAdmin, "suspended", f.now()
	if err := f.s.PutMember(f.ctx, &replaced); err != nil {
		t.Fatal(err)
	}
	got, err = f.s.GetMember(f.ctx, org.ID, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	replaced.CreatedAt = m.CreatedAt
	sameMember(t, got, &replaced)

	if err := f.s.RemoveMember(f.ctx, org.ID, u.ID); err != nil {
		t.Fatal(err)
	}
	_, err = f.s.GetMember(f.ctx, org.ID, u.ID)
	wantErr(t, err, domain.ErrNotFound)
	wantErr(t, f.s.RemoveMember(f.ctx, org.ID, u.ID), domain.ErrNotFound)
}

func testMembersList(t *testing.T, f *fixture) {
	a, b := f.org("a"), f.org("b")
	alice, bob := f.user("alice"), f.user("bob")
	aliceA := f.member(a, alice, domain.RoleOwner)
	bobA := f.member(a, bob, domain.RoleViewer)
	aliceB := f.member(b, alice, domain.RoleMember)

	tests := []struct {
		name string
		list func() ([]*domain.Membership, error)
		want []*domain.Membership
	}{
		{"memberships of alice", func() ([]*domain.Membership, error) { return f.s.ListMemberships(f.ctx, alice.ID) }, []*domain.Membership{aliceA, aliceB}},
		{"memberships of bob", func() ([]*domain.Membership, error) { return f.s.ListMemberships(f.ctx, bob.ID) }, []*domain.Membership{bobA}},
		{"members of a", func() ([]*domain.Membership, error) { return f.s.ListMembers(f.ctx, a.ID) }, []*domain.Membership{aliceA, bobA}},
		{"members of b", func() ([]*domain.Membership, error) { return f.s.ListMembers(f.ctx, b.ID) }, []*domain.Membership{aliceB}},
		{"memberships of nobody", func() ([]*domain.Membership, error) { return f.s.ListMemberships(f.ctx, "nobody") }, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.list()
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d memberships; want %d", len(got), len(tc.want))
			}
			// Oldest first.
			for i := range got {
				sameMember(t, got[i], tc.want[i])
			}
		})
	}
}

func testMembersInvalid(t *testing.T, f *fixture) {
	org, u := f.org("o"), f.user("u")
	tests := []struct {
		name string
		m    domain.Membership
	}{
		{"unknown role", domain.Membership{OrganizationID: org.ID, UserID: u.ID, Role: "emperor", Status: "active"}},
		{"unknown organization", domain.Membership{OrganizationID: "nope", UserID: u.ID, Role: domain.RoleMember, Status: "active"}},
		{"unknown user", domain.Membership{OrganizationID: org.ID, UserID: "nobody", Role: domain.RoleMember, Status: "active"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.m
			m.CreatedAt = f.clock.UTC()
			wantErr(t, f.s.PutMember(f.ctx, &m), domain.ErrInvalid)
		})
	}
}

// testProjectMembers: project memberships are put, replaced, listed both
// ways, removed, and go with their project.
func testProjectMembers(t *testing.T, f *fixture) {
	org, u, v := f.org("o"), f.user("u"), f.user("v")
	p, q := f.project(org, "p"), f.project(org, "q")
	put := func(p *domain.Entity, u *domain.User, role domain.Role) {
		t.Helper()
		m := &domain.ProjectMembership{ProjectID: p.ID, OrganizationID: org.ID, UserID: u.ID, Role: role, Status: "active", CreatedAt: f.now()}
		if err := f.s.PutProjectMember(f.ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	put(p, u, domain.RoleViewer)
	put(p, u, domain.RoleAdmin) // replaces
	put(p, v, domain.RoleMember)
	put(q, u, domain.RoleMember)
	ms, err := f.s.ListProjectMembers(f.ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0].UserID != u.ID || ms[0].Role != domain.RoleAdmin || ms[1].UserID != v.ID || ms[0].OrganizationID != org.ID {
		t.Fatalf("members of p = %+v", ms)
	}
	mine, err := f.s.ListProjectMemberships(f.ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(mine) != 2 {
		t.Fatalf("memberships of u = %+v", mine)
	}
	if err := f.s.RemoveProjectMember(f.ctx, p.ID, v.ID); err != nil {
		t.Fatal(err)
	}
	wantErr(t, f.s.RemoveProjectMember(f.ctx, p.ID, v.ID), domain.ErrNotFound)
	wantErr(t, f.s.PutProjectMember(f.ctx, &domain.ProjectMembership{ProjectID: p.ID, OrganizationID: org.ID, UserID: u.ID, Role: "boss", Status: "active", CreatedAt: f.now()}), domain.ErrInvalid)
	if err := f.s.DeleteEntity(f.ctx, domain.Project, q.ID); err != nil {
		t.Fatal(err)
	}
	if mine, _ := f.s.ListProjectMemberships(f.ctx, u.ID); len(mine) != 1 {
		t.Errorf("after deleting q: %+v", mine)
	}
}
