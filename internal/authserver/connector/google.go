package connector

// GoogleIssuer is Google's OpenID Connect issuer.
const GoogleIssuer = "https://accounts.google.com"

// GoogleConfig configures the Google connector.
type GoogleConfig struct {
	Common
	// Domains, when set, admits new accounts only from these Google
	// Workspace domains (the ID token's "hd" claim).
	Domains []string
	// Issuer replaces GoogleIssuer (tests).
	Issuer string
}

// NewGoogle returns the Google connector: OpenID Connect against
// accounts.google.com, with the hosted-domain rule.
func NewGoogle(cfg GoogleConfig) *OIDC {
	iss := cfg.Issuer
	if iss == "" {
		iss = GoogleIssuer
	}
	return NewOIDC(OIDCConfig{Common: cfg.Common, ID: "google", Name: "Google", Issuer: iss,
		Scopes: []string{"openid", "email", "profile"}, HostedDomains: cfg.Domains})
}
