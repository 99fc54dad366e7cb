package connector

import "github.com/atomcp/atomcp/internal/config"

// FromConfig builds the connectors the configuration sets up
// (config.SigninConnectors), in the order of the sign-in page, every one
// returning to {base_url}/oauth/callback. atomcp serve and doctor build
// them the same way.
func FromConfig(cfg *config.Config) []Connector {
	callback := cfg.BaseURL + CallbackPath
	common := func(id string, secret config.Secret) Common {
		return Common{ClientID: id, ClientSecret: secret.Reveal(), RedirectURL: callback}
	}
	var out []Connector
	for _, id := range cfg.SigninConnectors() {
		switch id {
		case "workos":
			out = append(out, NewWorkOS(WorkOSConfig{Common: common(cfg.WorkOSClientID, cfg.WorkOSAPIKey),
				Domain: cfg.AuthKitDomain, Scopes: cfg.AuthKitScopes()}))
		case "oidc":
			out = append(out, NewOIDC(OIDCConfig{Common: common(cfg.SigninOIDCClientID, cfg.SigninOIDCClientSecret),
				Issuer: cfg.SigninOIDCIssuer, Name: cfg.SigninOIDCName, Scopes: cfg.SigninOIDCScopes}))
		case "github":
			out = append(out, NewGitHub(GitHubConfig{Common: common(cfg.SigninGitHubClientID, cfg.SigninGitHubClientSecret),
				URL: cfg.SigninGitHubURL, Orgs: cfg.SigninGitHubOrgs}))
		case "google":
			out = append(out, NewGoogle(GoogleConfig{Common: common(cfg.SigninGoogleClientID, cfg.SigninGoogleClientSecret),
				Domains: cfg.SigninGoogleDomains, Issuer: cfg.SigninGoogleIssuer}))
		}
	}
	return out
}
