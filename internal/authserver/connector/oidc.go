package connector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// OIDCConfig configures a connector to an OpenID Connect issuer.
type OIDCConfig struct {
	Common
	// ID and Name: see Connector; ID defaults to "oidc", Name to
	// "single sign-on".
	ID, Name string
	// Issuer is the issuer URL exactly as the provider's discovery
	// document states it.
	Issuer string
	// Scopes asked for; default openid email profile.
	Scopes []string
	// ParamsAuth sends the client secret in the token request's body
	// (client_secret_post), for providers that accept only that.
	ParamsAuth bool
	// HostedDomains, when set, admits only accounts whose "hd" claim
	// (Google Workspace domain) is one of them.
	HostedDomains []string
	// OrgFromAccessToken reads org_id from the access token (a JWT signed
	// with the issuer's keys), as WorkOS puts it there.
	OrgFromAccessToken bool
}

// OIDC is a connector to an OpenID Connect issuer. Discovery happens on
// first use and is retried until it succeeds, so that a provider that is
// down at start-up does not keep atomcp from starting.
type OIDC struct {
	cfg OIDCConfig

	mu       sync.Mutex
	provider *oidc.Provider
}

// NewOIDC returns a connector to an OpenID Connect issuer.
func NewOIDC(cfg OIDCConfig) *OIDC {
	cfg.defaults()
	if cfg.ID == "" {
		cfg.ID = "oidc"
	}
	if cfg.Name == "" {
		cfg.Name = "single sign-on"
	}
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = []string{oidc.ScopeOpenID, "email", "profile"}
	}
	cfg.HostedDomains = splitList(cfg.HostedDomains)
	return &OIDC{cfg: cfg}
}

func (c *OIDC) ID() string   { return c.cfg.ID }
func (c *OIDC) Name() string { return c.cfg.Name }

// Issuer is the configured issuer URL.
func (c *OIDC) Issuer() string { return c.cfg.Issuer }

// discover returns the provider, fetching its discovery document the first
// time. The context only bounds the fetch: go-oidc keeps the HTTP client,
// not the context, for its key set.
func (c *OIDC) discover(ctx context.Context) (*oidc.Provider, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.provider != nil {
		return c.provider, nil
	}
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, c.cfg.HTTPClient), c.cfg.Issuer)
	if err != nil {
		var mismatch *oidc.IssuerMismatchError
		if errors.As(err, &mismatch) {
			return nil, &Error{Kind: Unreachable, Provider: c.cfg.Name,
				Err: fmt.Errorf("its discovery document names the issuer %q, not the configured %q; configure the issuer exactly as the provider writes it", mismatch.Discovered, mismatch.Provided)}
		}
		return nil, &Error{Kind: Unreachable, Provider: c.cfg.Name, Err: fmt.Errorf("OpenID discovery at %s/.well-known/openid-configuration: %w", strings.TrimSuffix(c.cfg.Issuer, "/"), err)}
	}
	c.provider = p
	return p, nil
}

func (c *OIDC) oauth2Config(p *oidc.Provider) *oauth2.Config {
	ep := p.Endpoint()
	if c.cfg.ParamsAuth {
		ep.AuthStyle = oauth2.AuthStyleInParams
	}
	return &oauth2.Config{ClientID: c.cfg.ClientID, ClientSecret: c.cfg.ClientSecret, RedirectURL: c.cfg.RedirectURL,
		Endpoint: ep, Scopes: c.cfg.Scopes}
}

// Check fetches the discovery document and checks its issuer.
func (c *OIDC) Check(ctx context.Context) error {
	_, err := c.discover(ctx)
	return err
}

// AuthURL is the provider's authorization endpoint with atomcp's state,
// nonce and PKCE challenge.
func (c *OIDC) AuthURL(ctx context.Context, a Attempt) (string, error) {
	p, err := c.discover(ctx)
	if err != nil {
		return "", err
	}
	return c.oauth2Config(p).AuthCodeURL(a.State, oidc.Nonce(a.Nonce), oauth2.S256ChallengeOption(a.Verifier)), nil
}

// idClaims are the ID-token claims atomcp reads.
type idClaims struct {
	Email         string     `json:"email"`
	EmailVerified stringBool `json:"email_verified"`
	Name          string     `json:"name"`
	HostedDomain  string     `json:"hd"`
	OrgID         string     `json:"org_id"`
}

// Identity exchanges the code (with the PKCE verifier), verifies the ID
// token (signature, issuer, audience, expiry, then the nonce) and reads
// the person from it.
func (c *OIDC) Identity(ctx context.Context, code string, a Attempt) (*Identity, error) {
	p, err := c.discover(ctx)
	if err != nil {
		return nil, err
	}
	tok, err := c.oauth2Config(p).Exchange(oidc.ClientContext(ctx, c.cfg.HTTPClient), code, oauth2.VerifierOption(a.Verifier))
	if err != nil {
		return nil, exchangeError(c.cfg.Name, err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, &Error{Kind: InvalidToken, Provider: c.cfg.Name, Check: "presence", Err: errors.New("the token response has no id_token (is the openid scope asked for?)")}
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: c.cfg.ClientID, Now: c.cfg.Now}).Verify(ctx, raw)
	if err != nil {
		return nil, &Error{Kind: InvalidToken, Provider: c.cfg.Name, Check: failedCheck(err), Err: err}
	}
	if a.Nonce == "" || idt.Nonce != a.Nonce {
		return nil, &Error{Kind: InvalidToken, Provider: c.cfg.Name, Check: "nonce", Err: errors.New("its nonce is not the one this sign-in sent")}
	}
	var cl idClaims
	if err := idt.Claims(&cl); err != nil {
		return nil, &Error{Kind: InvalidToken, Provider: c.cfg.Name, Check: "claims", Err: err}
	}
	id := &Identity{Subject: idt.Subject, Email: strings.ToLower(strings.TrimSpace(cl.Email)), EmailVerified: bool(cl.EmailVerified),
		Name: cl.Name, OrgID: cl.OrgID}
	if id.OrgID == "" && c.cfg.OrgFromAccessToken {
		id.OrgID = c.orgFromAccessToken(ctx, p, tok.AccessToken)
	}
	if len(c.cfg.HostedDomains) > 0 && !contains(c.cfg.HostedDomains, strings.ToLower(cl.HostedDomain)) {
		id.Refusal = "the Google account is not in one of the Workspace domains this server admits (ATOMCP_SIGNIN_GOOGLE_DOMAINS)"
	}
	return id, nil
}

// orgFromAccessToken reads org_id from an access token that is a JWT of
// the same issuer; anything else (an opaque token, another audience) means
// no organization.
func (c *OIDC) orgFromAccessToken(ctx context.Context, p *oidc.Provider, at string) string {
	t, err := p.Verifier(&oidc.Config{SkipClientIDCheck: true, Now: c.cfg.Now}).Verify(ctx, at)
	if err != nil {
		return ""
	}
	var cl struct {
		OrgID string `json:"org_id"`
	}
	if t.Claims(&cl) != nil {
		return ""
	}
	return cl.OrgID
}

// failedCheck names the ID-token check that go-oidc refused, for the page
// (go-oidc's messages name the issuer or audience, never the token).
func failedCheck(err error) string {
	var exp *oidc.TokenExpiredError
	msg := err.Error()
	switch {
	case errors.As(err, &exp):
		return "expiry"
	case strings.Contains(msg, "different provider"):
		return "issuer"
	case strings.Contains(msg, "audience"):
		return "audience"
	case strings.Contains(msg, "signature") || strings.Contains(msg, "signing algorithm"):
		return "signature"
	case strings.Contains(msg, "nbf"):
		return "not-before"
	case strings.Contains(msg, "malformed"):
		return "format"
	}
	return "verification"
}

// stringBool is a boolean claim that some providers send as a string.
type stringBool bool

func (b *stringBool) UnmarshalJSON(data []byte) error {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	switch t := v.(type) {
	case bool:
		*b = stringBool(t)
	case string:
		*b = stringBool(strings.EqualFold(t, "true"))
	default:
		*b = false
	}
	return nil
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}
