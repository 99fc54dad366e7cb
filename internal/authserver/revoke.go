package authserver

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/atomcp/atomcp/internal/domain"
)

// handleRevoke is token revocation (RFC 7009). A refresh token revokes its
// whole family (and so the access tokens issued with it); an access token
// is deny-listed by its jti until it expires. Tokens that are unknown,
// invalid or another client's get the same 200 answer, as §2.2 asks, so
// that the endpoint tells nothing about them.
func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	c, oerr := s.authenticateClient(r)
	if oerr != nil {
		writeError(w, r, oerr)
		return
	}
	tok := r.PostForm.Get("token")
	if tok == "" {
		writeError(w, r, errInvalidRequest("token is missing"))
		return
	}
	ctx := r.Context()
	hint := r.PostForm.Get("token_type_hint")
	var err error
	if hint == "access_token" {
		if done, e := s.revokeAccess(ctx, c, tok); !done && e == nil {
			_, err = s.revokeRefresh(ctx, c, tok)
		} else {
			err = e
		}
	} else {
		if done, e := s.revokeRefresh(ctx, c, tok); !done && e == nil {
			_, err = s.revokeAccess(ctx, c, tok)
		} else {
			err = e
		}
	}
	if err != nil {
		s.log.Error("revoke token", "err", err)
		writeError(w, r, &oauthError{http.StatusServiceUnavailable, "temporarily_unavailable", "the token could not be revoked now; try again"})
		return
	}
	writeJSON(w, http.StatusOK, struct{}{})
}

// revokeRefresh revokes tok if it is a refresh token of c, and reports
// whether it was one.
func (s *Server) revokeRefresh(ctx context.Context, c *client, tok string) (bool, error) {
	rt, err := s.st.GetRefreshToken(ctx, hashSecret(tok))
	if errors.Is(err, domain.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if rt.ClientID != c.ID {
		return true, nil // someone else's: nothing to do, nothing to say
	}
	s.log.Info("refresh token revoked by its client", "client_id", c.ID, "family", rt.FamilyID)
	return true, s.st.RevokeTokenFamily(ctx, rt.FamilyID, s.opts.Now())
}

// revokeAccess deny-lists tok if it is a valid access token of c, and
// reports whether it was one. An expired token needs no revocation.
func (s *Server) revokeAccess(ctx context.Context, c *client, tok string) (bool, error) {
	var claims AccessClaims
	_, err := jwt.ParseWithClaims(tok, &claims, s.keys.Keyfunc(ctx), jwt.WithValidMethods([]string{signingAlg}),
		jwt.WithIssuer(s.opts.Issuer), jwt.WithExpirationRequired(), jwt.WithTimeFunc(s.opts.Now))
	if err != nil || claims.ID == "" || claims.ExpiresAt == nil {
		return false, nil
	}
	if claims.ClientID != c.ID {
		return true, nil
	}
	s.log.Info("access token revoked by its client", "client_id", c.ID, "jti", claims.ID)
	return true, s.st.DenyAccessToken(ctx, claims.ID, claims.ExpiresAt.Time.Add(time.Minute))
}
