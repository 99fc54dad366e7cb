package authserver

import (
	"net/http"

	"github.com/modelcontextprotocol/go-sdk/oauthex"
)

// Endpoint paths, below the issuer.
const (
	PathAuthorize = "/oauth/authorize"
	PathLogin     = "/oauth/login"
	PathConsent   = "/oauth/consent"
	PathSetup     = "/oauth/setup"
	PathToken     = "/oauth/token" // #nosec G101 -- an endpoint path, not a credential
	PathRegister  = "/oauth/register"
	PathRevoke    = "/oauth/revoke"
	PathJWKS      = "/oauth/jwks"

	PathMetadata       = "/.well-known/oauth-authorization-server"
	PathOpenIDMetadata = "/.well-known/openid-configuration"
)

var (
	grantTypesSupported  = []string{"authorization_code", "refresh_token"}
	authMethodsSupported = []string{"none", "client_secret_basic", "client_secret_post"}
)

// Metadata returns the authorization server metadata (RFC 8414).
func (s *Server) Metadata() *oauthex.AuthServerMeta {
	iss := s.opts.Issuer
	return &oauthex.AuthServerMeta{
		Issuer:                                     iss,
		AuthorizationEndpoint:                      iss + PathAuthorize,
		TokenEndpoint:                              iss + PathToken,
		JWKSURI:                                    iss + PathJWKS,
		RegistrationEndpoint:                       iss + PathRegister,
		RevocationEndpoint:                         iss + PathRevoke,
		ScopesSupported:                            advertisedScopes,
		ResponseTypesSupported:                     []string{"code"},
		ResponseModesSupported:                     []string{"query"},
		GrantTypesSupported:                        grantTypesSupported,
		TokenEndpointAuthMethodsSupported:          authMethodsSupported,
		RevocationEndpointAuthMethodsSupported:     authMethodsSupported,
		CodeChallengeMethodsSupported:              []string{"S256"},
		ClientIDMetadataDocumentSupported:          true,
		AuthorizationResponseIssParameterSupported: true,
	}
}

// serveMetadata serves the metadata at both well-known names: MCP clients
// try RFC 8414 first and OpenID discovery second, and some only the
// latter. It is public, cacheable for a little while, and readable from
// any origin.
func (s *Server) serveMetadata(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	writeBody(w, s.Metadata())
}
