package authserver

import (
	"context"
	"fmt"

	"github.com/golang-jwt/jwt/v5"

	"github.com/atomcp/atomcp/internal/auth"
)

// EmbeddedIssuer is the issuer under which users of the embedded
// authorization server are stored: the resource server's verifier emits
// it (auth.JWTConfig.IssuerAlias) in place of Issuer(). The real issuer is
// the public base URL, which changes when the server moves (another port,
// a domain); keying the users by it would make every account a stranger
// to its own data.
const EmbeddedIssuer = "atomcp:embedded"

// AccessKeyfunc is the key lookup for the resource server's JWT verifier
// (auth.LocalKeys): the key of the token's kid. The verifier does the rest
// (signature, iss, aud, exp, and revocation through TokenRevoked).
func (s *Server) AccessKeyfunc(ctx context.Context) jwt.Keyfunc {
	return s.keys.Keyfunc(ctx)
}

// TokenRevoked reports whether the access token with id jti was revoked
// (RFC 7009, its family after a replay), or fails with
// auth.ErrAccountDisabled when its subject's account is disabled, so that
// a disabled account's access tokens stop at once rather than at their
// expiry: the resource server's verifier hook (auth.JWTConfig.Revoked).
// One store query answers both.
func (s *Server) TokenRevoked(ctx context.Context, jti, subject string) (bool, error) {
	r, err := s.st.AccessTokenRefused(ctx, jti, subject)
	if err != nil {
		return false, fmt.Errorf("check revocation: %w", err)
	}
	if r.Denied || !r.AccountDisabled {
		return r.Denied, nil // a revoked token says so, whatever its account
	}
	return true, auth.ErrAccountDisabled
}
