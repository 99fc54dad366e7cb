package storetest

import (
	"testing"

	"github.com/atomcp/atomcp/internal/domain"
)

var invitationTests = []test{
	{"PendingByEmail", testInvitationsPendingByEmail},
}

func testInvitationsPendingByEmail(t *testing.T, f *fixture) {
	a, b := f.org("a"), f.org("b")
	inviter := f.user("inviter")
	invite := func(org *domain.Entity, id, email string) *domain.Invitation {
		t.Helper()
		inv := &domain.Invitation{ID: id, OrganizationID: org.ID, Email: email, Role: domain.RoleMember,
			Status: "pending", InvitedBy: inviter.ID, CreatedAt: f.now()}
		if err := f.s.CreateInvitation(f.ctx, inv); err != nil {
			t.Fatalf("CreateInvitation(%s): %v", id, err)
		}
		return inv
	}
	first := invite(a, "inv-1", "Alice@Example.com")
	second := invite(b, "inv-2", "alice@example.com")
	invite(a, "inv-3", "bob@example.com")
	unicode := invite(a, "inv-4", "Jürgen@Example.com")

	check := func(email string, want ...*domain.Invitation) {
		t.Helper()
		got, err := f.s.ListPendingInvitations(f.ctx, email)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("pending for %q: %d invitations; want %d", email, len(got), len(want))
		}
		for i, w := range want {
			g := got[i]
			if g.ID != w.ID || g.OrganizationID != w.OrganizationID || g.Email != w.Email || g.Role != w.Role ||
				g.Status != w.Status || g.InvitedBy != w.InvitedBy || !g.CreatedAt.Equal(w.CreatedAt) {
				t.Errorf("pending for %q [%d] = %+v; want %+v", email, i, g, w)
			}
		}
	}
	check("ALICE@example.COM", first, second)
	check("jÜrgen@example.com", unicode)
	check("carol@example.com")

	if err := f.s.SetInvitationStatus(f.ctx, first.ID, "accepted"); err != nil {
		t.Fatal(err)
	}
	check("alice@example.com", second)
	wantErr(t, f.s.SetInvitationStatus(f.ctx, "no-such-invitation", "revoked"), domain.ErrNotFound)

	bad := &domain.Invitation{ID: "inv-5", OrganizationID: a.ID, Email: "x@example.com", Role: "emperor", Status: "pending", CreatedAt: f.now()}
	wantErr(t, f.s.CreateInvitation(f.ctx, bad), domain.ErrInvalid)
	dup := *second
	wantErr(t, f.s.CreateInvitation(f.ctx, &dup), domain.ErrConflict)
}
