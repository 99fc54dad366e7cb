package main

import (
	"context"
	"log/slog"
	"net/http"
	"sort"

	"github.com/atomcp/atomcp/internal/atoms/tools"
	"github.com/atomcp/atomcp/internal/auth"
	"github.com/atomcp/atomcp/internal/authserver"
	"github.com/atomcp/atomcp/internal/config"
)

// newAuthProvider builds the bearer check and discovery documents for
// cfg.Auth (authkit, oidc or static). Static tokens (ATOMS_INTERNAL_TOKEN,
// ATOMCP_STATIC_TOKENS) are accepted beside any provider, as the old
// server accepted its internal token beside AuthKit.
// embedded is the embedded authorization server when cfg.Auth is embedded.
func newAuthProvider(ctx context.Context, cfg *config.Config, logger *slog.Logger, embedded *authserver.Server, obs *observability) (*auth.Provider, error) {
	tokens := make(map[string]string, len(cfg.StaticTokens)+1)
	for name, tok := range cfg.StaticTokens {
		tokens[name] = tok.Reveal()
	}
	if cfg.InternalToken.IsSet() {
		tokens[auth.InternalTokenName] = cfg.InternalToken.Reveal()
	}
	baseURL := cfg.BaseURL
	if cfg.IsDefault(config.KeyBaseURL) {
		// No configured public URL: documents are built from the
		// loopback URL each client actually used.
		baseURL = ""
	}
	s := auth.Settings{
		Provider:       cfg.Auth,
		Audience:       cfg.Audience,
		Algorithms:     cfg.Algorithms,
		RequiredScopes: cfg.TokenRequiredScopes(),
		Tools:          auth.ScopePolicy{Read: cfg.ScopeRead, Write: cfg.ScopeWrite, Access: tools.CallAccess},
		StaticTokens:   tokens,
		Public: &auth.PublicURL{
			BaseURL:        baseURL,
			MCPPath:        cfg.MCPPath,
			TrustedProxies: cfg.TrustedProxies,
			AllowedHosts:   cfg.AllowedHosts,
			Logger:         logger,
		},
		MaxBodyBytes: cfg.MaxBodyBytes,
		Logger:       logger,
		HTTPClient:   obs.issuerClient(),
		Observe:      obs.observeAuth,
	}
	switch cfg.Auth {
	case config.AuthAuthKit:
		s.Issuer = cfg.AuthKitDomain
	case config.AuthOIDC:
		s.Issuer = cfg.OIDCIssuer
	case config.AuthEmbedded:
		// Its own keys, revocation deny-list and issuer (whose users are
		// stored under the stable EmbeddedIssuer), and the one algorithm
		// it signs with.
		s.Issuer = embedded.Issuer()
		s.IssuerAlias = authserver.EmbeddedIssuer
		s.Keys = auth.LocalKeys(embedded.AccessKeyfunc(ctx))
		s.Revoked = embedded.TokenRevoked
		s.Algorithms = []string{"ES256"}
		// Its scopes are the product's (the design notes, shared/DESIGN.md): a read tool needs
		// atoms:read, a writing one atoms:write, and a token without the
		// scope gets 403 insufficient_scope so that clients step up.
		if s.Tools.Read == "" {
			s.Tools.Read = authserver.ScopeRead
		}
		if s.Tools.Write == "" {
			s.Tools.Write = authserver.ScopeWrite
		}
	}
	p, err := auth.New(ctx, s)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(tokens))
	for n := range tokens {
		names = append(names, n)
	}
	sort.Strings(names)
	audience := cfg.Audience
	if audience == "" {
		audience = "this server's MCP URL"
		if baseURL != "" {
			audience = baseURL + cfg.MCPPath
		}
	}
	logger.Log(ctx, startupLevel(ctx), "auth", "provider", cfg.Auth, "issuer", s.Issuer, "expected_audience", audience,
		"required_scopes", cfg.TokenRequiredScopes(), "static_token_names", names,
		"tool_scopes", s.Tools.Enabled())
	return p, nil
}

// authRoutes are the discovery documents: the protected-resource document
// at the root and path-suffixed well-known URLs, and, with a remote
// authorization server, its metadata forwarded at both of its names.
func authRoutes(p *auth.Provider) map[string]http.Handler {
	routes := map[string]http.Handler{
		auth.PathProtectedResource:       p.ResourceMetadata,
		auth.PathProtectedResource + "/": p.ResourceMetadata,
	}
	if p.AuthServerMetadata != nil {
		for _, path := range []string{auth.PathAuthServer, auth.PathOpenIDConfig} {
			routes[path] = p.AuthServerMetadata
			routes[path+"/"] = p.AuthServerMetadata
		}
	}
	return routes
}
