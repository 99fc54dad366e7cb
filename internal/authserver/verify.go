package authserver

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// ErrTokenRevoked is returned, wrapped, by AccessKeyfunc for a token that
// was revoked (RFC 7009, or its family after a replay).
var ErrTokenRevoked = errors.New("the access token was revoked")

// AccessKeyfunc is the key lookup for the resource server's JWT verifier
// (auth.LocalKeys): the key of the token's kid, unless the token's jti is
// on the deny-list. The verifier does the rest (signature, iss, aud, exp).
//
// The deny-list is checked here because the verifier has no hook for it;
// the token is then refused with the verifier's key-lookup message, while
// the wrapped ErrTokenRevoked says why.
func (s *Server) AccessKeyfunc(ctx context.Context) jwt.Keyfunc {
	keyfunc := s.keys.Keyfunc(ctx)
	return func(t *jwt.Token) (any, error) {
		key, err := keyfunc(t)
		if err != nil {
			return nil, err
		}
		jti, err := rawJTI(t.Raw)
		if err != nil {
			return nil, err
		}
		if jti == "" {
			return nil, errors.New("the access token has no jti")
		}
		denied, err := s.st.AccessTokenDenied(ctx, jti)
		if err != nil {
			return nil, fmt.Errorf("check revocation: %w", err)
		}
		if denied {
			return nil, ErrTokenRevoked
		}
		return key, nil
	}
}

// rawJTI reads the jti claim of a compact JWS without verifying it (the
// caller verifies the signature afterwards).
func rawJTI(raw string) (string, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return "", errors.New("malformed token")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", errors.New("malformed token payload")
	}
	var c struct {
		ID string `json:"jti"`
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return "", errors.New("malformed token claims")
	}
	return c.ID, nil
}
