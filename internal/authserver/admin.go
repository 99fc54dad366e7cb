package authserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/atomcp/atomcp/internal/atoms"
	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

// The admin page (/admin): for the server's owner (LocalAccount.Role
// "owner") the accounts of this server and every organization; for an
// organization's owners and admins the organizations they manage. In an
// organization: its members (role, remove), invitations (by link, revoke)
// and the project roles of its members; and the audit log with filters.
// Anyone else gets 403. Every change is a form POST through acceptForm,
// and changes to accounts ask for a recent sign-in (checkReauth). Each
// action has a CLI twin (docs/admin.md).

// PathAdmin is the admin page.
const PathAdmin = "/admin"

// adminNotices are the fixed messages a redirect back may show (?done=).
var adminNotices = map[string]string{
	"account_disabled":   "The account was disabled: it can no longer sign in, and its tokens stop working.",
	"account_enabled":    "The account was enabled again.",
	"account_role":       "The account's role was changed.",
	"member_role":        "The member's role was changed.",
	"member_removed":     "The member was removed from the organization.",
	"invitation_revoked": "The invitation was revoked; its link no longer works.",
	"project_member":     "The project role was saved.",
	"project_removed":    "The project role was removed; the organization role applies again.",
}

// adminView is what the admin page shows.
type adminView struct {
	ServerOwner bool
	Notice      string
	// Link is a one-time link just made (an invitation or a reset link),
	// shown on this answer only; LinkWhat says what it is.
	Link, LinkWhat string
	NeedReauth     bool
	Accounts       []adminAccount
	Orgs           []atoms.OrgSummary
	Org            *adminOrg
	Audit          []adminAudit
	Filter         adminFilter
	Base           string // the issuer, before every form action
	Roles          []domain.Role
}

type adminAccount struct {
	ID, Email, Name, Role, Status, Created string
	Disabled, Self                         bool
}

type adminOrg struct {
	ID, Name    string
	Members     []atoms.MemberResult
	Invitations []atoms.InvitationResult
	Projects    []atoms.ProjectSummary
}

type adminAudit struct {
	At, Actor, Action, Entity, Org string
}

type adminFilter struct {
	Actor, Action, Org, Since, Until string
}

// adminActor resolves the signed-in account to the actor the page works
// as: the server owner owns every organization here. ok is false for
// someone who is neither the server owner nor an organization admin.
func (s *Server) adminActor(ctx context.Context, a *store.LocalAccount) (actor *atoms.Actor, owner, ok bool, err error) {
	if s.opts.Atoms == nil {
		return nil, false, false, errors.New("the admin page needs the Atoms service (authserver.Options.Atoms)")
	}
	actor, err = s.opts.Atoms.Actor(ctx, accountCaller(a))
	if err != nil {
		return nil, false, false, err
	}
	if a.Role == "owner" {
		actor, err = s.opts.Atoms.AsServerOwner(ctx, actor)
		return actor, true, err == nil, err
	}
	orgs, err := s.managedOrgs(ctx, actor, false)
	return actor, false, len(orgs) > 0, err
}

// managedOrgs lists the organizations of the page. Personal workspaces,
// which every account owns, make nobody an administrator: only the server
// owner sees them here.
func (s *Server) managedOrgs(ctx context.Context, actor *atoms.Actor, owner bool) ([]atoms.OrgSummary, error) {
	orgs, err := s.opts.Atoms.ManagedOrganizations(ctx, actor)
	if err != nil || owner {
		return orgs, err
	}
	out := orgs[:0]
	for _, o := range orgs {
		if o.Type != "personal" {
			out = append(out, o)
		}
	}
	return out, nil
}

// accountCaller is the Atoms identity of a local account: what its
// access tokens carry (EmbeddedIssuer, the account id, a verified email).
func accountCaller(a *store.LocalAccount) atoms.Caller {
	return atoms.Caller{Issuer: EmbeddedIssuer, Subject: a.ID, Email: a.Email, EmailVerified: true, Name: a.Name}
}

func (s *Server) handleAdmin(w http.ResponseWriter, r *http.Request) {
	sess := s.requireCurrentSession(w, r)
	if sess == nil {
		return
	}
	s.showAdmin(w, r, sess, http.StatusOK, "", adminNotices[r.URL.Query().Get("done")], r.URL.Query().Get("org"), nil)
}

// showAdmin renders the page for organization orgID (none when ""), with
// an error or a notice; link is a one-time link to show.
func (s *Server) showAdmin(w http.ResponseWriter, r *http.Request, sess *session, status int, errMsg, notice, orgID string, link *[2]string) {
	ctx := r.Context()
	actor, owner, ok, err := s.adminActor(ctx, sess.Account)
	if err != nil {
		s.log.Error("admin page", "err", err)
		s.renderPageError(w, http.StatusInternalServerError, "Administration", "The server could not read what you administer; try again.", "")
		return
	}
	if !ok {
		s.renderPageError(w, http.StatusForbidden, "Administration",
			"This page is for the server's owner and for owners and admins of an organization; your account is neither.",
			"Ask an organization's owner or admin for the admin role, or the server's owner for access.")
		return
	}
	v := &adminView{ServerOwner: owner, Notice: notice, NeedReauth: s.needsReauth(sess), Base: s.opts.Issuer,
		Roles: []domain.Role{domain.RoleViewer, domain.RoleMember, domain.RoleAdmin, domain.RoleOwner}}
	if link != nil {
		v.LinkWhat, v.Link = link[0], link[1]
	}
	if owner {
		accounts, err := s.st.ListLocalAccounts(ctx)
		if err != nil {
			s.log.Error("admin page: accounts", "err", err)
			s.renderPageError(w, http.StatusInternalServerError, "Administration", "The server could not list the accounts; try again.", "")
			return
		}
		for _, a := range accounts {
			st := "active"
			if a.DisabledAt != nil {
				st = "disabled"
			}
			v.Accounts = append(v.Accounts, adminAccount{ID: a.ID, Email: a.Email, Name: a.Name, Role: a.Role, Status: st,
				Created: pageTime(a.CreatedAt), Disabled: a.DisabledAt != nil, Self: a.ID == sess.Account.ID})
		}
	}
	if v.Orgs, err = s.managedOrgs(ctx, actor, owner); err != nil {
		s.log.Error("admin page: organizations", "err", err)
	}
	if orgID != "" {
		ref := atoms.EntityRef{Type: domain.Organization, ID: orgID}
		o := &adminOrg{ID: orgID}
		for _, so := range v.Orgs {
			if so.ID == orgID {
				o.Name = so.Name
			}
		}
		if o.Name == "" {
			errMsg = "That organization is not one you administer."
			status = http.StatusNotFound
		} else {
			var e1, e2, e3 error
			o.Members, e1 = s.opts.Atoms.ListMembers(ctx, actor, ref)
			o.Invitations, e2 = s.opts.Atoms.ListInvitations(ctx, actor, ref)
			o.Projects, e3 = s.opts.Atoms.ManagedProjects(ctx, actor, ref)
			if err := errors.Join(e1, e2, e3); err != nil {
				s.log.Error("admin page: organization", "err", err)
			}
			v.Org = o
		}
	}
	f, af, ferr := s.auditFilter(ctx, r.URL.Query())
	v.Filter = f
	if ferr != "" && errMsg == "" {
		errMsg, status = ferr, http.StatusBadRequest
	}
	if ferr == "" {
		entries, err := s.opts.Atoms.AuditSearch(ctx, actor, af)
		if err != nil && errMsg == "" {
			errMsg, status = serviceMessage(err), serviceStatus(err)
		}
		for _, e := range entries {
			v.Audit = append(v.Audit, adminAudit{At: pageTime(e.At), Actor: orDash(e.ActorEmail, e.ActorID), Action: e.Action,
				Entity: string(e.EntityType) + " " + e.EntityID, Org: orDash(e.OrganizationName, e.OrganizationID)})
		}
	}
	csrf := s.pageCSRF(w, r)
	s.pages.render(w, status, "admin", &pageData{Title: "Administration", Error: errMsg, CSRF: csrf, Referrer: "same-origin",
		Nav: s.navBar(sess.Account, csrf), Page: v})
}

func orDash(a, b string) string {
	if a != "" {
		return a
	}
	if b != "" {
		return b
	}
	return "-"
}

// auditFilter reads the audit filter form (a GET: actor email or id,
// action, organization, dates as YYYY-MM-DD, the until day included).
func (s *Server) auditFilter(ctx context.Context, q url.Values) (adminFilter, atoms.AuditFilter, string) {
	f := adminFilter{Actor: strings.TrimSpace(q.Get("actor")), Action: strings.TrimSpace(q.Get("action")), Org: q.Get("audit_org"),
		Since: q.Get("since"), Until: q.Get("until")}
	af := atoms.AuditFilter{Action: f.Action, OrganizationID: f.Org, Limit: 200}
	if f.Actor != "" {
		af.ActorID = f.Actor
		if strings.Contains(f.Actor, "@") {
			af.ActorID = "no-such-user" // an unknown email matches nothing
			if u, err := s.opts.Atoms.UserByEmail(ctx, f.Actor); err == nil {
				af.ActorID = u.ID
			}
		}
	}
	for _, d := range []struct {
		in  string
		out *time.Time
		add time.Duration
	}{{f.Since, &af.Since, 0}, {f.Until, &af.Until, 24 * time.Hour}} {
		if d.in == "" {
			continue
		}
		t, err := time.Parse(time.DateOnly, d.in)
		if err != nil {
			return f, af, "The audit log's dates are days as YYYY-MM-DD (for example 2026-12-03); " + d.in + " is not one."
		}
		*d.out = t.Add(d.add)
	}
	return f, af, ""
}

// serviceStatus maps an Atoms service error to an HTTP status.
func serviceStatus(err error) int {
	switch {
	case errors.Is(err, domain.ErrForbidden):
		return http.StatusForbidden
	case errors.Is(err, domain.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, domain.ErrInvalid), errors.Is(err, domain.ErrConflict):
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}

// serviceMessage is what the page says about a service error: its text,
// which the service writes for people, except for an unexpected failure.
func serviceMessage(err error) string {
	if serviceStatus(err) == http.StatusInternalServerError {
		return "The server could not do this; try again."
	}
	return err.Error()
}

// handleAdminPost runs one admin form (POST /admin/{action}).
func (s *Server) handleAdminPost(w http.ResponseWriter, r *http.Request) {
	if !s.acceptForm(w, r) {
		return
	}
	sess := s.requireCurrentSession(w, r)
	if sess == nil {
		return
	}
	ctx := r.Context()
	actor, owner, ok, err := s.adminActor(ctx, sess.Account)
	if err != nil {
		s.log.Error("admin form", "err", err)
		s.renderPageError(w, http.StatusInternalServerError, "Administration", "The server could not read what you administer; try again.", "")
		return
	}
	if !ok {
		s.renderPageError(w, http.StatusForbidden, "Administration",
			"This page is for the server's owner and for owners and admins of an organization; your account is neither, so nothing was changed.", "")
		return
	}
	f := r.PostForm
	orgID := f.Get("org")
	org := atoms.EntityRef{Type: domain.Organization, ID: orgID}
	fail := func(err error) {
		if serviceStatus(err) == http.StatusInternalServerError {
			s.log.Error("admin form", "action", r.PathValue("action"), "err", err)
		}
		s.showAdmin(w, r, sess, serviceStatus(err), serviceMessage(err), "", orgID, nil)
	}
	back := func(done string) {
		q := url.Values{"done": {done}}
		if orgID != "" {
			q.Set("org", orgID)
		}
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, s.opts.Issuer+PathAdmin+"?"+q.Encode(), http.StatusSeeOther)
	}
	action := r.PathValue("action")
	if strings.HasPrefix(action, "account-") {
		if !owner {
			s.showAdmin(w, r, sess, http.StatusForbidden, "Only the server's owner manages accounts; nothing was changed.", "", orgID, nil)
			return
		}
		if ok, msg := s.checkReauth(w, r, sess); !ok {
			s.showAdmin(w, r, sess, http.StatusForbidden, msg, "", orgID, nil)
			return
		}
		s.adminAccountAction(w, r, sess, action, fail, back)
		return
	}
	switch action {
	case "invite":
		res, err := s.opts.Atoms.Invite(ctx, actor, org, f.Get("email"), domain.Role(f.Get("role")))
		if err != nil {
			fail(err)
			return
		}
		link := [2]string{"Invitation link for " + f.Get("email") + " (" + string(res.Role) + " of " + res.OrganizationName + "), valid until answered or revoked; send it to them. It is shown only now.",
			s.opts.Issuer + res.LinkPath}
		s.showAdmin(w, r, sess, http.StatusOK, "", "", orgID, &link)
	case "member-role":
		if _, err := s.opts.Atoms.SetMemberRole(ctx, actor, org, f.Get("user_id"), domain.Role(f.Get("role"))); err != nil {
			fail(err)
			return
		}
		back("member_role")
	case "member-remove":
		if _, err := s.opts.Atoms.RemoveMember(ctx, actor, org, f.Get("user_id")); err != nil {
			fail(err)
			return
		}
		back("member_removed")
	case "invitation-revoke":
		if _, err := s.opts.Atoms.RevokeInvitation(ctx, actor, org, f.Get("invitation_id")); err != nil {
			fail(err)
			return
		}
		back("invitation_revoked")
	case "project-member":
		project := atoms.EntityRef{Type: domain.Project, ID: f.Get("project_id")}
		if _, err := s.opts.Atoms.AddProjectMember(ctx, actor, project, f.Get("user_id"), domain.Role(f.Get("role"))); err != nil {
			fail(err)
			return
		}
		back("project_member")
	case "project-remove":
		project := atoms.EntityRef{Type: domain.Project, ID: f.Get("project_id")}
		if _, err := s.opts.Atoms.RemoveProjectMember(ctx, actor, project, f.Get("user_id")); err != nil {
			fail(err)
			return
		}
		back("project_removed")
	default:
		s.renderPageError(w, http.StatusNotFound, "Administration", "There is no such administration form.", "")
	}
}

// adminAccountAction runs a form of the accounts section (server owner,
// re-authenticated).
func (s *Server) adminAccountAction(w http.ResponseWriter, r *http.Request, sess *session, action string, fail func(error), back func(string)) {
	ctx := r.Context()
	now := s.opts.Now()
	f := r.PostForm
	if action == "account-invite" {
		link, err := AccountInviteLink(ctx, s.st, s.opts.Issuer, f.Get("email"), now)
		if err != nil {
			fail(err)
			return
		}
		s.log.Info("account invitation link made", "by", sess.Account.ID)
		l := [2]string{"Account invitation link for " + strings.ToLower(strings.TrimSpace(f.Get("email"))) + ", valid 7 days, works once; send it to them. It is shown only now.", link}
		s.showAdmin(w, r, sess, http.StatusOK, "", "", f.Get("org"), &l)
		return
	}
	a, err := s.st.GetLocalAccount(ctx, f.Get("account_id"))
	if err != nil {
		fail(fmt.Errorf("no such account (choose one of the list): %w", domain.ErrNotFound))
		return
	}
	switch action {
	case "account-disable", "account-enable":
		disable := action == "account-disable"
		if disable && a.ID == sess.Account.ID {
			fail(fmt.Errorf("%w: you cannot disable your own account here; another owner can, or use atomcp users disable", domain.ErrInvalid))
			return
		}
		if err := SetAccountDisabled(ctx, s.st, a, disable, now); err != nil {
			fail(err)
			return
		}
		if disable {
			back("account_disabled")
		} else {
			back("account_enabled")
		}
	case "account-role":
		if err := SetAccountRole(ctx, s.st, a, f.Get("role"), now); err != nil {
			fail(err)
			return
		}
		back("account_role")
	case "account-reset":
		link, err := PasswordResetLink(ctx, s.st, s.opts.Issuer, a, now)
		if err != nil {
			fail(err)
			return
		}
		s.log.Info("password reset link made", "by", sess.Account.ID, "account", a.ID)
		l := [2]string{"Password reset link for " + a.Email + ", valid 24 hours, works once; send it to them. It is shown only now.", link}
		s.showAdmin(w, r, sess, http.StatusOK, "", "", f.Get("org"), &l)
	default:
		s.renderPageError(w, http.StatusNotFound, "Administration", "There is no such administration form.", "")
	}
}
