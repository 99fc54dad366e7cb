package connector

import "strings"

// WorkOSConfig configures the WorkOS AuthKit connector: the AuthKit
// domain and an AuthKit application's client id and secret
// (WORKOS_CLIENT_ID, WORKOS_API_KEY).
type WorkOSConfig struct {
	Common
	// Domain is the AuthKit domain, https://<phrase>.authkit.app or a
	// custom one; it is the issuer of AuthKit's ID tokens.
	Domain string
	// Scopes asked for; default openid profile email.
	Scopes []string
}

// NewWorkOS returns the AuthKit connector: OpenID Connect against the
// AuthKit domain, with the client secret in the token request's body (the
// one method AuthKit takes) and org_id read from the access token, where
// AuthKit puts it.
func NewWorkOS(cfg WorkOSConfig) *OIDC {
	scopes := cfg.Scopes
	if len(scopes) == 0 {
		scopes = []string{"openid", "profile", "email"}
	}
	return NewOIDC(OIDCConfig{Common: cfg.Common, ID: "workos", Name: "WorkOS AuthKit", Issuer: strings.TrimSuffix(cfg.Domain, "/"),
		Scopes: scopes, ParamsAuth: true, OrgFromAccessToken: true})
}
