package storetest

import (
	"testing"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

var callerTests = []test{
	{"UserAndMemberships", testCallerUserAndMemberships},
	{"NoMemberships", testCallerNoMemberships},
	{"NotFound", testCallerNotFound},
	{"InTx", testCallerInTx},
}

// sameCaller checks that GetCaller agrees with GetUserBySubject,
// ListMemberships and ListProjectMemberships, which it replaces on the
// path of every tool call.
func sameCaller(t *testing.T, f *fixture, st store.Ops, got *store.Caller, want *domain.User) {
	t.Helper()
	sameUser(t, got.User, want)
	ms, err := st.ListMemberships(f.ctx, want.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Memberships) != len(ms) {
		t.Fatalf("caller memberships = %d; ListMemberships has %d", len(got.Memberships), len(ms))
	}
	for i := range ms {
		sameMember(t, got.Memberships[i], ms[i])
	}
	pms, err := st.ListProjectMemberships(f.ctx, want.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.ProjectMemberships) != len(pms) {
		t.Fatalf("caller project memberships = %d; ListProjectMemberships has %d", len(got.ProjectMemberships), len(pms))
	}
	for i, w := range pms {
		g := got.ProjectMemberships[i]
		if g.ProjectID != w.ProjectID || g.OrganizationID != w.OrganizationID || g.UserID != w.UserID ||
			g.Role != w.Role || g.Status != w.Status || !g.CreatedAt.Equal(w.CreatedAt) {
			t.Errorf("caller project membership %d = %+v; want %+v", i, g, w)
		}
	}
}

// testCallerUserAndMemberships: one query returns the user, every one of
// their memberships (whatever the status) in creation order, and nobody
// else's.
func testCallerUserAndMemberships(t *testing.T, f *fixture) {
	u, v := f.user("u"), f.user("v")
	a, b, c := f.org("a"), f.org("b"), f.org("c")
	p, q, r := f.project(a, "p"), f.project(b, "q"), f.project(a, "r")
	// Created out of id order, so that the order is created_at's.
	mc := f.member(c, u, domain.RoleViewer)
	ma := f.member(a, u, domain.RoleOwner)
	mb := &domain.Membership{OrganizationID: b.ID, UserID: u.ID, Role: domain.RoleMember, Status: "suspended", CreatedAt: f.now()}
	if err := f.s.PutMember(f.ctx, mb); err != nil {
		t.Fatal(err)
	}
	f.member(a, v, domain.RoleAdmin)
	putPM := func(p *domain.Entity, u *domain.User, role domain.Role, status string) *domain.ProjectMembership {
		t.Helper()
		m := &domain.ProjectMembership{ProjectID: p.ID, OrganizationID: p.OrganizationID, UserID: u.ID, Role: role, Status: status, CreatedAt: f.now()}
		if err := f.s.PutProjectMember(f.ctx, m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	pr := putPM(r, u, domain.RoleAdmin, "active")
	pq := putPM(q, u, domain.RoleViewer, "invited")
	putPM(p, v, domain.RoleMember, "active")

	got, err := f.s.GetCaller(f.ctx, u.Issuer, u.Subject)
	if err != nil {
		t.Fatal(err)
	}
	sameCaller(t, f, f.s, got, u)
	wantOrgs := []*domain.Membership{mc, ma, mb}
	if len(got.Memberships) != len(wantOrgs) {
		t.Fatalf("memberships = %+v; want %+v", got.Memberships, wantOrgs)
	}
	for i, w := range wantOrgs {
		sameMember(t, got.Memberships[i], w)
	}
	if len(got.ProjectMemberships) != 2 || got.ProjectMemberships[0].ProjectID != pr.ProjectID ||
		got.ProjectMemberships[1].ProjectID != pq.ProjectID || got.ProjectMemberships[1].Status != "invited" ||
		got.ProjectMemberships[1].OrganizationID != b.ID || got.ProjectMemberships[0].Role != domain.RoleAdmin {
		t.Errorf("project memberships = %+v; want r (admin, active) then q (viewer, invited)", got.ProjectMemberships)
	}

	// v's view is v's own.
	got, err = f.s.GetCaller(f.ctx, v.Issuer, v.Subject)
	if err != nil {
		t.Fatal(err)
	}
	sameCaller(t, f, f.s, got, v)
	if len(got.Memberships) != 1 || got.Memberships[0].OrganizationID != a.ID || len(got.ProjectMemberships) != 1 || got.ProjectMemberships[0].ProjectID != p.ID {
		t.Errorf("v's caller = %+v, %+v", got.Memberships, got.ProjectMemberships)
	}

	// A changed profile and role are read back.
	changed := *u
	changed.Email, changed.Name, changed.UpdatedAt = "u@new.example", "U. Renamed", f.now()
	if err := f.s.UpdateUser(f.ctx, &changed); err != nil {
		t.Fatal(err)
	}
	ma.Role = domain.RoleAdmin
	if err := f.s.PutMember(f.ctx, ma); err != nil {
		t.Fatal(err)
	}
	got, err = f.s.GetCaller(f.ctx, u.Issuer, u.Subject)
	if err != nil {
		t.Fatal(err)
	}
	sameCaller(t, f, f.s, got, &changed)
	if got.Memberships[1].Role != domain.RoleAdmin {
		t.Errorf("role in a after the change = %s; want admin", got.Memberships[1].Role)
	}
}

func testCallerNoMemberships(t *testing.T, f *fixture) {
	u := f.user("lonely")
	got, err := f.s.GetCaller(f.ctx, u.Issuer, u.Subject)
	if err != nil {
		t.Fatal(err)
	}
	sameUser(t, got.User, u)
	if len(got.Memberships) != 0 || len(got.ProjectMemberships) != 0 {
		t.Errorf("memberships = %+v, %+v; want none", got.Memberships, got.ProjectMemberships)
	}
}

// testCallerNotFound: an unknown subject, or a known subject of another
// issuer, is domain.ErrNotFound, also when other users have memberships.
func testCallerNotFound(t *testing.T, f *fixture) {
	u := f.user("u")
	f.member(f.org("a"), u, domain.RoleOwner)
	_, err := f.s.GetCaller(f.ctx, u.Issuer, "nobody")
	wantErr(t, err, domain.ErrNotFound, "nobody")
	_, err = f.s.GetCaller(f.ctx, "https://other.example", u.Subject)
	wantErr(t, err, domain.ErrNotFound, "https://other.example")
	_, err = f.s.GetCaller(f.ctx, "", "")
	wantErr(t, err, domain.ErrNotFound)
}

// testCallerInTx: inside a transaction GetCaller sees the transaction's
// own writes (Actor's first request creates user and membership together).
func testCallerInTx(t *testing.T, f *fixture) {
	org := f.org("a")
	ts := f.now()
	u := &domain.User{ID: "tx-user", Issuer: "https://issuer.example", Subject: "tx", Email: "tx@example.com", CreatedAt: ts, UpdatedAt: ts}
	err := f.s.InTx(f.ctx, func(tx store.Ops) error {
		if err := tx.CreateUser(f.ctx, u); err != nil {
			return err
		}
		if err := tx.PutMember(f.ctx, &domain.Membership{OrganizationID: org.ID, UserID: u.ID, Role: domain.RoleOwner, Status: "active", CreatedAt: f.now()}); err != nil {
			return err
		}
		got, err := tx.GetCaller(f.ctx, u.Issuer, u.Subject)
		if err != nil {
			return err
		}
		sameCaller(t, f, tx, got, u)
		if len(got.Memberships) != 1 {
			t.Errorf("memberships in the transaction = %+v; want the one just put", got.Memberships)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
