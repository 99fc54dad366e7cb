package mcpserver

import (
	"context"
	"errors"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/atomcp/atomcp/internal/atoms"
	"github.com/atomcp/atomcp/internal/auth"
)

// errNoIdentity is returned when a tool call reaches a TokenCaller without
// a verified token: the HTTP layer's bearer check was not in front of it.
var errNoIdentity = errors.New("no verified identity on this request; the server's bearer check is not configured")

// TokenCaller is the Caller of an authenticated server: the user is the
// (issuer, subject) of the token that internal/auth verified, and the
// profile takes email and name from it when the token has them.
func TokenCaller(_ context.Context, req *mcp.CallToolRequest) (atoms.Caller, error) {
	if req == nil || req.Extra == nil {
		return atoms.Caller{}, errNoIdentity
	}
	id, ok := auth.IdentityOf(req.Extra.TokenInfo)
	if !ok {
		return atoms.Caller{}, errNoIdentity
	}
	return atoms.Caller{
		Issuer:        id.Issuer,
		Subject:       id.Subject,
		Email:         id.Email,
		EmailVerified: id.EmailVerified,
		Name:          id.Name,
	}, nil
}

// EmbeddedIssuer is the issuer under which users of the embedded
// authorization server are stored. Its real issuer is the public base URL,
// which changes when the server moves (another port, a domain); keying the
// users by it would make every account a stranger to its own data.
const EmbeddedIssuer = "atomcp:embedded"

// StableIssuer wraps a Caller so that tokens of the given issuer (the
// embedded authorization server's) map to users under EmbeddedIssuer.
func StableIssuer(next func(context.Context, *mcp.CallToolRequest) (atoms.Caller, error), issuer string) func(context.Context, *mcp.CallToolRequest) (atoms.Caller, error) {
	return func(ctx context.Context, req *mcp.CallToolRequest) (atoms.Caller, error) {
		c, err := next(ctx, req)
		if err == nil && c.Issuer == issuer {
			c.Issuer = EmbeddedIssuer
		}
		return c, err
	}
}
