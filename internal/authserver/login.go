package authserver

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/netaddr"
	"github.com/atomcp/atomcp/internal/store"
)

// Back-off after wrong passwords: the first freeFailures cost nothing,
// then each doubles the lock-out, up to maxLockout.
const (
	freeFailures = 3
	maxLockout   = 15 * time.Minute
)

// lockoutAfter returns how long an account is locked after n consecutive
// wrong passwords.
func lockoutAfter(n int) time.Duration {
	if n < freeFailures {
		return 0
	}
	exp := n - freeFailures
	if exp > 20 {
		return maxLockout
	}
	return min(time.Duration(math.Pow(2, float64(exp)))*time.Second, maxLockout)
}

// dummyHash is verified against when the email is unknown, so that an
// unknown email costs as much time as a wrong password and the timing does
// not tell which accounts exist.
// It is computed on first use: commands that never check a password do
// not pay for it.
var dummyHash = sync.OnceValue(func() string {
	h, _ := hashPassword("no account has this password", defaultArgon)
	return h
})

// errLocked is returned, wrapped, while an account is locked out.
type lockedError struct{ wait time.Duration }

func (e *lockedError) Error() string {
	return fmt.Sprintf("too many wrong passwords for this email from your address; try again in %d seconds", int(math.Ceil(e.wait.Seconds())))
}

var (
	errBadCredentials = errors.New("wrong email or password")
	errDisabled       = errors.New("this account is disabled; ask the server's operator")
)

// checkCredentials returns the account whose email and password these
// are, for a sign-in from the client address addr. Wrong passwords are
// counted per email and address (loginGuard) and earn that pair a growing
// lock-out; the account itself is never locked, so guesses from one
// address cannot lock its owner out elsewhere. Every path verifies one
// argon2id hash, and a known, an unknown and a locked email get the same
// errors, so neither the answer nor its timing tells them apart.
func (s *Server) checkCredentials(ctx context.Context, email, password, addr string) (*store.LocalAccount, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	key := guardKey(email, addr)
	now := s.opts.Now()
	if wait := s.guard.locked(key, now); wait > 0 {
		_, _ = verifyPassword(password, s.dummyHash())
		return nil, &lockedError{wait: wait}
	}
	a, err := s.st.GetLocalAccountByEmail(ctx, email)
	if errors.Is(err, domain.ErrNotFound) {
		_, _ = verifyPassword(password, s.dummyHash())
		s.guard.fail(key, now)
		return nil, errBadCredentials
	}
	if err != nil {
		return nil, err
	}
	if a.PasswordHash == noPasswordHash {
		// Created at an upstream sign-in: it has no password.
		_, _ = verifyPassword(password, s.dummyHash())
		s.guard.fail(key, now)
		return nil, errBadCredentials
	}
	ok, err := verifyPassword(password, a.PasswordHash)
	if err != nil {
		return nil, fmt.Errorf("verify password of %s: %w", a.ID, err)
	}
	if !ok {
		n := s.guard.fail(key, now)
		s.log.Warn("wrong password", "account", a.ID, "consecutive_failures_from_address", n)
		return nil, errBadCredentials
	}
	s.guard.succeed(key)
	if a.DisabledAt != nil {
		// Said only to someone who knows the password.
		return nil, errDisabled
	}
	if a.FailedLogins != 0 || a.LockedUntil != nil {
		// Counts an older atomcp kept on the account.
		a.FailedLogins, a.LockedUntil, a.UpdatedAt = 0, nil, now
		if err := s.st.UpdateLocalAccount(ctx, a); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// dummyHash is the hash verified for unknown emails, with this server's
// cost parameters so that it takes as long as a real one.
func (s *Server) dummyHash() string {
	if s.argon == defaultArgon {
		return dummyHash()
	}
	h, _ := hashPassword("no account has this password", s.argon)
	return h
}

// passwordSignin checks the form's password for email. It returns the
// account, or the status and message of the refusal.
func (s *Server) passwordSignin(r *http.Request, email string) (*store.LocalAccount, int, string) {
	acct, err := s.checkCredentials(r.Context(), email, r.PostForm.Get("password"), netaddr.Client(r))
	var locked *lockedError
	switch {
	case errors.As(err, &locked):
		s.event(EventSignInFailed)
		return nil, http.StatusTooManyRequests, locked.Error() + "."
	case errors.Is(err, errBadCredentials):
		s.event(EventSignInFailed)
		return nil, http.StatusUnauthorized, "Wrong email or password."
	case errors.Is(err, errDisabled):
		s.event(EventSignInFailed)
		return nil, http.StatusForbidden, "This account is disabled; ask the server's operator."
	case err != nil:
		s.log.Error("sign in", "err", err)
		return nil, http.StatusInternalServerError, "The server could not check your password; try again."
	}
	return acct, 0, ""
}

// handleLogin receives the sign-in form.
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	if ok, wait := s.login.allow(r); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		http.Error(w, fmt.Sprintf("Too many sign-in attempts from your address; try again in %d seconds.", int(wait.Seconds())+1), http.StatusTooManyRequests)
		return
	}
	if !s.parseForm(w, r) {
		return
	}
	if r.PostForm.Get("authz") == "" && r.PostForm.Has("return") {
		s.handleStandaloneLogin(w, r)
		return
	}
	req, e := s.parseAuthzRequest(r, r.PostForm.Get("authz"))
	if e != nil {
		s.failRequest(w, r, req, e)
		return
	}
	if !checkCSRF(r) {
		s.renderError(w, http.StatusForbidden, "This form expired or was not sent by this server's page (its CSRF token is missing or wrong), so it was not accepted.",
			"Go back to your application and start signing in again.")
		return
	}
	if s.opts.NoPassword {
		s.showLogin(w, r, req, http.StatusForbidden, "", "Signing in with a password is turned off on this server; use a button below.")
		return
	}
	email := r.PostForm.Get("email")
	acct, status, msg := s.passwordSignin(r, email)
	if acct == nil {
		if status == http.StatusInternalServerError {
			s.renderError(w, status, msg, "")
			return
		}
		s.showLogin(w, r, req, status, email, msg)
		return
	}
	if err := s.setSession(w, r, acct); err != nil {
		s.log.Error("start session", "err", err)
		s.renderError(w, http.StatusInternalServerError, "The server could not sign you in; try again.", "")
		return
	}
	s.event(EventSignInOK)
	s.log.Info("signed in", "account", acct.ID)
	s.continueSignedIn(w, r, req, acct, false)
}

// signinButton is one connector on the sign-in page.
type signinButton struct{ Name, URL string }

// showLogin shows the sign-in page: a button per connector and the
// password form if it is on. With one connector and no password form
// there is nothing to choose, and the browser goes straight to the
// provider.
func (s *Server) showLogin(w http.ResponseWriter, r *http.Request, req *authzRequest, status int, email, msg string) {
	if s.opts.NoPassword && len(s.opts.Connectors) == 1 && msg == "" {
		s.startSignin(w, r, req, "", s.opts.Connectors[0])
		return
	}
	n, err := s.st.CountLocalAccounts(r.Context())
	if err != nil {
		s.log.Error("count accounts", "err", err)
		s.renderError(w, http.StatusInternalServerError, "The server could not read its accounts; try again.", "")
		return
	}
	if n == 0 && !s.opts.NoPassword {
		s.offerSetupLink(r.Context())
	}
	var buttons []signinButton
	for _, c := range s.opts.Connectors {
		buttons = append(buttons, signinButton{Name: c.Name(), URL: s.signinURL(c, req)})
	}
	s.pages.render(w, status, "login", &pageData{
		Title: "Sign in", Error: msg, ClientName: req.client.Name, RedirectHost: redirectHost(req.redirectURI),
		Email: email, Authz: req.raw, CSRF: s.newCSRF(w), LoginAction: s.opts.Issuer + PathLogin,
		NoAccounts: n == 0 && len(buttons) == 0, Password: !s.opts.NoPassword, Connectors: buttons,
	})
}

// handleLoginPage is the sign-in page of this server's own pages
// (/account): GET /oauth/login?return=PATH, with no MCP client involved.
// Signed in already, the browser goes straight to PATH.
func (s *Server) handleLoginPage(w http.ResponseWriter, r *http.Request) {
	ret := safeReturn(r.URL.Query().Get("return"))
	if ret == "" {
		ret = PathAccount
	}
	if s.currentSession(r) != nil {
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, s.opts.Issuer+ret, http.StatusFound) // #nosec G710 -- ret was checked by safeReturn to be a local path (else PathAccount), behind this server's issuer
		return
	}
	s.showStandaloneLogin(w, r, ret, http.StatusOK, "", "")
}

// handleStandaloneLogin receives the password form of that page.
func (s *Server) handleStandaloneLogin(w http.ResponseWriter, r *http.Request) {
	ret := safeReturn(r.PostForm.Get("return"))
	if ret == "" {
		ret = PathAccount
	}
	if !checkCSRF(r) {
		s.renderPageError(w, http.StatusForbidden, "Sign in",
			"This form expired or was not sent by this server's page (its CSRF token is missing or wrong), so it was not accepted.", "Reload the page and sign in again.")
		return
	}
	if s.opts.NoPassword {
		s.showStandaloneLogin(w, r, ret, http.StatusForbidden, "", "Signing in with a password is turned off on this server; use a button below.")
		return
	}
	email := r.PostForm.Get("email")
	acct, status, msg := s.passwordSignin(r, email)
	if acct == nil {
		s.showStandaloneLogin(w, r, ret, status, email, msg)
		return
	}
	if err := s.setSession(w, r, acct); err != nil {
		s.log.Error("start session", "err", err)
		s.renderPageError(w, http.StatusInternalServerError, "Sign in", "The server could not sign you in; try again.", "")
		return
	}
	s.event(EventSignInOK)
	s.log.Info("signed in", "account", acct.ID)
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, s.opts.Issuer+ret, http.StatusSeeOther) // #nosec G710 -- ret was checked by safeReturn to be a local path (else PathAccount), behind this server's issuer
}

// showStandaloneLogin shows the sign-in page that returns to ret.
func (s *Server) showStandaloneLogin(w http.ResponseWriter, r *http.Request, ret string, status int, email, msg string) {
	if s.opts.NoPassword && len(s.opts.Connectors) == 1 && msg == "" {
		s.startSignin(w, r, nil, ret, s.opts.Connectors[0])
		return
	}
	n, err := s.st.CountLocalAccounts(r.Context())
	if err != nil {
		s.log.Error("count accounts", "err", err)
		s.renderPageError(w, http.StatusInternalServerError, "Sign in", "The server could not read its accounts; try again.", "")
		return
	}
	buttons := s.reauthButtons(ret)
	s.pages.render(w, status, "login", &pageData{
		Title: "Sign in", Error: msg, Email: email, Return: ret, CSRF: s.newCSRF(w), LoginAction: s.opts.Issuer + PathLogin,
		NoAccounts: n == 0 && len(buttons) == 0, Password: !s.opts.NoPassword, Connectors: buttons,
	})
}
