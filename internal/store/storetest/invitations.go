package storetest

import (
	"strings"
	"testing"

	"github.com/atomcp/atomcp/internal/domain"
)

var invitationTests = []test{
	{"PendingByEmail", testInvitationsPendingByEmail},
	{"LinksAndUsers", testInvitationsLinksAndUsers},
}

func testInvitationsLinksAndUsers(t *testing.T, f *fixture) {
	a, b := f.org("a"), f.org("b")
	inviter, known := f.user("inviter"), f.user("known")
	byID := &domain.Invitation{ID: "inv-id", OrganizationID: a.ID, Email: "known@example.com", UserID: known.ID, Role: domain.RoleViewer,
		Status: "pending", InvitedBy: inviter.ID, CreatedAt: f.now(), TokenHash: "hash-1"}
	byEmail := &domain.Invitation{ID: "inv-email", OrganizationID: b.ID, Email: "Other@Example.com", Role: domain.RoleMember,
		Status: "pending", InvitedBy: inviter.ID, CreatedAt: f.now(), TokenHash: "hash-2"}
	for _, inv := range []*domain.Invitation{byID, byEmail} {
		if err := f.s.CreateInvitation(f.ctx, inv); err != nil {
			t.Fatal(err)
		}
	}
	same := func(what string, g, w *domain.Invitation) {
		t.Helper()
		if g.ID != w.ID || g.UserID != w.UserID || g.TokenHash != w.TokenHash || g.Email != w.Email || g.Role != w.Role || !g.CreatedAt.Equal(w.CreatedAt) {
			t.Errorf("%s = %+v; want %+v", what, g, w)
		}
	}
	got, err := f.s.GetInvitation(f.ctx, "inv-id")
	if err != nil {
		t.Fatal(err)
	}
	same("GetInvitation", got, byID)
	got, err = f.s.GetInvitationByTokenHash(f.ctx, "hash-2")
	if err != nil {
		t.Fatal(err)
	}
	same("GetInvitationByTokenHash", got, byEmail)
	_, err = f.s.GetInvitationByTokenHash(f.ctx, "")
	wantErr(t, err, domain.ErrNotFound)
	_, err = f.s.GetInvitationByTokenHash(f.ctx, "hash-3")
	wantErr(t, err, domain.ErrNotFound)
	_, err = f.s.GetInvitation(f.ctx, "nope")
	wantErr(t, err, domain.ErrNotFound)

	list := func(userID, email string, want ...string) {
		t.Helper()
		invs, err := f.s.ListUserInvitations(f.ctx, userID, email)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, inv := range invs {
			ids = append(ids, inv.ID)
		}
		if strings.Join(ids, ",") != strings.Join(want, ",") {
			t.Errorf("ListUserInvitations(%q, %q) = %v; want %v", userID, email, ids, want)
		}
	}
	list(known.ID, "", "inv-id")
	list(known.ID, "other@example.COM", "inv-id", "inv-email")
	list("", "other@example.com", "inv-email")
	list("", "")
	if err := f.s.SetInvitationStatus(f.ctx, "inv-id", "declined"); err != nil {
		t.Fatal(err)
	}
	list(known.ID, "")
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
