package auth

import (
	"context"
	"errors"
	"net/http"

	sdkauth "github.com/modelcontextprotocol/go-sdk/auth"

	"github.com/atomcp/atomcp/internal/domain"
)

// Verifier checks a bearer token completely and returns what it proves.
// A token it refuses yields an *Error (a 401 invalid_token); a token that
// is not of its kind at all yields ErrUnrecognized, so that a Chain can
// ask the next verifier. r is the request the token came with: which
// audience is right can depend on the host the client connected to.
type Verifier interface {
	Verify(ctx context.Context, token string, r *http.Request) (*sdkauth.TokenInfo, error)
}

// ErrUnrecognized means a verifier does not know the token's kind (a
// static-token verifier shown a JWT, say). It is not a refusal on its own.
var ErrUnrecognized = errors.New("token not recognized by this verifier")

// Chain tries each verifier in order: the first that accepts the token
// wins, and the first refusal that is not ErrUnrecognized is final.
type Chain []Verifier

// Verify implements Verifier.
func (c Chain) Verify(ctx context.Context, token string, r *http.Request) (*sdkauth.TokenInfo, error) {
	for _, v := range c {
		info, err := v.Verify(ctx, token, r)
		if errors.Is(err, ErrUnrecognized) {
			continue
		}
		return info, err
	}
	return nil, invalidToken(nil, "the token is neither a known internal token nor a JWT this server accepts")
}

// TokenVerifier adapts v to go-sdk's auth.TokenVerifier, for callers that
// want go-sdk's own middleware. Middleware is the better choice: it sends
// the RFC 6750 error codes that go-sdk's does not.
func TokenVerifier(v Verifier) sdkauth.TokenVerifier {
	return func(ctx context.Context, token string, r *http.Request) (*sdkauth.TokenInfo, error) {
		info, err := v.Verify(ctx, token, r)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				// Anything else would become a 500 carrying the error text.
				return nil, errors.Join(sdkauth.ErrInvalidToken, err)
			}
			return nil, err
		}
		return info, nil
	}
}

// Keys of TokenInfo.Extra that every verifier of this package sets (the
// identity) or may set.
const (
	ExtraIdentity = "identity"  // domain.Identity: who the token proves the caller is
	ExtraClientID = "client_id" // string: the OAuth client, may be absent
	ExtraKind     = "kind"      // string: KindJWT or KindStatic
)

// Token kinds recorded in ExtraKind.
const (
	KindJWT    = "jwt"
	KindStatic = "static"
)

// IdentityOf reads the identity a verifier of this package put into
// info.Extra; ok is false when there is none.
func IdentityOf(info *sdkauth.TokenInfo) (id domain.Identity, ok bool) {
	if info == nil {
		return domain.Identity{}, false
	}
	id, _ = info.Extra[ExtraIdentity].(domain.Identity)
	return id, id.Issuer != "" && id.Subject != ""
}

// UserKey is the stable key of a user, set as TokenInfo.UserID so that
// go-sdk binds each session to the user who opened it. "#" cannot occur
// in an issuer (RFC 8414 forbids fragments), so the key is unambiguous.
func UserKey(issuer, subject string) string { return issuer + "#" + subject }
