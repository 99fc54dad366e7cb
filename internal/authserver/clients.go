package authserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

// client is what the server knows of a client, registered or described
// by a metadata document.
type client struct {
	ID           string
	Name         string
	RedirectURIs []string
	GrantTypes   []string
	AuthMethod   string // none, client_secret_basic, client_secret_post
	SecretHash   string
	ClientURI    string
	Scope        string
	FromDocument bool // a Client ID Metadata Document client
	// ApplicationType is web, native or "" (an operator's client, or a
	// metadata document that does not say); only web changes anything:
	// see redirectAllowed.
	ApplicationType string
}

func fromStored(c *store.OAuthClient) *client {
	name := c.Name
	if name == "" {
		name = "an unnamed application"
	}
	return &client{ID: c.ID, Name: name, RedirectURIs: c.RedirectURIs, GrantTypes: c.GrantTypes,
		AuthMethod: c.TokenEndpointAuthMethod, SecretHash: c.SecretHash, ClientURI: c.ClientURI, Scope: c.Scope,
		ApplicationType: c.ApplicationType}
}

// confidential reports whether the client has a secret to authenticate with.
func (c *client) confidential() bool { return c.SecretHash != "" }

func (c *client) allowsGrant(g string) bool { return slices.Contains(c.GrantTypes, g) }

// redirectAllowed reports whether an authorization request may send the
// person to requested. A native application's loopback redirect matches
// on any port, since the system gives it a free port at run time (RFC
// 8252 §7.3); a web application's must match exactly, port included: a
// page served from http://localhost:5173 has that one origin, and nothing
// but a native app needs the wildcard.
func (c *client) redirectAllowed(requested string) bool {
	if c.ApplicationType == "web" {
		return slices.Contains(c.RedirectURIs, requested)
	}
	return redirectMatches(c.RedirectURIs, requested)
}

// unknownClientError is lookupClient's answer for a client_id that is
// neither registered nor a usable metadata document; Reason says why, for
// a person.
type unknownClientError struct{ Reason string }

func (e *unknownClientError) Error() string { return "unknown client: " + e.Reason }

func unknownClient(format string, args ...any) error {
	return &unknownClientError{Reason: fmt.Sprintf(format, args...)}
}

// lookupClient finds a client by id: a metadata document URL is fetched
// (or taken from the cache), anything else is looked up in the store.
// Revoked clients are refused. The error says what a person should do.
func (s *Server) lookupClient(ctx context.Context, id string) (*client, error) {
	if id == "" {
		return nil, unknownClient("client_id is missing")
	}
	if isCIMDClientID(id) {
		c, err := s.cimd.get(ctx, id)
		if err != nil {
			return nil, unknownClient("%v", err)
		}
		return c, nil
	}
	c, err := s.st.GetOAuthClient(ctx, id)
	switch {
	case errors.Is(err, domain.ErrNotFound):
		return nil, unknownClient("client %q is not registered with this server; register it again (dynamic client registration at %s) or ask the operator to add it with `atomcp clients add`",
			id, s.opts.Issuer+PathRegister)
	case err != nil:
		return nil, err
	case c.RevokedAt != nil:
		return nil, unknownClient("client %q was revoked by the operator", id)
	}
	return fromStored(c), nil
}

// authenticateClient authenticates the client of a token or revocation
// request (RFC 6749 §2.3): HTTP Basic, or client_id (and client_secret) in
// the form body, but not both.
func (s *Server) authenticateClient(r *http.Request) (*client, *oauthError) {
	basicID, basicSecret, hasBasic := r.BasicAuth()
	formID, formSecret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	var id, secret, method string
	switch {
	case hasBasic && (formSecret != ""):
		return nil, errInvalidRequest("the client authenticated twice (HTTP Basic and client_secret in the body); use one method")
	case hasBasic:
		// RFC 6749 §2.3.1: both parts are form-urlencoded before Basic.
		var err1, err2 error
		id, err1 = url.QueryUnescape(basicID)
		secret, err2 = url.QueryUnescape(basicSecret)
		if err1 != nil || err2 != nil {
			return nil, errInvalidClient("the HTTP Basic credentials are not form-urlencoded (RFC 6749 §2.3.1)")
		}
		if formID != "" && formID != id {
			return nil, errInvalidRequest("client_id in the body differs from the HTTP Basic user")
		}
		method = "client_secret_basic"
	case formSecret != "":
		id, secret, method = formID, formSecret, "client_secret_post"
	default:
		id, method = formID, "none"
	}
	if id == "" {
		return nil, errInvalidClient("no client identification: send client_id in the body (public clients) or authenticate with HTTP Basic or client_secret_post")
	}
	c, err := s.lookupClient(r.Context(), id)
	if err != nil {
		var uc *unknownClientError
		if errors.As(err, &uc) {
			return nil, errInvalidClient(uc.Reason)
		}
		s.log.Error("look up client", "err", err)
		return nil, errServer()
	}
	if !c.confidential() {
		// A public client has no secret; whatever it sent proves nothing.
		return c, nil
	}
	if method == "none" {
		return nil, errInvalidClient(fmt.Sprintf("client %q is confidential: authenticate with its secret (%s)", id, c.AuthMethod))
	}
	if !equalSecret(hashSecret(secret), c.SecretHash) {
		return nil, errInvalidClient(fmt.Sprintf("wrong client secret for client %q", id))
	}
	return c, nil
}
