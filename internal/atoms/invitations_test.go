package atoms_test

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/atomcp/atomcp/internal/atoms"
	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store/sqlite"
)

type inviteEnv struct {
	ctx   context.Context
	svc   *atoms.Service
	admin *atoms.Actor
	org   atoms.EntityRef
}

func newInviteEnv(t *testing.T) *inviteEnv {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	svc := atoms.New(st)
	admin := actor(t, svc, "admin")
	org, err := svc.CreateEntity(ctx, admin, domain.Organization, map[string]any{"name": "Team"})
	if err != nil {
		t.Fatal(err)
	}
	return &inviteEnv{ctx: ctx, svc: svc, admin: actor(t, svc, "admin"), org: atoms.EntityRef{Type: domain.Organization, ID: org.ID}}
}

func actor(t *testing.T, svc *atoms.Service, name string) *atoms.Actor {
	t.Helper()
	a, err := svc.Actor(context.Background(), atoms.Caller{Issuer: "https://issuer.test", Subject: name, Email: name + "@example.com", EmailVerified: true, Name: strings.ToUpper(name)})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func (e *inviteEnv) isMember(t *testing.T, name string) bool {
	t.Helper()
	_, ok := actor(t, e.svc, name).Role(e.org.ID)
	return ok
}

// TestAddMemberSameAnswerForKnownAndUnknownEmails: the answer has the same
// shape and content (but the address and the fresh ids) for an email with
// an account and one without, and the known user is not a member yet.
func TestAddMemberSameAnswerForKnownAndUnknownEmails(t *testing.T) {
	e := newInviteEnv(t)
	actor(t, e.svc, "known") // has an account
	known, invKnown, err := e.svc.AddMember(e.ctx, e.admin, e.org, "known@example.com", domain.RoleViewer)
	if err != nil {
		t.Fatal(err)
	}
	unknown, invUnknown, err := e.svc.AddMember(e.ctx, e.admin, e.org, "stranger@example.com", domain.RoleViewer)
	if err != nil {
		t.Fatal(err)
	}
	if known != nil || unknown != nil || invKnown == nil || invUnknown == nil {
		t.Fatalf("AddMember answered member %v / %v, invitation %v / %v; want invitations only", known, unknown, invKnown, invUnknown)
	}
	norm := func(r atoms.InvitationResult) atoms.InvitationResult {
		r.ID, r.Token, r.LinkPath, r.Email = "", "", "", ""
		r.CreatedAt = r.CreatedAt.Truncate(24 * 3600e9)
		return r
	}
	if a, b := norm(*invKnown), norm(*invUnknown); !reflect.DeepEqual(a, b) {
		t.Fatalf("known and unknown emails answer differently:\n%+v\n%+v", a, b)
	}
	if invKnown.Token == "" || invKnown.LinkPath != atoms.InvitePath+"?token="+invKnown.Token {
		t.Fatalf("no link in %+v", invKnown)
	}
	if e.isMember(t, "known") {
		t.Fatal("the known user became a member without accepting")
	}
}

// TestAddMemberByIDHidesTheUser: inviting by id answers with no email or
// name, and the organization's invitation list shows none either.
func TestAddMemberByIDHidesTheUser(t *testing.T) {
	e := newInviteEnv(t)
	other := actor(t, e.svc, "other")
	_, inv, err := e.svc.AddMember(e.ctx, e.admin, e.org, other.User.ID, domain.RoleMember)
	if err != nil {
		t.Fatal(err)
	}
	if inv == nil || inv.Email != "" || inv.UserID != other.User.ID {
		t.Fatalf("invitation by id = %+v; want the user id and no email", inv)
	}
	list, err := e.svc.ListInvitations(e.ctx, e.admin, e.org)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range list {
		if l.Email != "" {
			t.Fatalf("invitation list shows %q", l.Email)
		}
	}
	if _, _, err := e.svc.AddMember(e.ctx, e.admin, e.org, "no-such-user-id", domain.RoleMember); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("unknown id: %v; want not found", err)
	}
	// The invited user sees it among their invitations and accepts it.
	mine, err := e.svc.MyInvitations(e.ctx, other)
	if err != nil || len(mine) != 1 || mine[0].OrganizationName != "Team" {
		t.Fatalf("MyInvitations = %+v, %v", mine, err)
	}
	if _, err := e.svc.AnswerInvitation(e.ctx, other, atoms.InvitationRef{ID: mine[0].ID}, true); err != nil {
		t.Fatal(err)
	}
	if !e.isMember(t, "other") {
		t.Fatal("not a member after accepting")
	}
}

// TestInvitationAcceptDecline: only the invited person can answer; accept
// by link makes them a member with the role, decline leaves them out, and
// an answered invitation cannot be answered again.
func TestInvitationAcceptDecline(t *testing.T) {
	e := newInviteEnv(t)
	bob, eve := actor(t, e.svc, "bob"), actor(t, e.svc, "eve")
	_, inv, err := e.svc.AddMember(e.ctx, e.admin, e.org, "BOB@example.com", domain.RoleViewer)
	if err != nil {
		t.Fatal(err)
	}
	shown, err := e.svc.InvitationByToken(e.ctx, inv.Token)
	if err != nil || shown.ID != inv.ID || shown.Role != domain.RoleViewer || shown.OrganizationName != "Team" || shown.Token != "" {
		t.Fatalf("InvitationByToken = %+v, %v", shown, err)
	}
	if _, err := e.svc.InvitationByToken(e.ctx, inv.Token+"x"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("a wrong token: %v", err)
	}
	if _, err := e.svc.AnswerInvitation(e.ctx, eve, atoms.InvitationRef{Token: inv.Token}, true); !errors.Is(err, atoms.ErrInvitationNotYours) {
		t.Fatalf("eve accepting bob's link: %v; want ErrInvitationNotYours", err)
	}
	if _, err := e.svc.AnswerInvitation(e.ctx, eve, atoms.InvitationRef{ID: inv.ID}, true); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("eve accepting bob's invitation by id: %v; want not found", err)
	}
	if e.isMember(t, "eve") {
		t.Fatal("eve joined")
	}
	res, err := e.svc.AnswerInvitation(e.ctx, bob, atoms.InvitationRef{Token: inv.Token}, true)
	if err != nil || res.Status != "accepted" {
		t.Fatalf("bob accepts: %+v, %v", res, err)
	}
	if r, ok := actor(t, e.svc, "bob").Role(e.org.ID); !ok || r != domain.RoleViewer {
		t.Fatalf("bob's role = %q, %v; want viewer", r, ok)
	}
	if _, err := e.svc.AnswerInvitation(e.ctx, bob, atoms.InvitationRef{Token: inv.Token}, false); !errors.Is(err, domain.ErrInvalid) {
		t.Fatalf("answering twice: %v", err)
	}

	// Carol declines; an unverified email cannot answer an email invitation.
	_, inv2, err := e.svc.AddMember(e.ctx, e.admin, e.org, "carol@example.com", domain.RoleMember)
	if err != nil {
		t.Fatal(err)
	}
	unverified, err := e.svc.Actor(e.ctx, atoms.Caller{Issuer: "https://other.test", Subject: "mallory", Email: "carol@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.AnswerInvitation(e.ctx, unverified, atoms.InvitationRef{Token: inv2.Token}, true); !errors.Is(err, atoms.ErrInvitationNotYours) {
		t.Fatalf("unverified email accepting: %v", err)
	}
	carol := actor(t, e.svc, "carol")
	if res, err := e.svc.AnswerInvitation(e.ctx, carol, atoms.InvitationRef{Token: inv2.Token}, false); err != nil || res.Status != "declined" {
		t.Fatalf("carol declines: %+v, %v", res, err)
	}
	if e.isMember(t, "carol") {
		t.Fatal("carol joined by declining")
	}
}

// TestInviteAgainReplacesTheLink: a second invitation to the same address
// revokes the first link.
func TestInviteAgainReplacesTheLink(t *testing.T) {
	e := newInviteEnv(t)
	_, first, err := e.svc.AddMember(e.ctx, e.admin, e.org, "dan@example.com", domain.RoleMember)
	if err != nil {
		t.Fatal(err)
	}
	_, second, err := e.svc.AddMember(e.ctx, e.admin, e.org, "dan@example.com", domain.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	dan := actor(t, e.svc, "dan")
	if _, err := e.svc.AnswerInvitation(e.ctx, dan, atoms.InvitationRef{Token: first.Token}, true); !errors.Is(err, domain.ErrInvalid) {
		t.Fatalf("the replaced link: %v; want refused", err)
	}
	if _, err := e.svc.AnswerInvitation(e.ctx, dan, atoms.InvitationRef{Token: second.Token}, true); err != nil {
		t.Fatal(err)
	}
	if r, _ := actor(t, e.svc, "dan").Role(e.org.ID); r != domain.RoleAdmin {
		t.Fatalf("dan's role = %q; want admin", r)
	}
}
