package mcpserver

import (
	"context"
	"errors"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/atomcp/atomcp/internal/atoms"
	"github.com/atomcp/atomcp/internal/atoms/tools"
	"github.com/atomcp/atomcp/internal/auth"
)

// errNoIdentity is returned when a tool call reaches TokenIdentity without
// a verified token: the HTTP layer's bearer check was not in front of it.
var errNoIdentity = errors.New("no verified identity on this request; the server's bearer check is not configured")

// LocalIdentity treats every call as the local user (atoms.LocalCaller):
// the Identify of `atomcp stdio` and of ATOMCP_AUTH=none.
func LocalIdentity(context.Context, *mcp.CallToolRequest) (atoms.Caller, error) {
	return atoms.LocalCaller, nil
}

// TokenIdentity is the Identify of an authenticated server: the caller is
// the identity internal/auth verified, as the verifier put it in the
// token's TokenInfo (with the embedded server's stable issuer, and email
// and name when the token has them).
func TokenIdentity(_ context.Context, req *mcp.CallToolRequest) (atoms.Caller, error) {
	if req == nil || req.Extra == nil {
		return atoms.Caller{}, errNoIdentity
	}
	id, ok := auth.IdentityOf(req.Extra.TokenInfo)
	if !ok {
		return atoms.Caller{}, errNoIdentity
	}
	return id, nil
}

// TaskOwner makes an Identify into the owner function of a tasks.Runtime:
// a task belongs to the (issuer, subject) its request acts for, the same
// identity the Atoms tools serve, so a caller sees only its own tasks.
func TaskOwner(identify tools.Identify) func(context.Context, mcp.Request) (string, error) {
	return func(ctx context.Context, req mcp.Request) (string, error) {
		// The Identify functions read only Extra (the verified token),
		// which every request has, so a tasks/* request is asked as a
		// tool call would be.
		call := &mcp.CallToolRequest{Extra: req.GetExtra()}
		if ss, ok := req.GetSession().(*mcp.ServerSession); ok {
			call.Session = ss
		}
		c, err := identify(ctx, call)
		if err != nil {
			return "", err
		}
		return c.Issuer + "\n" + c.Subject, nil // NUL would not fit a PostgreSQL text column
	}
}
