package authserver

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/atomcp/atomcp/internal/atoms"
	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

// The invitation page (/invite?token=SECRET): what an organization
// invitation offers (organization, role) and, signed in, Accept and
// Decline. Someone without an account signs in first (a provider, which
// vouches for the email) or, when the server's owner sent the invitation
// and password sign-in is on, creates a local account with the invited
// email right here. Only the server's owner may hand out that way of
// making an account: an invitation of any organization admin letting its
// holder register an arbitrary email with a password of their choosing
// would let them take over invitations sent to that email by others.

// Paths of the invitation page's forms.
const (
	PathInvite        = atoms.InvitePath
	PathInviteAnswer  = PathInvite + "/answer"
	PathInviteAccount = PathInvite + "/account"
)

type inviteView struct {
	Token, OrgName, Role, Status string
	Pending, SignedIn            bool
	// Answered is "accepted" or "declined" after this page's answer.
	Answered string
	// SigninURL signs in and comes back; CreateAccount offers the
	// newcomer's form for Email.
	SigninURL     string
	CreateAccount bool
	Email         string
	AnswerAction  string
	AccountAction string
}

func (s *Server) handleInvite(w http.ResponseWriter, r *http.Request) {
	s.showInvite(w, r, r.URL.Query().Get("token"), http.StatusOK, "", "")
}

func (s *Server) showInvite(w http.ResponseWriter, r *http.Request, token string, status int, errMsg, answered string) {
	ctx := r.Context()
	if s.opts.Atoms == nil || token == "" {
		s.renderPageError(w, http.StatusNotFound, "Invitation", "This invitation link is not complete.", "Use the whole link you were sent.")
		return
	}
	inv, err := s.opts.Atoms.InvitationByToken(ctx, token)
	if err != nil {
		s.renderPageError(w, http.StatusNotFound, "Invitation", "This invitation link is not valid.", "Ask the person who invited you for a new link.")
		return
	}
	v := &inviteView{Token: token, OrgName: inv.OrganizationName, Role: string(inv.Role), Status: inv.Status, Pending: inv.Status == "pending",
		Answered: answered, AnswerAction: s.opts.Issuer + PathInviteAnswer, AccountAction: s.opts.Issuer + PathInviteAccount,
		SigninURL: s.loginURL(PathInvite + "?" + url.Values{"token": {token}}.Encode())}
	sess := s.currentSession(r)
	var nav *navBar
	csrf := s.pageCSRF(w, r)
	if sess != nil {
		v.SignedIn = true
		nav = s.navBar(sess.Account, csrf)
	} else if v.Pending {
		v.Email, v.CreateAccount = s.newcomerEmail(r, token)
	}
	s.pages.render(w, status, "invite", &pageData{Title: "Invitation to " + inv.OrganizationName, Error: errMsg, CSRF: csrf, Referrer: "same-origin", Nav: nav, Page: v})
}

// newcomerEmail returns the invited email and whether this page may
// create a local account for it: password sign-in on, no account with
// that email yet, and the invitation sent by the server's owner.
func (s *Server) newcomerEmail(r *http.Request, token string) (string, bool) {
	if s.opts.NoPassword {
		return "", false
	}
	email, inviter, err := s.opts.Atoms.InvitationEmail(r.Context(), token)
	if err != nil || email == "" || inviter == nil || inviter.Issuer != EmbeddedIssuer {
		return "", false
	}
	if o, err := s.st.GetLocalAccount(r.Context(), inviter.Subject); err != nil || o.Role != "owner" || o.DisabledAt != nil {
		return "", false
	}
	email = strings.ToLower(strings.TrimSpace(email))
	if CheckEmail(email) != nil {
		return "", false
	}
	if _, err := s.st.GetLocalAccountByEmail(r.Context(), email); !errors.Is(err, domain.ErrNotFound) {
		return "", false
	}
	return email, true
}

// handleInviteAnswer accepts or declines (answer=accept|decline).
func (s *Server) handleInviteAnswer(w http.ResponseWriter, r *http.Request) {
	if !s.acceptForm(w, r) {
		return
	}
	token := r.PostForm.Get("token")
	sess := s.currentSession(r)
	if sess == nil {
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, s.loginURL(PathInvite+"?"+url.Values{"token": {token}}.Encode()), http.StatusSeeOther)
		return
	}
	accept := r.PostForm.Get("answer") == "accept"
	if !accept && r.PostForm.Get("answer") != "decline" {
		s.showInvite(w, r, token, http.StatusBadRequest, "Choose Accept or Decline.", "")
		return
	}
	actor, err := s.opts.Atoms.Actor(r.Context(), accountCaller(sess.Account))
	if err == nil {
		_, err = s.opts.Atoms.AnswerInvitation(r.Context(), actor, atoms.InvitationRef{Token: token}, accept)
	}
	if err != nil {
		if serviceStatus(err) == http.StatusInternalServerError {
			s.log.Error("answer invitation", "err", err)
		}
		msg := serviceMessage(err)
		if errors.Is(err, atoms.ErrInvitationNotYours) {
			msg = "This invitation is addressed to another account than " + sess.Account.Email + "; sign out and sign in with the invited email address. Nothing was changed."
		}
		s.showInvite(w, r, token, serviceStatus(err), msg, "")
		return
	}
	answered := "declined"
	if accept {
		answered = "accepted"
	}
	s.log.Info("invitation answered", "account", sess.Account.ID, "answer", answered)
	s.showInvite(w, r, token, http.StatusOK, "", answered)
}

// handleInviteAccount creates the newcomer's local account with the
// invited email, signs them in and returns to the invitation.
func (s *Server) handleInviteAccount(w http.ResponseWriter, r *http.Request) {
	if !s.acceptForm(w, r) {
		return
	}
	f := r.PostForm
	token, name, pw := f.Get("token"), strings.TrimSpace(f.Get("name")), f.Get("password")
	email, ok := s.newcomerEmail(r, token)
	if !ok {
		s.showInvite(w, r, token, http.StatusForbidden, "An account cannot be created with this invitation; sign in instead.", "")
		return
	}
	if err := CheckPassword(pw); err != nil {
		s.showInvite(w, r, token, http.StatusBadRequest, err.Error(), "")
		return
	}
	hash, err := hashPassword(pw, s.argon)
	if err != nil {
		s.renderPageError(w, http.StatusInternalServerError, "Invitation", "The server could not hash the password; try again.", "")
		return
	}
	now := s.opts.Now()
	a := &store.LocalAccount{ID: newAccountID(), Email: email, Name: name, PasswordHash: hash, Role: "user", CreatedAt: now, UpdatedAt: now}
	if err := s.st.CreateLocalAccount(r.Context(), a); err != nil {
		if errors.Is(err, domain.ErrConflict) {
			s.showInvite(w, r, token, http.StatusConflict, "An account with this email exists already; sign in with it.", "")
			return
		}
		s.log.Error("create account from invitation", "err", err)
		s.renderPageError(w, http.StatusInternalServerError, "Invitation", "The server could not create the account; try again.", "")
		return
	}
	if err := s.setSession(w, r, a); err != nil {
		s.log.Error("sign in the new account", "err", err)
	}
	s.log.Info("account created from an organization invitation", "account", a.ID)
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, s.opts.Issuer+PathInvite+"?"+url.Values{"token": {token}}.Encode(), http.StatusSeeOther)
}
