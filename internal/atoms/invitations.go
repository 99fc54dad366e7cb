package atoms

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

// Invitations: membership of an organization is always something the
// invited person accepts. An invitation is addressed to an email (what
// the inviter typed) or, when the inviter named a known user by id, to
// that user; it carries a link secret, shown once to the inviter, that
// opens the invitation page (/invite?token=SECRET) for someone who has no
// account yet. Accepting needs the invited account, link or not.

// InvitePath is the invitation page below the base URL; a link is
// InvitePath?token=SECRET (a query, which request logs leave out, not a
// path, which they show).
const InvitePath = "/invite"

// InvitationResult is an invitation as tools and pages show it. Email is
// left out when the invitation names a user by id: the inviter named an
// id and learns nothing more about its owner.
type InvitationResult struct {
	ID               string      `json:"id"`
	OrganizationID   string      `json:"organization_id"`
	OrganizationName string      `json:"organization_name,omitempty"`
	Email            string      `json:"email,omitempty"`
	UserID           string      `json:"user_id,omitempty"`
	Role             domain.Role `json:"role"`
	Status           string      `json:"status"`
	InvitedBy        string      `json:"invited_by"`
	CreatedAt        time.Time   `json:"created_at"`
	// Token is the link secret, only in the answer that created the
	// invitation; LinkPath is InvitePath?token=Token.
	Token    string `json:"token,omitempty"`
	LinkPath string `json:"link_path,omitempty"`
}

// invitee is whom an invitation addresses: an email, and the user when
// the inviter named one by id (user); member is the known user of the
// email, used only to tell an existing member from a newcomer.
type invitee struct {
	email  string
	user   *domain.User
	member *domain.User
}

func (s *Service) invitationResult(ctx context.Context, tx store.Ops, inv *domain.Invitation) InvitationResult {
	r := InvitationResult{ID: inv.ID, OrganizationID: inv.OrganizationID, Email: inv.Email, UserID: inv.UserID,
		Role: inv.Role, Status: inv.Status, InvitedBy: inv.InvitedBy, CreatedAt: inv.CreatedAt}
	if inv.UserID != "" {
		r.Email = ""
	}
	if o, err := tx.GetEntity(ctx, domain.Organization, inv.OrganizationID); err == nil {
		r.OrganizationName, _ = o.Fields["name"].(string)
	}
	return r
}

// newInviteToken returns a link secret and the hash the store keeps.
func newInviteToken() (token, hash string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, hashInviteToken(token)
}

func hashInviteToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

func checkEmail(email string) error {
	if at := strings.Index(email, "@"); at <= 0 || at == len(email)-1 || strings.ContainsAny(email, " <>") {
		return fmt.Errorf("%w: %q is not an email address", domain.ErrInvalid, email)
	}
	return nil
}

// inviteIn creates an invitation into o. A pending invitation to the same
// address is replaced, so that inviting again gives a fresh link.
func (s *Service) inviteIn(ctx context.Context, tx store.Ops, a *Actor, o *domain.Entity, to invitee, role domain.Role) (*InvitationResult, error) {
	if err := a.requireManage(o.ID, "inviting members"); err != nil {
		return nil, err
	}
	if err := checkRole(role); err != nil {
		return nil, err
	}
	if err := mayGrant(a, o.ID, role); err != nil {
		return nil, err
	}
	to.email = strings.TrimSpace(to.email)
	userID := ""
	if to.user != nil {
		userID = to.user.ID
	} else if err := checkEmail(to.email); err != nil {
		return nil, err
	}
	byEmail := to.email
	if userID != "" {
		byEmail = ""
	}
	pending, err := tx.ListUserInvitations(ctx, userID, byEmail)
	if err != nil {
		return nil, err
	}
	for _, p := range pending {
		if p.OrganizationID == o.ID && p.UserID == userID {
			if err := tx.SetInvitationStatus(ctx, p.ID, "revoked"); err != nil {
				return nil, err
			}
		}
	}
	token, hash := newInviteToken()
	inv := &domain.Invitation{ID: s.newID(), OrganizationID: o.ID, Email: to.email, UserID: userID, Role: role,
		Status: "pending", InvitedBy: a.User.ID, CreatedAt: s.now(), TokenHash: hash}
	if err := tx.CreateInvitation(ctx, inv); err != nil {
		return nil, fmt.Errorf("create invitation: %w", err)
	}
	who := to.email
	if userID != "" {
		who = userID
	}
	if err := s.auditMember(ctx, tx, a, "invite", o.ID, who, string(role)); err != nil {
		return nil, err
	}
	r := s.invitationResult(ctx, tx, inv)
	r.Token, r.LinkPath = token, InvitePath+"?token="+token
	return &r, nil
}

// Invite invites an email address (or a known user by id) into an
// organization; see AddMember for what the answer shows.
func (s *Service) Invite(ctx context.Context, a *Actor, org EntityRef, userRef string, role domain.Role) (*InvitationResult, error) {
	if role == "" {
		role = domain.RoleMember
	}
	var res *InvitationResult
	err := s.inTx(ctx, func(tx store.Ops) error {
		o, err := s.managedOrg(ctx, tx, a, org, "inviting members")
		if err != nil {
			return err
		}
		to := invitee{email: strings.TrimSpace(userRef)}
		if !strings.Contains(userRef, "@") && strings.TrimSpace(userRef) != "" {
			u, err := tx.GetUser(ctx, strings.TrimSpace(userRef))
			if err != nil {
				return fmt.Errorf("target: user %q: %w", userRef, domain.ErrNotFound)
			}
			to = invitee{email: u.Email, user: u}
		}
		res, err = s.inviteIn(ctx, tx, a, o, to, role)
		return err
	})
	return res, err
}

// InviteMember invites an email address into an organization by id (owner
// or admin); tests and the CLI use it.
func (s *Service) InviteMember(ctx context.Context, a *Actor, organizationID, email string, role domain.Role) (*InvitationResult, error) {
	return s.Invite(ctx, a, EntityRef{Type: domain.Organization, ID: organizationID}, email, role)
}

// RevokeInvitation revokes a pending invitation (by id, or by email).
func (s *Service) RevokeInvitation(ctx context.Context, a *Actor, org EntityRef, ref string) (*InvitationResult, error) {
	var revoked *InvitationResult
	err := s.inTx(ctx, func(tx store.Ops) error {
		o, err := s.managedOrg(ctx, tx, a, org, "revoking invitations")
		if err != nil {
			return err
		}
		invs, err := tx.ListInvitations(ctx, o.ID)
		if err != nil {
			return err
		}
		for _, inv := range invs {
			if inv.Status == "pending" && (inv.ID == ref || (inv.UserID == "" && strings.EqualFold(inv.Email, ref)) || (inv.UserID != "" && inv.UserID == ref)) {
				if err := tx.SetInvitationStatus(ctx, inv.ID, "revoked"); err != nil {
					return err
				}
				inv.Status = "revoked"
				r := s.invitationResult(ctx, tx, inv)
				revoked = &r
				return s.auditMember(ctx, tx, a, "revoke_invitation", o.ID, inv.ID, string(inv.Role))
			}
		}
		return fmt.Errorf("no pending invitation %q in this organization: %w", ref, domain.ErrNotFound)
	})
	return revoked, err
}

// ListInvitations lists an organization's invitations (owners and admins).
func (s *Service) ListInvitations(ctx context.Context, a *Actor, org EntityRef) ([]InvitationResult, error) {
	o, err := s.managedOrg(ctx, s.store, a, org, "listing invitations")
	if err != nil {
		return nil, err
	}
	invs, err := s.store.ListInvitations(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	out := make([]InvitationResult, 0, len(invs))
	for _, inv := range invs {
		out = append(out, s.invitationResult(ctx, s.store, inv))
	}
	return out, nil
}

// MyInvitations lists the pending invitations addressed to the actor.
func (s *Service) MyInvitations(ctx context.Context, a *Actor) ([]InvitationResult, error) {
	email := ""
	if a.emailVerified {
		email = a.User.Email
	}
	invs, err := s.store.ListUserInvitations(ctx, a.User.ID, email)
	if err != nil {
		return nil, err
	}
	out := make([]InvitationResult, 0, len(invs))
	for _, inv := range invs {
		out = append(out, s.invitationResult(ctx, s.store, inv))
	}
	return out, nil
}

// ErrInvitationNotYours is returned when a signed-in person opens or
// answers an invitation addressed to another account.
var ErrInvitationNotYours = errors.New("this invitation is addressed to another account; sign in with the invited email address")

// InvitationByToken returns the invitation of a link secret (the page
// shows it before the person signs in: organization, role, status), or
// domain.ErrNotFound.
func (s *Service) InvitationByToken(ctx context.Context, token string) (*InvitationResult, error) {
	inv, err := s.store.GetInvitationByTokenHash(ctx, hashInviteToken(strings.TrimSpace(token)))
	if err != nil || token == "" {
		return nil, fmt.Errorf("invitation link: %w", domain.ErrNotFound)
	}
	r := s.invitationResult(ctx, s.store, inv)
	return &r, nil
}

// InvitationEmail returns the address a link's invitation was sent to and
// who sent it, for the page that may let a newcomer create an account
// with it (email "" when the invitation names a user by id, who has an
// account, or is no longer pending).
func (s *Service) InvitationEmail(ctx context.Context, token string) (email string, inviter *domain.User, err error) {
	inv, err := s.store.GetInvitationByTokenHash(ctx, hashInviteToken(strings.TrimSpace(token)))
	if err != nil || token == "" {
		return "", nil, fmt.Errorf("invitation link: %w", domain.ErrNotFound)
	}
	if inv.UserID != "" || inv.Status != "pending" {
		return "", nil, nil
	}
	inviter, err = s.store.GetUser(ctx, inv.InvitedBy)
	if err != nil {
		return "", nil, fmt.Errorf("inviter of invitation %s: %w", inv.ID, err)
	}
	return inv.Email, inviter, nil
}

// InvitationRef names an invitation by id or by its link secret.
type InvitationRef struct {
	ID, Token string
}

// AnswerInvitation accepts (accept=true) or declines an invitation
// addressed to the actor. Accepting makes them a member with the
// invitation's role.
func (s *Service) AnswerInvitation(ctx context.Context, a *Actor, ref InvitationRef, accept bool) (*InvitationResult, error) {
	var res *InvitationResult
	err := s.inTx(ctx, func(tx store.Ops) error {
		var inv *domain.Invitation
		var err error
		switch {
		case ref.Token != "":
			inv, err = tx.GetInvitationByTokenHash(ctx, hashInviteToken(strings.TrimSpace(ref.Token)))
		case ref.ID != "":
			inv, err = tx.GetInvitation(ctx, strings.TrimSpace(ref.ID))
		default:
			return fmt.Errorf("%w: target.id: the invitation id is required", domain.ErrInvalid)
		}
		if err != nil {
			return fmt.Errorf("invitation: %w", domain.ErrNotFound)
		}
		if !addressedTo(inv, a) {
			if ref.Token != "" {
				return fmt.Errorf("%w: %w", domain.ErrForbidden, ErrInvitationNotYours)
			}
			return fmt.Errorf("invitation %q: %w", ref.ID, domain.ErrNotFound) // ids of others' invitations do not leak
		}
		if inv.Status != "pending" {
			return fmt.Errorf("%w: this invitation is %s, not pending; ask for a new one", domain.ErrInvalid, inv.Status)
		}
		o, err := tx.GetEntity(ctx, domain.Organization, inv.OrganizationID)
		if err != nil || o.IsDeleted {
			return fmt.Errorf("%w: the organization of this invitation no longer exists", domain.ErrInvalid)
		}
		status, action := "declined", "decline_invitation"
		if accept {
			status, action = "accepted", "accept_invitation"
			m := &domain.Membership{OrganizationID: inv.OrganizationID, UserID: a.User.ID, Role: inv.Role, Status: "active", CreatedAt: s.now()}
			if existing, err := tx.GetMember(ctx, inv.OrganizationID, a.User.ID); err == nil && existing.Role == domain.RoleOwner {
				m.Role = domain.RoleOwner // an invitation never demotes an owner
			}
			if err := tx.PutMember(ctx, m); err != nil {
				return err
			}
		}
		if err := tx.SetInvitationStatus(ctx, inv.ID, status); err != nil {
			return err
		}
		inv.Status = status
		r := s.invitationResult(ctx, tx, inv)
		res = &r
		return s.auditMember(ctx, tx, a, action, inv.OrganizationID, a.User.ID, string(inv.Role))
	})
	return res, err
}

// addressedTo reports whether the invitation is for the actor: by id, or
// by an email their token vouched for.
func addressedTo(inv *domain.Invitation, a *Actor) bool {
	if inv.UserID != "" {
		return inv.UserID == a.User.ID
	}
	return a.emailVerified && a.User.Email != "" && strings.EqualFold(inv.Email, a.User.Email)
}
