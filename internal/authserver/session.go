package authserver

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

const (
	csrfCookie    = "atomcp_csrf"
	sessionCookie = "atomcp_session"
	// sessionAudience keeps a session cookie from ever passing as an
	// access token (and the reverse): both are signed with the same keys.
	sessionAudience = "atomcp-login-session"
	// maxUserAgent bounds the User-Agent kept with a browser session.
	maxUserAgent = 200
)

// cookiePath is the path of the server's cookies: the issuer's whole
// path, so that the session reaches the sign-in pages under /oauth and
// the person's own pages (/account, /admin) alike.
func (s *Server) cookiePath() string {
	if p := issuerPath(s.opts.Issuer); p != "" {
		return p + "/"
	}
	return "/"
}

// legacyCookiePath is where versions before the account page kept the
// session and CSRF cookies. A browser sends a cookie of the longer path
// first, so the old ones are deleted whenever new ones are set.
func (s *Server) legacyCookiePath() string { return issuerPath(s.opts.Issuer) + "/oauth" }

func (s *Server) secureCookies() bool { return strings.HasPrefix(s.opts.Issuer, "https://") }

// expireCookie deletes the cookie name at path.
func (s *Server) expireCookie(w http.ResponseWriter, name, path string, sameSite http.SameSite) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: path, HttpOnly: true, Secure: s.secureCookies(), SameSite: sameSite, MaxAge: -1}) // #nosec G124 -- deletes the cookie (empty, MaxAge -1); HttpOnly, Secure whenever the issuer is https, SameSite Lax or Strict from every caller
}

// newCSRF sets a fresh CSRF cookie and returns the token the form must
// echo (double submit). The cookie is SameSite=Strict and HttpOnly: a page
// of another site can neither send it nor read it, so it cannot forge the
// form field to match.
func (s *Server) newCSRF(w http.ResponseWriter) string {
	tok := newSecret()
	s.expireCookie(w, csrfCookie, s.legacyCookiePath(), http.SameSiteStrictMode)
	http.SetCookie(w, &http.Cookie{ // #nosec G124 -- HttpOnly and SameSite=Strict; Secure whenever the issuer is https (on http://127.0.0.1 a Secure cookie would never come back)
		Name: csrfCookie, Value: tok, Path: s.cookiePath(), HttpOnly: true,
		Secure: s.secureCookies(), SameSite: http.SameSiteStrictMode, MaxAge: int(time.Hour.Seconds()),
	})
	return tok
}

// pageCSRF is the CSRF token of the signed-in pages: the browser's
// current one when it has one (its cookie renewed), so that several tabs
// of the account page keep working, else a fresh one.
func (s *Server) pageCSRF(w http.ResponseWriter, r *http.Request) string {
	for _, c := range r.CookiesNamed(csrfCookie) {
		if len(c.Value) >= 32 && len(c.Value) <= 128 {
			http.SetCookie(w, &http.Cookie{ // #nosec G124 -- HttpOnly and SameSite=Strict; Secure whenever the issuer is https (on http://127.0.0.1 a Secure cookie would never come back)
				Name: csrfCookie, Value: c.Value, Path: s.cookiePath(), HttpOnly: true,
				Secure: s.secureCookies(), SameSite: http.SameSiteStrictMode, MaxAge: int(time.Hour.Seconds()),
			})
			return c.Value
		}
	}
	return s.newCSRF(w)
}

// checkCSRF reports whether a form POST carries the token of its cookie
// (of any of its cookies: one of an older path may still be there).
func checkCSRF(r *http.Request) bool {
	field := r.PostForm.Get("csrf_token")
	if field == "" {
		return false
	}
	for _, c := range r.CookiesNamed(csrfCookie) {
		if c.Value != "" && equalSecret(c.Value, field) {
			return true
		}
	}
	return false
}

// sessionClaims are the claims of the login session cookie. PasswordTag
// is a digest of the password hash, so that resetting a password ends
// every session signed in with the old one. SessionID names the
// browser_sessions row, which sign-out (here or everywhere) revokes.
// AuthTime is when the person last proved who they are (signed in, or
// typed their password again): sensitive actions want it recent.
type sessionClaims struct {
	jwt.RegisteredClaims
	PasswordTag string `json:"pwt"`
	SessionID   string `json:"sid"`
	AuthTime    int64  `json:"auth_time"`
}

func passwordTag(hash string) string { return hashSecret(hash)[:16] }

// session is a valid browser session.
type session struct {
	ID        string
	Account   *store.LocalAccount
	AuthTime  time.Time
	ExpiresAt time.Time
}

// setSession signs the account in, in this browser: a new session row
// and its cookie. A session the browser had before is revoked, since its
// cookie is replaced.
func (s *Server) setSession(w http.ResponseWriter, r *http.Request, a *store.LocalAccount) error {
	ctx := r.Context()
	now := s.opts.Now()
	if old := s.currentSession(r); old != nil {
		if err := s.st.RevokeBrowserSession(ctx, old.ID, now); err != nil {
			s.log.Warn("revoke the replaced browser session", "err", err)
		}
	}
	ua := r.UserAgent()
	if len(ua) > maxUserAgent {
		ua = ua[:maxUserAgent]
	}
	sess := &session{ID: uuid.NewString(), Account: a, AuthTime: now, ExpiresAt: now.Add(s.opts.SessionTTL)}
	if err := s.st.CreateBrowserSession(ctx, &store.BrowserSession{ID: sess.ID, AccountID: a.ID, UserAgent: strings.ToValidUTF8(ua, ""),
		CreatedAt: now, ExpiresAt: sess.ExpiresAt}); err != nil {
		return err
	}
	return s.writeSessionCookie(ctx, w, sess)
}

// writeSessionCookie signs sess into the session cookie.
func (s *Server) writeSessionCookie(ctx context.Context, w http.ResponseWriter, sess *session) error {
	now := s.opts.Now()
	tok, err := s.keys.sign(ctx, &sessionClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: s.opts.Issuer, Subject: sess.Account.ID, Audience: jwt.ClaimStrings{sessionAudience},
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(sess.ExpiresAt),
		},
		PasswordTag: passwordTag(sess.Account.PasswordHash), SessionID: sess.ID, AuthTime: sess.AuthTime.Unix(),
	}, "")
	if err != nil {
		return err
	}
	s.expireCookie(w, sessionCookie, s.legacyCookiePath(), http.SameSiteLaxMode)
	http.SetCookie(w, &http.Cookie{ // #nosec G124 -- HttpOnly, SameSite=Lax (set below); Secure whenever the issuer is https (on http://127.0.0.1 a Secure cookie would never come back)
		Name: sessionCookie, Value: tok, Path: s.cookiePath(), HttpOnly: true,
		// Lax: the authorization request arrives as a top-level
		// navigation from the client, and must see the session.
		Secure: s.secureCookies(), SameSite: http.SameSiteLaxMode, MaxAge: max(int(sess.ExpiresAt.Sub(now).Seconds()), 1),
	})
	return nil
}

// clearSession deletes the session cookies of this browser (the row is
// the caller's to revoke).
func (s *Server) clearSession(w http.ResponseWriter) {
	s.expireCookie(w, sessionCookie, s.cookiePath(), http.SameSiteLaxMode)
	s.expireCookie(w, sessionCookie, s.legacyCookiePath(), http.SameSiteLaxMode)
}

// sessionAccount returns the signed-in account, or nil (see
// currentSession).
func (s *Server) sessionAccount(r *http.Request) *store.LocalAccount {
	if sess := s.currentSession(r); sess != nil {
		return sess.Account
	}
	return nil
}

// currentSession returns the browser's valid session, or nil: no cookie,
// a bad or expired one, one of before browser sessions were recorded, a
// revoked session (signed out), a disabled account, or a password changed
// since.
func (s *Server) currentSession(r *http.Request) *session {
	for _, c := range r.CookiesNamed(sessionCookie) {
		if sess := s.parseSession(r.Context(), c.Value); sess != nil {
			return sess
		}
	}
	return nil
}

func (s *Server) parseSession(ctx context.Context, value string) *session {
	if value == "" {
		return nil
	}
	var claims sessionClaims
	_, err := jwt.ParseWithClaims(value, &claims, s.keys.Keyfunc(ctx),
		jwt.WithValidMethods([]string{signingAlg}), jwt.WithIssuer(s.opts.Issuer), jwt.WithAudience(sessionAudience),
		jwt.WithExpirationRequired(), jwt.WithTimeFunc(s.opts.Now))
	if err != nil || claims.SessionID == "" {
		return nil
	}
	bs, err := s.st.GetBrowserSession(ctx, claims.SessionID)
	if err != nil || bs.RevokedAt != nil || bs.AccountID != claims.Subject || !s.opts.Now().Before(bs.ExpiresAt) {
		return nil
	}
	a, err := s.st.GetLocalAccount(ctx, claims.Subject)
	if err != nil || a.DisabledAt != nil || !equalSecret(passwordTag(a.PasswordHash), claims.PasswordTag) {
		return nil
	}
	return &session{ID: bs.ID, Account: a, AuthTime: time.Unix(claims.AuthTime, 0), ExpiresAt: bs.ExpiresAt}
}

// endSession signs this browser out: its session is revoked and its
// cookie deleted.
func (s *Server) endSession(w http.ResponseWriter, r *http.Request, sess *session) error {
	s.clearSession(w)
	if sess == nil {
		return nil
	}
	if err := s.st.RevokeBrowserSession(r.Context(), sess.ID, s.opts.Now()); err != nil && !errors.Is(err, domain.ErrNotFound) {
		return err
	}
	return nil
}
