package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Providers of ATOMCP_AUTH that this package builds. ("none" needs no
// auth at all; "embedded" is the embedded authorization server, which
// hands its keys to JWTVerifier through LocalKeys.)
const (
	ProviderAuthKit  = "authkit"
	ProviderOIDC     = "oidc"
	ProviderStatic   = "static"
	ProviderEmbedded = "embedded" // needs Settings.Keys and Settings.Issuer
)

// Settings configure New.
type Settings struct {
	Provider string // ProviderAuthKit, ProviderOIDC or ProviderStatic
	// Issuer is the AuthKit domain or the OIDC issuer, exactly as tokens
	// carry it.
	Issuer string
	// Keys, when set, verify tokens instead of the issuer's remote JWKS.
	Keys KeySource
	// IssuerAlias and Revoked are passed to the JWT verifier (JWTConfig)
	// of the embedded authorization server.
	IssuerAlias string
	Revoked     func(ctx context.Context, jti, subject string) (bool, error)
	// Audience overrides the accepted audience (ATOMCP_AUTH_AUDIENCE);
	// empty means this server's resource URL.
	Audience       string
	Algorithms     []string
	RequiredScopes []string
	Tools          ScopePolicy
	// StaticTokens are name -> token; they are accepted beside whatever
	// Provider says.
	StaticTokens map[string]string
	Public       *PublicURL
	MaxBodyBytes int64
	HTTPClient   *http.Client
	Logger       *slog.Logger
	// Observe is passed to the middleware (MiddlewareOptions.Observe).
	Observe func(ctx context.Context, reason string)
}

// Provider is what the HTTP server needs from auth.
type Provider struct {
	Middleware       *Middleware
	ResourceMetadata *ResourceMetadata
	// AuthServerMetadata forwards the remote authorization server's
	// documents; nil when there is no remote one.
	AuthServerMetadata http.Handler
	// Verifier is the whole token check (static tokens, then JWTs).
	Verifier Verifier
	// keys are the issuer's signing keys (nil with static tokens only).
	keys KeySource
}

// KeyCount returns how many signing keys the issuer's key set holds now
// (0 with static tokens only), for the metrics.
func (p *Provider) KeyCount(ctx context.Context) (int, error) {
	if p.keys == nil {
		return 0, nil
	}
	return KeyCount(ctx, p.keys)
}

// KeysReady reports whether the issuer's signing keys are at hand (for
// /readyz): fetched, or kept from an earlier fetch, with at least one
// key. With static tokens only, there are none to need.
func (p *Provider) KeysReady(ctx context.Context) error {
	if p.keys == nil {
		return nil
	}
	n, err := KeyCount(ctx, p.keys)
	if err != nil {
		return err
	}
	if n == 0 {
		return errors.New("the issuer's key set has no keys")
	}
	return nil
}

// authKitAudienceHint is what an operator must do when AuthKit issues
// tokens for another audience: the commonest failure of the old server.
const authKitAudienceHint = "add this server's MCP URL (the expected audience) as an MCP resource indicator in the WorkOS dashboard (Connect, Configuration), or set ATOMCP_AUTH_AUDIENCE to the audience AuthKit issues"

// oidcAudienceHint is the same advice for any other issuer.
const oidcAudienceHint = "make the authorization server issue tokens for this server's MCP URL (RFC 8707 resource indicator, or its audience setting), or set ATOMCP_AUTH_AUDIENCE to the audience it issues"

// New builds the provider. Network failures at start-up (an identity
// provider that is down) are logged and retried later, not fatal.
func New(ctx context.Context, s Settings) (*Provider, error) {
	if s.Public == nil {
		return nil, errors.New("auth: Settings.Public is required")
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	if s.HTTPClient == nil {
		s.HTTPClient = NewHTTPClient()
	}
	var audience Audience = s.Public.Audience()
	if s.Audience != "" {
		audience = exactAudience(s.Audience)
	}
	var chain Chain
	granted := slices.Clone(s.RequiredScopes)
	for _, sc := range []string{s.Tools.Read, s.Tools.Write} {
		if sc != "" && !slices.Contains(granted, sc) {
			granted = append(granted, sc)
		}
	}
	if len(s.StaticTokens) > 0 {
		chain = append(chain, NewStatic(s.StaticTokens, granted))
	}

	p := &Provider{}
	var authServers func(*http.Request) ([]string, error)
	switch s.Provider {
	case ProviderAuthKit, ProviderOIDC:
		if err := checkFetchURL(s.Issuer); err != nil {
			return nil, fmt.Errorf("issuer %s: %w", s.Issuer, err)
		}
		keys := s.Keys
		hint := oidcAudienceHint
		if s.Provider == ProviderAuthKit {
			hint = authKitAudienceHint
			if keys == nil {
				var err error
				if keys, err = RemoteKeys(ctx, s.Issuer+"/oauth2/jwks", s.HTTPClient, s.Logger); err != nil {
					return nil, err
				}
			}
		} else if keys == nil {
			dk := &discoveredKeys{ctx: ctx, issuer: s.Issuer, client: s.HTTPClient, logger: s.Logger}
			_, _ = dk.resolve(ctx) // a failure is logged and retried on use
			keys = dk
		}
		jv, err := NewJWTVerifier(JWTConfig{
			Issuer: s.Issuer, Keys: keys, Audience: audience, Algorithms: s.Algorithms,
			AudienceHint: hint, Logger: s.Logger,
		})
		if err != nil {
			return nil, err
		}
		chain = append(chain, jv)
		p.keys = keys
		issuer := s.Issuer
		authServers = func(*http.Request) ([]string, error) { return []string{issuer}, nil }
		p.AuthServerMetadata = NewASMetadataProxy(s.Issuer, s.Public.MCPPath, s.HTTPClient, DefaultMetadataTTL, s.Logger)
	case ProviderEmbedded:
		// The embedded authorization server hands over its own keys and
		// serves its own metadata; only the verifier is built here.
		if s.Keys == nil || s.Issuer == "" {
			return nil, errors.New("auth embedded needs the authorization server's keys (Settings.Keys) and issuer")
		}
		jv, err := NewJWTVerifier(JWTConfig{
			Issuer: s.Issuer, Keys: s.Keys, Audience: audience, Algorithms: s.Algorithms, Logger: s.Logger,
			IssuerAlias: s.IssuerAlias, Revoked: s.Revoked,
		})
		if err != nil {
			return nil, err
		}
		chain = append(chain, jv)
		p.keys = s.Keys
		issuer := s.Issuer
		authServers = func(*http.Request) ([]string, error) { return []string{issuer}, nil }
	case ProviderStatic:
		if len(s.StaticTokens) == 0 {
			return nil, errors.New("auth static needs at least one token (ATOMCP_STATIC_TOKENS or ATOMS_INTERNAL_TOKEN)")
		}
	default:
		return nil, fmt.Errorf("auth provider %q is not built by this package", s.Provider)
	}
	p.Verifier = chain
	p.Middleware = NewMiddleware(MiddlewareOptions{
		Verifier: chain, Public: s.Public, RequiredScopes: s.RequiredScopes, Tools: s.Tools,
		MaxBodyBytes: s.MaxBodyBytes, Logger: s.Logger, Observe: s.Observe,
	})
	p.ResourceMetadata = &ResourceMetadata{
		Public: s.Public, AuthorizationServers: authServers,
		Scopes: p.Middleware.ChallengeScopes(), Name: "Atoms MCP server",
	}
	return p, nil
}

// discoveredKeys finds the JWKS of an OIDC issuer through discovery, at
// start-up and, if that failed, again when a token arrives (at most once
// per rediscoverInterval), so that an identity provider that is down when
// atomcp starts does not need a restart once it is back.
type discoveredKeys struct {
	ctx    context.Context // lifetime of the key refresh goroutine
	issuer string
	client *http.Client
	logger *slog.Logger

	mu      sync.Mutex
	keys    KeySource
	lastTry time.Time
	lastErr error
}

const rediscoverInterval = 30 * time.Second

func (d *discoveredKeys) resolve(ctx context.Context) (KeySource, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.keys != nil {
		return d.keys, nil
	}
	if !d.lastTry.IsZero() && time.Since(d.lastTry) < rediscoverInterval {
		return nil, d.lastErr
	}
	d.lastTry = time.Now()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	jwksURL, err := DiscoverJWKS(ctx, d.client, d.issuer)
	if err == nil {
		d.keys, err = RemoteKeys(d.ctx, jwksURL, d.client, d.logger)
	}
	if err != nil {
		d.lastErr = err
		d.logger.Warn("OIDC discovery failed; tokens are refused until it succeeds", "issuer", d.issuer, "err", err)
		return nil, err
	}
	d.logger.Info("OIDC discovery", "issuer", d.issuer, "jwks_uri", jwksURL)
	return d.keys, nil
}

// keyCount counts the discovered set's keys; before discovery succeeds
// it tries once more (as a token would) and reports why it failed.
func (d *discoveredKeys) keyCount(ctx context.Context) (int, error) {
	keys, err := d.resolve(ctx)
	if err != nil {
		return 0, fmt.Errorf("discover the issuer's keys: %w", err)
	}
	return KeyCount(ctx, keys)
}

// KeyfuncCtx implements KeySource.
func (d *discoveredKeys) KeyfuncCtx(ctx context.Context) jwt.Keyfunc {
	return func(t *jwt.Token) (any, error) {
		keys, err := d.resolve(ctx)
		if err != nil {
			return nil, fmt.Errorf("discover the issuer's keys: %w", err)
		}
		return keys.KeyfuncCtx(ctx)(t)
	}
}
