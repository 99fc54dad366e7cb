package authserver

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/netaddr"
	"github.com/atomcp/atomcp/internal/store"
)

// The account page (/account): who is signed in and how, the apps they
// connected (every client holding a grant, with Revoke), their browser
// sessions (with sign-out everywhere else), their personal access tokens
// (create, shown once; revoke) and, for a local account, a password
// change. Every change is a form POST through acceptForm (pageguard.go),
// answered with a redirect back to the page (POST, redirect, GET), except
// a new token, which is shown once on a page of its own.

// Paths of the account page's forms.
const (
	PathAccountRevokeApp   = PathAccount + "/apps/revoke"
	PathAccountSessions    = PathAccount + "/sessions/revoke"
	PathAccountTokens      = PathAccount + "/tokens"
	PathAccountRevokeToken = PathAccount + "/tokens/revoke"
	PathAccountPassword    = PathAccount + "/password"
)

// accountNotices are the messages a redirect back to the page may show
// (?done=…): fixed texts, so that a link cannot put words on the page.
var accountNotices = map[string]string{
	"app_revoked":      "The app was disconnected: its refresh tokens are revoked and its access tokens stop working on their next use.",
	"session_revoked":  "That session was signed out.",
	"sessions_revoked": "Every other session was signed out.",
	"token_revoked":    "The personal access token was revoked; it stops working on its next use.",
	"password_changed": "Your password was changed; your other sessions were signed out.",
}

// accountView is what the account page shows.
type accountView struct {
	Email, Name, Role string
	HasPassword       bool
	Identities        []identityView
	Apps              []appView
	Sessions          []sessionView
	Tokens            []tokenView
	Notice            string
	// NeedReauth asks the sensitive forms (new token) for the password,
	// or, without one, for a new sign-in with ReauthButtons.
	NeedReauth    bool
	ReauthButtons []signinButton
	// Form actions.
	RevokeAppAction, SessionsAction, TokensAction, RevokeTokenAction, PasswordAction string
	// The new-token form's choices.
	TokenDays []int
}

type identityView struct{ Provider, Email, LastUsed string }

type appView struct {
	ClientID, Name, Kind, RedirectHost, Scope string
	FirstAuthorized, LastUsed                 string
}

type sessionView struct {
	ID, UserAgent, Created, Expires string
	Current                         bool
}

type tokenView struct {
	ID, Name, Scope, Created, Expires, Status string
	Active                                    bool
}

// pageTime is how the pages show a time: UTC, to the minute.
func pageTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// handleAccount shows the account page.
func (s *Server) handleAccount(w http.ResponseWriter, r *http.Request) {
	sess := s.requireCurrentSession(w, r)
	if sess == nil {
		return
	}
	s.showAccount(w, r, sess, http.StatusOK, "", accountNotices[r.URL.Query().Get("done")])
}

// showAccount renders the account page with an error or a notice.
func (s *Server) showAccount(w http.ResponseWriter, r *http.Request, sess *session, status int, errMsg, notice string) {
	v, err := s.accountView(r.Context(), sess)
	if err != nil {
		s.log.Error("account page", "err", err)
		s.renderPageError(w, http.StatusInternalServerError, "Your account", "The server could not read your account; try again.", "")
		return
	}
	v.Notice = notice
	csrf := s.pageCSRF(w, r)
	s.pages.render(w, status, "account", &pageData{Title: "Your account", Error: errMsg, CSRF: csrf, Referrer: "same-origin",
		Nav: s.navBar(sess.Account, csrf), Account: v})
}

// navBar is the signed-in bar of a page.
func (s *Server) navBar(a *store.LocalAccount, csrf string) *navBar {
	return &navBar{Email: a.Email, AccountURL: s.opts.Issuer + PathAccount, LogoutAction: s.opts.Issuer + PathLogout, CSRF: csrf}
}

func (s *Server) accountView(ctx context.Context, sess *session) (*accountView, error) {
	a := sess.Account
	now := s.opts.Now()
	v := &accountView{Email: a.Email, Name: a.Name, Role: a.Role, HasPassword: a.PasswordHash != noPasswordHash,
		NeedReauth: s.needsReauth(sess), ReauthButtons: s.reauthButtons(PathAccount),
		RevokeAppAction: s.opts.Issuer + PathAccountRevokeApp, SessionsAction: s.opts.Issuer + PathAccountSessions,
		TokensAction: s.opts.Issuer + PathAccountTokens, RevokeTokenAction: s.opts.Issuer + PathAccountRevokeToken,
		PasswordAction: s.opts.Issuer + PathAccountPassword, TokenDays: []int{7, 30, 90, 365}}
	ids, err := s.st.ListLinkedIdentities(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		name := id.Connector
		if c := s.connector(id.Connector); c != nil {
			name = c.Name()
		}
		v.Identities = append(v.Identities, identityView{Provider: name, Email: id.Email, LastUsed: pageTime(id.LastUsedAt)})
	}
	if v.Apps, err = s.connectedApps(ctx, a.ID, now); err != nil {
		return nil, err
	}
	sessions, err := s.st.ListBrowserSessions(ctx, a.ID, now)
	if err != nil {
		return nil, err
	}
	for _, bs := range sessions {
		ua := bs.UserAgent
		if ua == "" {
			ua = "(unknown browser)"
		}
		v.Sessions = append(v.Sessions, sessionView{ID: bs.ID, UserAgent: ua, Created: pageTime(bs.CreatedAt), Expires: pageTime(bs.ExpiresAt), Current: bs.ID == sess.ID})
	}
	tokens, err := s.accountTokens(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	for _, p := range tokens {
		st := p.Status(now)
		v.Tokens = append(v.Tokens, tokenView{ID: p.ID, Name: p.Name, Scope: p.Scope, Created: pageTime(p.CreatedAt), Expires: pageTime(p.ExpiresAt),
			Status: st, Active: st == "active"})
	}
	return v, nil
}

// connectedApps gathers the account's usable grants by client: what the
// account page lists.
func (s *Server) connectedApps(ctx context.Context, accountID string, now time.Time) ([]appView, error) {
	fams, err := s.st.ListActiveFamilies(ctx, accountID, now)
	if err != nil {
		return nil, err
	}
	type agg struct {
		first, last time.Time
		scopes      string
	}
	by := map[string]*agg{}
	var order []string
	for _, f := range fams {
		if strings.HasPrefix(f.ClientID, patIDPrefix) {
			continue // personal access tokens have their own list
		}
		g := by[f.ClientID]
		if g == nil {
			g = &agg{first: f.CreatedAt, last: f.CreatedAt}
			by[f.ClientID] = g
			order = append(order, f.ClientID)
		}
		g.first = minTime(g.first, f.CreatedAt)
		g.last = maxTime(g.last, f.CreatedAt)
		if f.LastIssuedAt != nil {
			g.last = maxTime(g.last, *f.LastIssuedAt)
		}
		g.scopes = scopeUnion(g.scopes, f.Scope)
	}
	var out []appView
	for _, id := range order {
		g := by[id]
		app := appView{ClientID: id, Name: "(unknown application)", Kind: "client id", Scope: g.scopes,
			FirstAuthorized: pageTime(g.first), LastUsed: pageTime(g.last)}
		if isCIMDClientID(id) {
			app.Kind = "metadata document URL"
		}
		if c := s.describeClient(ctx, id); c != nil {
			app.Name = c.Name
			var hosts []string
			for _, u := range c.RedirectURIs {
				if h := redirectHost(u); !slices.Contains(hosts, h) {
					hosts = append(hosts, h)
				}
			}
			app.RedirectHost = strings.Join(hosts, ", ")
		}
		out = append(out, app)
	}
	slices.SortStableFunc(out, func(a, b appView) int { return cmp.Compare(b.LastUsed, a.LastUsed) })
	return out, nil
}

// describeClient returns what is known of a client for the page, or nil:
// a registered client from the store (revoked or not), a metadata
// document client from the fetcher's cache or its document.
func (s *Server) describeClient(ctx context.Context, id string) *client {
	if isCIMDClientID(id) {
		ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		c, err := s.cimd.get(ctx, id)
		if err != nil {
			return nil
		}
		return c
	}
	c, err := s.st.GetOAuthClient(ctx, id)
	if err != nil {
		return nil
	}
	return fromStored(c)
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// accountTokens are the account's personal access tokens, newest first.
func (s *Server) accountTokens(ctx context.Context, accountID string) ([]*PersonalToken, error) {
	all, err := ListPersonalTokens(ctx, s.st)
	if err != nil {
		return nil, err
	}
	var out []*PersonalToken
	for _, p := range all {
		if p.AccountID == accountID {
			out = append(out, p)
		}
	}
	slices.Reverse(out)
	return out, nil
}

// backToAccount answers a handled form: a redirect to the page with a
// notice.
func (s *Server) backToAccount(w http.ResponseWriter, r *http.Request, done string) {
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, s.opts.Issuer+PathAccount+"?"+url.Values{"done": {done}}.Encode(), http.StatusSeeOther)
}

// accountForm is the start of every account form handler: the form
// checks, then the session.
func (s *Server) accountForm(w http.ResponseWriter, r *http.Request) *session {
	if !s.acceptForm(w, r) {
		return nil
	}
	return s.requireCurrentSession(w, r)
}

// handleRevokeApp disconnects a client: every family of the account and
// client is revoked (refresh tokens refused, access tokens deny-listed,
// which the resource server checks on every request, its token cache
// included) and the consent is forgotten.
func (s *Server) handleRevokeApp(w http.ResponseWriter, r *http.Request) {
	sess := s.accountForm(w, r)
	if sess == nil {
		return
	}
	clientID := r.PostForm.Get("client_id")
	if clientID == "" || strings.HasPrefix(clientID, patIDPrefix) {
		s.showAccount(w, r, sess, http.StatusBadRequest, "Choose an app of the list to disconnect (the form named none).", "")
		return
	}
	if err := s.st.RevokeClientGrants(r.Context(), sess.Account.ID, clientID, s.opts.Now()); err != nil {
		s.log.Error("revoke app", "err", err)
		s.showAccount(w, r, sess, http.StatusInternalServerError, "The server could not disconnect the app; try again.", "")
		return
	}
	s.log.Info("app disconnected by its user", "account", sess.Account.ID, "client_id", clientID)
	s.backToAccount(w, r, "app_revoked")
}

// handleRevokeSessions signs out one other session (session_id) or every
// other one.
func (s *Server) handleRevokeSessions(w http.ResponseWriter, r *http.Request) {
	sess := s.accountForm(w, r)
	if sess == nil {
		return
	}
	ctx := r.Context()
	now := s.opts.Now()
	if id := r.PostForm.Get("session_id"); id != "" {
		bs, err := s.st.GetBrowserSession(ctx, id)
		if errors.Is(err, domain.ErrNotFound) || (err == nil && bs.AccountID != sess.Account.ID) {
			s.showAccount(w, r, sess, http.StatusNotFound, "That session is not one of yours (or is gone already).", "")
			return
		}
		if err == nil {
			err = s.st.RevokeBrowserSession(ctx, id, now)
		}
		if err != nil {
			s.log.Error("revoke session", "err", err)
			s.showAccount(w, r, sess, http.StatusInternalServerError, "The server could not sign that session out; try again.", "")
			return
		}
		if id == sess.ID {
			s.clearSession(w)
			w.Header().Set("Cache-Control", "no-store")
			http.Redirect(w, r, s.loginURL(PathAccount), http.StatusSeeOther)
			return
		}
		s.backToAccount(w, r, "session_revoked")
		return
	}
	n, err := s.st.RevokeBrowserSessions(ctx, sess.Account.ID, sess.ID, now)
	if err != nil {
		s.log.Error("revoke sessions", "err", err)
		s.showAccount(w, r, sess, http.StatusInternalServerError, "The server could not sign the other sessions out; try again.", "")
		return
	}
	s.log.Info("other sessions signed out", "account", sess.Account.ID, "sessions", n)
	s.backToAccount(w, r, "sessions_revoked")
}

// handleCreateToken creates a personal access token and shows it once.
// It is a sensitive action: it wants a recent sign-in or the password.
func (s *Server) handleCreateToken(w http.ResponseWriter, r *http.Request) {
	sess := s.accountForm(w, r)
	if sess == nil {
		return
	}
	f := r.PostForm
	scope := f.Get("scope")
	if scope != ScopeRead && scope != ScopeRead+" "+ScopeWrite {
		s.showAccount(w, r, sess, http.StatusBadRequest, fmt.Sprintf("Choose the token's access: %q (read only) or %q (read and write).", ScopeRead, ScopeRead+" "+ScopeWrite), "")
		return
	}
	days, err := strconv.Atoi(f.Get("days"))
	if err != nil || days < 1 || days > 366 {
		s.showAccount(w, r, sess, http.StatusBadRequest, "Choose how long the token lives: 1 to 366 days.", "")
		return
	}
	name := strings.TrimSpace(f.Get("name"))
	if len(name) > 100 {
		s.showAccount(w, r, sess, http.StatusBadRequest, "The token's name is longer than 100 characters.", "")
		return
	}
	if ok, msg := s.checkReauth(w, r, sess); !ok {
		s.showAccount(w, r, sess, http.StatusForbidden, msg, "")
		return
	}
	tok, p, err := CreatePersonalToken(r.Context(), s.st, PersonalTokenRequest{Account: sess.Account, Name: name, Scope: scope,
		TTL: time.Duration(days) * 24 * time.Hour, Issuer: s.opts.Issuer, Resource: s.opts.Resource,
		KeyRetention: KeyRetention(s.opts.AccessTokenTTL), SecretKey: s.opts.SecretKey}, s.opts.Now())
	if err != nil {
		s.log.Error("create personal access token", "err", err)
		s.showAccount(w, r, sess, http.StatusInternalServerError, "The server could not create the token; try again.", "")
		return
	}
	s.log.Info("personal access token created on the account page", "account", sess.Account.ID, "token", p.ID)
	csrf := s.pageCSRF(w, r)
	s.pages.render(w, http.StatusOK, "token", &pageData{Title: "Your new personal access token", Token: tok, Referrer: "same-origin",
		Nav: s.navBar(sess.Account, csrf), Name: p.Name, Scopes: strings.Fields(p.Scope), Message: pageTime(p.ExpiresAt), Hint: s.opts.Resource})
}

// handleRevokeToken revokes one of the account's personal access tokens.
func (s *Server) handleRevokeToken(w http.ResponseWriter, r *http.Request) {
	sess := s.accountForm(w, r)
	if sess == nil {
		return
	}
	id := r.PostForm.Get("token_id")
	tokens, err := s.accountTokens(r.Context(), sess.Account.ID)
	if err != nil {
		s.log.Error("list personal access tokens", "err", err)
		s.showAccount(w, r, sess, http.StatusInternalServerError, "The server could not read your tokens; try again.", "")
		return
	}
	if !slices.ContainsFunc(tokens, func(p *PersonalToken) bool { return p.ID == id }) {
		s.showAccount(w, r, sess, http.StatusNotFound, "That token is not one of yours.", "")
		return
	}
	if _, err := RevokePersonalToken(r.Context(), s.st, id, s.opts.Now()); err != nil {
		s.log.Error("revoke personal access token", "err", err)
		s.showAccount(w, r, sess, http.StatusInternalServerError, "The server could not revoke the token; try again.", "")
		return
	}
	s.log.Info("personal access token revoked on the account page", "account", sess.Account.ID, "token", id)
	s.backToAccount(w, r, "token_revoked")
}

// handleChangePassword changes a local account's password: the current
// one is required, and every other session ends (this one continues with
// a renewed cookie, since the old one names the old password).
func (s *Server) handleChangePassword(w http.ResponseWriter, r *http.Request) {
	sess := s.accountForm(w, r)
	if sess == nil {
		return
	}
	a := sess.Account
	if a.PasswordHash == noPasswordHash {
		s.showAccount(w, r, sess, http.StatusBadRequest, "This account signs in through a provider and has no password here.", "")
		return
	}
	f := r.PostForm
	if ok, wait := s.login.allow(r); !ok {
		s.showAccount(w, r, sess, http.StatusTooManyRequests, fmt.Sprintf("Too many password attempts from your address; try again in %d seconds.", int(wait.Seconds())+1), "")
		return
	}
	if _, err := s.checkCredentials(r.Context(), a.Email, f.Get("current_password"), netaddr.Client(r)); err != nil {
		msg := "The current password is wrong; nothing was changed."
		var le *lockedError
		if errors.As(err, &le) {
			msg = le.Error() + "."
		}
		s.showAccount(w, r, sess, http.StatusForbidden, msg, "")
		return
	}
	pw := f.Get("new_password")
	if err := CheckPassword(pw); err != nil {
		s.showAccount(w, r, sess, http.StatusBadRequest, "The new password was not accepted: "+err.Error()+".", "")
		return
	}
	if pw != f.Get("confirm_password") {
		s.showAccount(w, r, sess, http.StatusBadRequest, "The new password and its confirmation differ; nothing was changed.", "")
		return
	}
	hash, err := hashPassword(pw, s.argon)
	if err != nil {
		s.showAccount(w, r, sess, http.StatusInternalServerError, "The server could not hash the password; try again.", "")
		return
	}
	now := s.opts.Now()
	a.PasswordHash, a.UpdatedAt = hash, now
	err = s.st.InTx(r.Context(), func(tx store.Ops) error {
		if err := tx.UpdateLocalAccount(r.Context(), a); err != nil {
			return err
		}
		_, err := tx.RevokeBrowserSessions(r.Context(), a.ID, sess.ID, now)
		return err
	})
	if err != nil {
		s.log.Error("change password", "err", err)
		s.showAccount(w, r, sess, http.StatusInternalServerError, "The server could not change the password; try again.", "")
		return
	}
	sess.AuthTime = now
	if err := s.writeSessionCookie(r.Context(), w, sess); err != nil {
		s.log.Error("renew session after a password change", "err", err)
	}
	s.log.Info("password changed on the account page", "account", a.ID)
	s.backToAccount(w, r, "password_changed")
}
