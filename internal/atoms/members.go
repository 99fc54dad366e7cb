package atoms

import (
	"context"
	"fmt"
	"strings"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

// MemberResult is a membership as tools show it.
type MemberResult struct {
	OrganizationID string      `json:"organization_id"`
	UserID         string      `json:"user_id"`
	Email          string      `json:"email,omitempty"`
	Name           string      `json:"name,omitempty"`
	Role           domain.Role `json:"role"`
	Status         string      `json:"status"`
}

func (s *Service) memberResult(ctx context.Context, tx store.Ops, m *domain.Membership) MemberResult {
	r := MemberResult{OrganizationID: m.OrganizationID, UserID: m.UserID, Role: m.Role, Status: m.Status}
	if u, err := tx.GetUser(ctx, m.UserID); err == nil {
		r.Email, r.Name = u.Email, u.Name
	}
	return r
}

func checkRole(role domain.Role) error {
	if !role.Valid() {
		return fmt.Errorf("%w: role %q; accepted: %s", domain.ErrInvalid, role, strings.Join(domain.Roles, ", "))
	}
	return nil
}

// mayGrant: only an owner can make or unmake owners; admins manage the rest.
func mayGrant(a *Actor, orgID string, role domain.Role) error {
	if r, _ := a.Role(orgID); role == domain.RoleOwner && r != domain.RoleOwner {
		return fmt.Errorf("%w: only an owner can grant or remove the owner role", domain.ErrForbidden)
	}
	return nil
}

// managedOrg resolves a live organization the actor may manage (owner or
// admin); what names the action for the error.
func (s *Service) managedOrg(ctx context.Context, tx store.Ops, a *Actor, org EntityRef, what string) (*domain.Entity, error) {
	o, err := s.resolveLive(ctx, tx, a, EntityRef{Type: domain.Organization, ID: org.ID}, "source")
	if err != nil {
		return nil, err
	}
	if err := a.requireManage(o.ID, what); err != nil {
		return nil, err
	}
	// From here on, this transaction is the only one changing the
	// organization's members, on any replica.
	if err := s.lockMembers(ctx, tx, a, o.ID); err != nil {
		return nil, err
	}
	return o, nil
}

// AddMember brings a user (by id or email) into an organization with a
// role. Nobody joins without saying yes: anyone who is not a member yet is
// invited (inv), and becomes a member when they accept. The answer is the
// same whether or not an email belongs to a known user, so that it tells
// nothing about who has an account; an invitation of a user named by id
// shows neither their email nor their name. Only the role of someone who
// is a member already is changed at once (res).
func (s *Service) AddMember(ctx context.Context, a *Actor, org EntityRef, userRef string, role domain.Role) (res *MemberResult, inv *InvitationResult, err error) {
	if role == "" {
		role = domain.RoleMember
	}
	if err := checkRole(role); err != nil {
		return nil, nil, err
	}
	err = s.inTx(ctx, func(tx store.Ops) error {
		o, err := s.managedOrg(ctx, tx, a, org, "adding members")
		if err != nil {
			return err
		}
		if err := mayGrant(a, o.ID, role); err != nil {
			return err
		}
		userRef = strings.TrimSpace(userRef)
		var target invitee
		if strings.Contains(userRef, "@") {
			target.email = userRef
			if users, err := tx.FindUsersByEmail(ctx, userRef); err != nil {
				return err
			} else if len(users) > 0 {
				target.member = users[0]
			}
		} else {
			u, err := tx.GetUser(ctx, userRef)
			if err != nil {
				return fmt.Errorf("target: user %q: %w", userRef, domain.ErrNotFound)
			}
			target = invitee{email: u.Email, user: u, member: u}
		}
		if target.member != nil {
			if existing, err := tx.GetMember(ctx, o.ID, target.member.ID); err == nil && (existing.Status == "" || existing.Status == "active") {
				if existing.Role == domain.RoleOwner && role != domain.RoleOwner {
					if err := s.keepAnOwner(ctx, tx, a, o.ID, target.member.ID); err != nil {
						return err
					}
				}
				existing.Role = role
				if err := tx.PutMember(ctx, existing); err != nil {
					return err
				}
				r := s.memberResult(ctx, tx, existing)
				res = &r
				return s.auditMember(ctx, tx, a, "set_role", o.ID, existing.UserID, string(role))
			}
		}
		inv, err = s.inviteIn(ctx, tx, a, o, target, role)
		return err
	})
	return res, inv, err
}

// keepAnOwner refuses a change that would leave the organization without an owner.
func (s *Service) keepAnOwner(ctx context.Context, tx store.Ops, a *Actor, orgID, leavingUserID string) error {
	if err := mayGrant(a, orgID, domain.RoleOwner); err != nil {
		return err
	}
	members, err := tx.ListMembers(ctx, orgID)
	if err != nil {
		return err
	}
	for _, m := range members {
		if m.Role == domain.RoleOwner && m.UserID != leavingUserID && m.Status == "active" {
			return nil
		}
	}
	return fmt.Errorf("%w: this is the last owner of the organization; make someone else owner first", domain.ErrInvalid)
}

// RemoveMember removes a user from an organization; the last owner stays.
func (s *Service) RemoveMember(ctx context.Context, a *Actor, org EntityRef, userRef string) (*MemberResult, error) {
	var res *MemberResult
	err := s.inTx(ctx, func(tx store.Ops) error {
		o, err := s.managedOrg(ctx, tx, a, org, "removing members")
		if err != nil {
			return err
		}
		user, err := s.memberUser(ctx, tx, o.ID, userRef, "target")
		if err != nil {
			return err
		}
		m, err := tx.GetMember(ctx, o.ID, user.ID)
		if err != nil {
			return err
		}
		if m.Role == domain.RoleOwner {
			if err := s.keepAnOwner(ctx, tx, a, o.ID, user.ID); err != nil {
				return err
			}
		}
		if err := tx.RemoveMember(ctx, o.ID, user.ID); err != nil {
			return err
		}
		r := s.memberResult(ctx, tx, m)
		res = &r
		return s.auditMember(ctx, tx, a, "remove_member", o.ID, user.ID, string(m.Role))
	})
	return res, err
}

// SetMemberRole changes a member's role; the last owner stays an owner.
func (s *Service) SetMemberRole(ctx context.Context, a *Actor, org EntityRef, userRef string, role domain.Role) (*MemberResult, error) {
	if err := checkRole(role); err != nil {
		return nil, err
	}
	var res *MemberResult
	err := s.inTx(ctx, func(tx store.Ops) error {
		o, err := s.managedOrg(ctx, tx, a, org, "changing roles")
		if err != nil {
			return err
		}
		if err := mayGrant(a, o.ID, role); err != nil {
			return err
		}
		user, err := s.memberUser(ctx, tx, o.ID, userRef, "target")
		if err != nil {
			return err
		}
		m, err := tx.GetMember(ctx, o.ID, user.ID)
		if err != nil {
			return err
		}
		if m.Role == domain.RoleOwner && role != domain.RoleOwner {
			if err := s.keepAnOwner(ctx, tx, a, o.ID, user.ID); err != nil {
				return err
			}
		}
		m.Role = role
		if err := tx.PutMember(ctx, m); err != nil {
			return err
		}
		r := s.memberResult(ctx, tx, m)
		res = &r
		return s.auditMember(ctx, tx, a, "set_role", o.ID, user.ID, string(role))
	})
	return res, err
}

// ListMembers lists an organization's members.
func (s *Service) ListMembers(ctx context.Context, a *Actor, org EntityRef) ([]MemberResult, error) {
	o, err := s.resolveLive(ctx, s.store, a, EntityRef{Type: domain.Organization, ID: org.ID}, "source")
	if err != nil {
		return nil, err
	}
	ms, err := s.store.ListMembers(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	out := make([]MemberResult, 0, len(ms))
	for _, m := range ms {
		out = append(out, s.memberResult(ctx, s.store, m))
	}
	return out, nil
}

// CheckMember returns the membership of a user, or nil when they are not a member.
func (s *Service) CheckMember(ctx context.Context, a *Actor, org EntityRef, userRef string) (*MemberResult, error) {
	o, err := s.resolveLive(ctx, s.store, a, EntityRef{Type: domain.Organization, ID: org.ID}, "source")
	if err != nil {
		return nil, err
	}
	user, err := s.memberUser(ctx, s.store, o.ID, userRef, "target")
	if err != nil {
		return nil, nil // not a member is an answer, not an error
	}
	m, err := s.store.GetMember(ctx, o.ID, user.ID)
	if err != nil {
		return nil, nil
	}
	r := s.memberResult(ctx, s.store, m)
	return &r, nil
}

func (s *Service) auditMember(ctx context.Context, tx store.Ops, a *Actor, action, orgID, who, role string) error {
	after := fmt.Sprintf(`{"user":%q,"role":%q}`, who, role)
	return tx.AppendAudit(ctx, &domain.AuditEntry{At: s.now(), ActorID: a.User.ID, Action: action, EntityType: "member", EntityID: who, OrganizationID: orgID, After: after})
}
