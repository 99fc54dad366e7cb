package authserver

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/atomcp/atomcp/internal/store"
)

const (
	csrfCookie    = "atomcp_csrf"
	sessionCookie = "atomcp_session"
	// sessionAudience keeps a session cookie from ever passing as an
	// access token (and the reverse): both are signed with the same keys.
	sessionAudience = "atomcp-login-session"
)

func (s *Server) cookiePath() string { return issuerPath(s.opts.Issuer) + "/oauth" }

func (s *Server) secureCookies() bool { return strings.HasPrefix(s.opts.Issuer, "https://") }

// newCSRF sets a fresh CSRF cookie and returns the token the form must
// echo (double submit). The cookie is SameSite=Strict and HttpOnly: a page
// of another site can neither send it nor read it, so it cannot forge the
// form field to match.
func (s *Server) newCSRF(w http.ResponseWriter) string {
	tok := newSecret()
	http.SetCookie(w, &http.Cookie{ // #nosec G124 -- HttpOnly and SameSite=Strict; Secure whenever the issuer is https (on http://127.0.0.1 a Secure cookie would never come back)
		Name: csrfCookie, Value: tok, Path: s.cookiePath(), HttpOnly: true,
		Secure: s.secureCookies(), SameSite: http.SameSiteStrictMode, MaxAge: int(time.Hour.Seconds()),
	})
	return tok
}

// checkCSRF reports whether a form POST carries the token of its cookie.
func checkCSRF(r *http.Request) bool {
	c, err := r.Cookie(csrfCookie)
	field := r.PostForm.Get("csrf_token")
	return err == nil && c.Value != "" && field != "" && equalSecret(c.Value, field)
}

// sessionClaims are the claims of the login session cookie. PasswordTag
// is a digest of the password hash, so that resetting a password ends
// every session signed in with the old one.
type sessionClaims struct {
	jwt.RegisteredClaims
	PasswordTag string `json:"pwt"`
}

func passwordTag(hash string) string { return hashSecret(hash)[:16] }

// setSession signs the account in, in this browser.
func (s *Server) setSession(ctx context.Context, w http.ResponseWriter, a *store.LocalAccount) error {
	now := s.opts.Now()
	tok, err := s.keys.sign(ctx, &sessionClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: s.opts.Issuer, Subject: a.ID, Audience: jwt.ClaimStrings{sessionAudience},
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(s.opts.SessionTTL)),
		},
		PasswordTag: passwordTag(a.PasswordHash),
	}, "")
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{ // #nosec G124 -- HttpOnly, SameSite=Lax (set below); Secure whenever the issuer is https (on http://127.0.0.1 a Secure cookie would never come back)
		Name: sessionCookie, Value: tok, Path: s.cookiePath(), HttpOnly: true,
		// Lax: the authorization request arrives as a top-level
		// navigation from the client, and must see the session.
		Secure: s.secureCookies(), SameSite: http.SameSiteLaxMode, MaxAge: int(s.opts.SessionTTL.Seconds()),
	})
	return nil
}

// sessionAccount returns the signed-in account, or nil: no cookie, a bad
// or expired one, a disabled account, or a password changed since.
func (s *Server) sessionAccount(r *http.Request) *store.LocalAccount {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil
	}
	var claims sessionClaims
	_, err = jwt.ParseWithClaims(c.Value, &claims, s.keys.Keyfunc(r.Context()),
		jwt.WithValidMethods([]string{signingAlg}), jwt.WithIssuer(s.opts.Issuer), jwt.WithAudience(sessionAudience),
		jwt.WithExpirationRequired(), jwt.WithTimeFunc(s.opts.Now))
	if err != nil {
		return nil
	}
	a, err := s.st.GetLocalAccount(r.Context(), claims.Subject)
	if err != nil || a.DisabledAt != nil || !equalSecret(passwordTag(a.PasswordHash), claims.PasswordTag) {
		return nil
	}
	return a
}
