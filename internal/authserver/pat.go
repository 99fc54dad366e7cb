package authserver

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/secretkey"
	"github.com/atomcp/atomcp/internal/store"
)

// Personal access tokens (`atomcp tokens create|list|revoke`) are access
// tokens of this authorization server that an operator creates for a
// headless caller (a script, a CI job, a benchmark) without a browser:
// the same ES256 JWT as the token endpoint issues, bound to this server's
// resource, but with a longer life and no refresh token.
//
// Each one is stored as three records of the existing storage, so that
// revocation reuses the path every other token takes:
//
//   - an OAuth client with Source PATSource, whose id is the token's id
//     (and its client_id claim). It has no redirect URI and no grant type,
//     so it can neither authorize nor use the token endpoint; it exists
//     so that the tokens can be listed and revoked, and carries the name,
//     the scope and the expiry (in ClientURI, see patExpiryPrefix);
//   - a token family of the same id, with the account, scope and resource;
//   - the access token's jti in that family, so that revoking the client
//     (RevokeOAuthClient) deny-lists it at once: the resource server checks
//     the deny-list on every request.
//
// The token itself is never stored: it is returned once, to be printed.
//
// Personal access tokens verify with the signing key that signed them. A
// key retired by `atomcp keys rotate` stops verifying once the ordinary
// access-token lifetime has passed, so rotating the keys ends every
// personal access token about an hour later (create new ones then).

// PATSource is the OAuthClient.Source of the record of a personal access
// token.
const PATSource = "pat"

// patIDPrefix starts the id of every personal access token.
const patIDPrefix = "pat-"

// patExpiryPrefix starts the ClientURI of a personal access token's
// record, followed by its expiry in RFC 3339. The client record has no
// field of its own for it, and a URN is never fetched or shown as a link.
const patExpiryPrefix = "urn:atomcp:personal-access-token:expires:"

// Bounds of a personal access token's lifetime.
const (
	MinPersonalTokenTTL     = time.Minute
	MaxPersonalTokenTTL     = 366 * 24 * time.Hour
	DefaultPersonalTokenTTL = 30 * 24 * time.Hour
)

// PersonalToken describes a personal access token (never the token itself).
type PersonalToken struct {
	ID        string // pat-…, the token's client_id claim; what `tokens revoke` takes
	Name      string
	AccountID string
	Email     string // of the account; empty if the account is gone
	Scope     string
	Resource  string
	CreatedAt time.Time
	ExpiresAt time.Time
	RevokedAt *time.Time
}

// Status is "active", "revoked" or "expired" at now.
func (p *PersonalToken) Status(now time.Time) string {
	switch {
	case p.RevokedAt != nil:
		return "revoked"
	case !now.Before(p.ExpiresAt):
		return "expired"
	}
	return "active"
}

// PersonalTokenRequest describes a personal access token to create.
type PersonalTokenRequest struct {
	// Account is the user the token acts as; it must not be disabled.
	Account *store.LocalAccount
	// Name says what the token is for (shown by `tokens list`).
	Name string
	// Scope is space-separated; empty means every scope.
	Scope string
	// TTL is the lifetime, between MinPersonalTokenTTL and
	// MaxPersonalTokenTTL; zero means DefaultPersonalTokenTTL.
	TTL time.Duration
	// Issuer and Resource are those of the server that will accept the
	// token: its public base URL and its MCP URL.
	Issuer   string
	Resource string
	// KeyRetention is how long retired signing keys stay valid
	// (KeyRetention of the access-token lifetime); it matters only when
	// the database has no signing key yet and one is generated.
	KeyRetention time.Duration
	// SecretKey seals and opens the signing keys in the store (Options.SecretKey).
	SecretKey *secretkey.Key
}

// CreatePersonalToken signs a personal access token and records it. It
// returns the token, to be shown once, and its description.
func CreatePersonalToken(ctx context.Context, st store.Store, req PersonalTokenRequest, now time.Time) (string, *PersonalToken, error) {
	a := req.Account
	switch {
	case a == nil:
		return "", nil, errors.New("a personal access token needs an account")
	case a.DisabledAt != nil:
		return "", nil, fmt.Errorf("the account %s is disabled; enable it first (atomcp users enable)", a.Email)
	case req.Issuer == "" || req.Resource == "":
		return "", nil, errors.New("a personal access token needs the server's issuer and resource")
	}
	ttl := req.TTL
	if ttl == 0 {
		ttl = DefaultPersonalTokenTTL
	}
	if ttl < MinPersonalTokenTTL || ttl > MaxPersonalTokenTTL {
		return "", nil, fmt.Errorf("the lifetime %s is out of range: from %s to %s (366 days)", ttl, MinPersonalTokenTTL, MaxPersonalTokenTTL)
	}
	scope, err := parseScope(req.Scope)
	if err != nil {
		return "", nil, err
	}
	name := strings.TrimSpace(req.Name)
	if name == "" {
		name = "personal access token"
	}
	p := &PersonalToken{
		ID: patIDPrefix + uuid.NewString(), Name: name, AccountID: a.ID, Email: a.Email,
		Scope: scope, Resource: req.Resource, CreatedAt: now, ExpiresAt: now.Add(ttl),
	}
	keys, err := NewKeySet(ctx, st, req.SecretKey, req.KeyRetention, func() time.Time { return now })
	if err != nil {
		return "", nil, err
	}
	jti := uuid.NewString()
	token, err := keys.sign(ctx, &AccessClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: req.Issuer, Subject: a.ID, Audience: jwt.ClaimStrings{req.Resource},
			ExpiresAt: jwt.NewNumericDate(p.ExpiresAt), IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now), ID: jti,
		},
		ClientID: p.ID, Scope: scope, Email: a.Email, EmailVerified: a.Email != "", Name: a.Name,
	}, "at+jwt")
	if err != nil {
		return "", nil, fmt.Errorf("sign the personal access token: %w", err)
	}
	err = st.InTx(ctx, func(tx store.Ops) error {
		if err := tx.CreateOAuthClient(ctx, &store.OAuthClient{
			ID: p.ID, Name: name, RedirectURIs: []string{}, GrantTypes: []string{}, ResponseTypes: []string{},
			TokenEndpointAuthMethod: "none", Scope: scope, ClientURI: patExpiryPrefix + p.ExpiresAt.UTC().Format(time.RFC3339),
			Source: PATSource, CreatedAt: now,
		}); err != nil {
			return err
		}
		if err := tx.CreateTokenFamily(ctx, &store.TokenFamily{
			ID: p.ID, ClientID: p.ID, AccountID: a.ID, Scope: scope, Resource: req.Resource, CreatedAt: now,
		}); err != nil {
			return err
		}
		return tx.RecordAccessToken(ctx, &store.AccessToken{JTI: jti, FamilyID: p.ID, ExpiresAt: p.ExpiresAt})
	})
	if err != nil {
		return "", nil, fmt.Errorf("record the personal access token: %w", err)
	}
	return token, p, nil
}

// ListPersonalTokens returns every personal access token, oldest first,
// revoked and expired ones included.
func ListPersonalTokens(ctx context.Context, st store.Store) ([]*PersonalToken, error) {
	clients, err := st.ListOAuthClients(ctx)
	if err != nil {
		return nil, err
	}
	emails := map[string]string{}
	var out []*PersonalToken
	for _, c := range clients {
		if c.Source != PATSource {
			continue
		}
		p, err := personalTokenOf(ctx, st, c, emails)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// personalTokenOf reads a token's description from its client record and
// its family. emails caches account emails by id.
func personalTokenOf(ctx context.Context, st store.Store, c *store.OAuthClient, emails map[string]string) (*PersonalToken, error) {
	p := &PersonalToken{ID: c.ID, Name: c.Name, Scope: c.Scope, CreatedAt: c.CreatedAt, RevokedAt: c.RevokedAt}
	exp, err := time.Parse(time.RFC3339, strings.TrimPrefix(c.ClientURI, patExpiryPrefix))
	if err != nil || !strings.HasPrefix(c.ClientURI, patExpiryPrefix) {
		return nil, fmt.Errorf("personal access token %s: its record has no expiry", c.ID)
	}
	p.ExpiresAt = exp
	f, err := st.GetTokenFamily(ctx, c.ID)
	switch {
	case errors.Is(err, domain.ErrNotFound):
		// Purged after it expired: the client record is all that is left.
		return p, nil
	case err != nil:
		return nil, err
	}
	p.AccountID, p.Resource = f.AccountID, f.Resource
	if email, ok := emails[f.AccountID]; ok {
		p.Email = email
	} else if a, err := st.GetLocalAccount(ctx, f.AccountID); err == nil {
		p.Email, emails[f.AccountID] = a.Email, a.Email
	} else if !errors.Is(err, domain.ErrNotFound) {
		return nil, err
	}
	return p, nil
}

// RevokePersonalToken revokes the personal access token with the id: it
// is deny-listed at once, and a running server refuses it on its next
// request. Revoking a revoked token changes nothing.
func RevokePersonalToken(ctx context.Context, st store.Store, id string, now time.Time) (*PersonalToken, error) {
	c, err := st.GetOAuthClient(ctx, id)
	switch {
	case errors.Is(err, domain.ErrNotFound):
		return nil, fmt.Errorf("no personal access token %q (see atomcp tokens list)", id)
	case err != nil:
		return nil, err
	case c.Source != PATSource:
		return nil, fmt.Errorf("%q is an OAuth client, not a personal access token; revoke it with atomcp clients revoke", id)
	}
	if err := st.RevokeOAuthClient(ctx, id, now); err != nil {
		return nil, fmt.Errorf("revoke personal access token %s: %w", id, err)
	}
	if c.RevokedAt == nil {
		c.RevokedAt = &now
	}
	return personalTokenOf(ctx, st, c, map[string]string{})
}

// RevokeAccountPersonalTokens revokes every personal access token of an
// account that is not revoked yet, and returns how many it revoked.
func RevokeAccountPersonalTokens(ctx context.Context, st store.Store, accountID string, now time.Time) (int, error) {
	tokens, err := ListPersonalTokens(ctx, st)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, p := range tokens {
		if p.AccountID != accountID || p.RevokedAt != nil {
			continue
		}
		if err := st.RevokeOAuthClient(ctx, p.ID, now); err != nil {
			return n, fmt.Errorf("revoke personal access token %s: %w", p.ID, err)
		}
		n++
	}
	return n, nil
}
