package authserver

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/atomcp/atomcp/internal/netaddr"
)

// The person's own pages (/account here, /admin beside it) are reached
// with the browser session cookie, not a bearer token, so every change
// they make is a form POST guarded three ways: the double-submit CSRF
// token, a same-origin check of the request (Sec-Fetch-Site, else
// Origin), and, before sensitive actions, a recent proof of who is there
// (re-authentication). They are not CORS resources: no page of another
// origin may read them.

// Paths of the person's own pages and of sign-out.
const (
	PathAccount = "/account"
	PathLogout  = "/oauth/logout"
)

// pagePaths are the signed-in pages: each path and everything below it.
// A page added here is mounted by Routes, owned by OwnsForm (so that
// internal/httpserver applies no CORS to it) and nothing else is needed.
var pagePaths = []string{PathAccount, PathAdmin, PathInvite}

// isPagePath reports whether path is one of the signed-in pages.
func isPagePath(path string) bool {
	for _, p := range pagePaths {
		if path == p || strings.HasPrefix(path, p+"/") {
			return true
		}
	}
	return false
}

// reauthWindow is how recent a sign-in (or a typed password) must be for
// a sensitive action without asking for the password again.
const reauthWindow = 10 * time.Minute

// issuerOrigin is the scheme and host of the issuer.
func (s *Server) issuerOrigin() string {
	u, err := url.Parse(s.opts.Issuer)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// sameOrigin reports whether a POST was sent by a page of this server.
// Sec-Fetch-Site, which a page cannot forge and every current browser
// sends, must be same-origin. Without it, an Origin must be this
// server's (never "null": another site can make its posts send null).
// A request with neither comes from no browser that could carry a
// victim's cookies; the CSRF token alone decides it.
func (s *Server) sameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" {
		return site == "same-origin"
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	if strings.EqualFold(origin, s.issuerOrigin()) {
		return true
	}
	u, err := url.Parse(s.opts.Issuer)
	return err == nil && strings.EqualFold(origin, u.Scheme+"://"+r.Host)
}

// acceptForm parses a POST to a signed-in page and checks that this
// server's page sent it: same origin and the CSRF token of the cookie.
// Otherwise it answers 403 with a page, and the caller changes nothing.
func (s *Server) acceptForm(w http.ResponseWriter, r *http.Request) bool {
	if !s.sameOrigin(r) {
		s.log.Warn("cross-origin form post refused", "path", r.URL.Path, "origin", r.Header.Get("Origin"), "sec_fetch_site", r.Header.Get("Sec-Fetch-Site"))
		s.renderPageError(w, http.StatusForbidden, "This form was not accepted",
			"This request did not come from this server's own page (it was sent by another site), so nothing was changed.",
			"If you meant to do this, open "+s.opts.Issuer+PathAccount+" and use the form there.")
		return false
	}
	if !s.parseForm(w, r) {
		return false
	}
	if !checkCSRF(r) {
		s.renderPageError(w, http.StatusForbidden, "This form was not accepted",
			"This form expired or was not sent by this server's page (its CSRF token is missing or wrong), so nothing was changed.",
			"Reload the page and try again.")
		return false
	}
	return true
}

// requireCurrentSession returns the signed-in session (its account, its
// id and when its person last authenticated), or sends the browser to
// the sign-in page, which returns here afterwards, and returns nil.
func (s *Server) requireCurrentSession(w http.ResponseWriter, r *http.Request) *session {
	if sess := s.currentSession(r); sess != nil {
		return sess
	}
	ret := r.URL.Path
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		if r.URL.RawQuery != "" {
			ret += "?" + r.URL.RawQuery
		}
	} else {
		// A form posted after the session ended: back to its page, not
		// to the action, which a GET cannot repeat.
		ret = "/" + strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 2)[0]
	}
	status := http.StatusFound
	if r.Method == http.MethodPost {
		status = http.StatusSeeOther
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, s.loginURL(ret), status)
	return nil
}

// loginURL is the sign-in page that returns to the local path ret.
func (s *Server) loginURL(ret string) string {
	return s.opts.Issuer + PathLogin + "?" + url.Values{"return": {ret}}.Encode()
}

// safeReturn returns p if it is a path of this server to return to after
// signing in, and "" otherwise: only a local absolute path ("/…"), never
// "//host" or "/\host" (which browsers read as another host), a scheme,
// or control characters. It is what keeps the sign-in page from being an
// open redirect.
func safeReturn(p string) string {
	if p == "" || len(p) > 1024 || p[0] != '/' || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "\\\r\n\t\x00") {
		return ""
	}
	for _, c := range p {
		if c < 0x20 || c == 0x7f {
			return ""
		}
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.Opaque != "" || u.User != nil {
		return ""
	}
	return p
}

// checkReauth reports whether the person posting r proved recently who
// they are: signed in within reauthWindow, or typed their password in
// this form's current_password field (which renews the session's proof).
// Otherwise it returns the message to show. An account without a
// password (signed in through a provider) proves it by signing in again
// there (reauthButtons).
func (s *Server) checkReauth(w http.ResponseWriter, r *http.Request, sess *session) (bool, string) {
	now := s.opts.Now()
	if now.Sub(sess.AuthTime) <= reauthWindow {
		return true, ""
	}
	pw := r.PostForm.Get("current_password")
	if sess.Account.PasswordHash == noPasswordHash {
		return false, "For this, confirm it is you: sign in again with your provider (a button below), then repeat the action within 10 minutes."
	}
	if pw == "" {
		return false, "For this, confirm it is you: type your current password (you signed in more than 10 minutes ago)."
	}
	if ok, wait := s.login.allow(r); !ok {
		return false, fmt.Sprintf("Too many password attempts from your address; try again in %d seconds.", int(wait.Seconds())+1)
	}
	a, err := s.checkCredentials(r.Context(), sess.Account.Email, pw, netaddr.Client(r))
	if err != nil || a.ID != sess.Account.ID {
		var le *lockedError
		if errors.As(err, &le) {
			return false, le.Error() + "."
		}
		return false, "The current password is wrong; nothing was changed."
	}
	sess.AuthTime = now
	if err := s.writeSessionCookie(r.Context(), w, sess); err != nil {
		s.log.Error("renew session", "err", err)
	}
	return true, ""
}

// needsReauth reports whether a sensitive form should ask for the
// password (or a new sign-in) now.
func (s *Server) needsReauth(sess *session) bool {
	return s.opts.Now().Sub(sess.AuthTime) > reauthWindow
}

// reauthButtons are the connectors' sign-in buttons that return to ret:
// how an account without a password re-authenticates.
func (s *Server) reauthButtons(ret string) []signinButton {
	var out []signinButton
	for _, c := range s.opts.Connectors {
		out = append(out, signinButton{Name: c.Name(), URL: s.standaloneSigninURL(c, ret)})
	}
	return out
}

// standaloneSigninURL is the link of a connector's button on a sign-in
// that returns to ret rather than to an MCP client.
func (s *Server) standaloneSigninURL(c interface{ ID() string }, ret string) string {
	return s.opts.Issuer + PathSignin + "?" + url.Values{"connector": {c.ID()}, "return": {ret}}.Encode()
}
