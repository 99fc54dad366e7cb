package config

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// The settings of sign-in at upstream identity providers (the connectors
// of the embedded authorization server; docs/signin.md).

// fastMCPScopesVar is the old .env's name for the scopes of AuthKit.
const fastMCPScopesVar = "FASTMCP_SERVER_AUTH_AUTHKITPROVIDER_REQUIRED_SCOPES"

// AuthKitSignin reports whether the embedded authorization server signs
// people in through WorkOS AuthKit: auth is embedded, and the AuthKit
// domain and an AuthKit application's client id are set (the old .env
// has both).
func (c *Config) AuthKitSignin() bool {
	return c.Auth == AuthEmbedded && c.AuthKitDomain != "" && c.WorkOSClientID != ""
}

// AuthKitScopes are the scopes atomcp asks AuthKit for when it signs in
// through it: the old .env's FASTMCP_SERVER_AUTH_AUTHKITPROVIDER_REQUIRED_SCOPES
// when that is where RequiredScopes came from (with AuthKit as the
// authorization server they were scopes of AuthKit's tokens; atomcp's own
// tokens carry atomcp's scopes), else nil for the connector's default.
func (c *Config) AuthKitScopes() []string {
	if c.AuthKitSignin() && c.requiredScopesAreAuthKits() {
		return c.RequiredScopes
	}
	return nil
}

// TokenRequiredScopes are the scopes every access token must carry:
// RequiredScopes, except when they are the AuthKit scopes of the old .env
// taken over by AuthKitScopes.
func (c *Config) TokenRequiredScopes() []string {
	if c.AuthKitSignin() && c.requiredScopesAreAuthKits() {
		return nil
	}
	return c.RequiredScopes
}

func (c *Config) requiredScopesAreAuthKits() bool {
	return strings.HasSuffix(c.source(KeyRequiredScopes), fastMCPScopesVar)
}

// SigninConnectors names the connectors this configuration sets up, in
// the order of the sign-in page.
func (c *Config) SigninConnectors() []string {
	var out []string
	if c.AuthKitSignin() {
		out = append(out, "workos")
	}
	if c.SigninOIDCIssuer != "" {
		out = append(out, "oidc")
	}
	if c.SigninGitHubClientID != "" {
		out = append(out, "github")
	}
	if c.SigninGoogleClientID != "" {
		out = append(out, "google")
	}
	return out
}

// signinCheck applies the rules across the sign-in settings.
func (r *resolver) signinCheck(c *Config) {
	if c.SigninOIDCIssuer != "" && c.SigninOIDCClientID == "" {
		r.errs = append(r.errs, errors.New("ATOMCP_SIGNIN_OIDC_ISSUER is set but ATOMCP_SIGNIN_OIDC_CLIENT_ID is not; set the client id of atomcp's application at the provider"))
	}
	if c.SigninGitHubClientID != "" && !c.SigninGitHubClientSecret.IsSet() {
		r.errs = append(r.errs, errors.New("ATOMCP_SIGNIN_GITHUB_CLIENT_ID is set but ATOMCP_SIGNIN_GITHUB_CLIENT_SECRET is not; GitHub needs the OAuth app's client secret"))
	}
	if c.SigninGoogleClientID != "" && !c.SigninGoogleClientSecret.IsSet() {
		r.errs = append(r.errs, errors.New("ATOMCP_SIGNIN_GOOGLE_CLIENT_ID is set but ATOMCP_SIGNIN_GOOGLE_CLIENT_SECRET is not; Google needs the OAuth client's secret"))
	}
	connectors := c.SigninConnectors()
	if c.Auth == AuthEmbedded && !c.SigninPassword && len(connectors) == 0 {
		r.errs = append(r.errs, fmt.Errorf("ATOMCP_SIGNIN_PASSWORD=false (from %s) turns the password form off, but no identity provider is configured, so nobody could sign in; configure one (docs/signin.md) or remove it", r.sources[KeySigninPassword]))
	}
	if c.Auth != AuthEmbedded {
		var set []string
		for _, k := range []string{KeySigninOIDCIssuer, KeySigninGitHubClientID, KeySigninGoogleClientID} {
			if c.source(k) != sourceDefault {
				set = append(set, r.sources[k])
			}
		}
		if len(set) > 0 {
			r.warnings = append(r.warnings, fmt.Sprintf("the sign-in settings %s are ignored because auth is %s (from %s); sign-in through identity providers is a step of the embedded authorization server (ATOMCP_AUTH=embedded)",
				strings.Join(set, ", "), c.Auth, r.sources[KeyAuth]))
		}
	}
	if c.AuthKitSignin() && !c.WorkOSAPIKey.IsSet() {
		r.warnings = append(r.warnings, "WORKOS_CLIENT_ID is set without WORKOS_API_KEY (the AuthKit application's client secret): signing in through AuthKit works only if the application is public")
	}
}

var nameItem = regexp.MustCompile(`^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$`)

const acceptedNames = "accepted: names separated by commas or spaces, such as example.com,atoms.tech (letters, digits, dots and hyphens)"

// parseNames parses a list of domains or organization logins,
// lower-cased, without duplicates.
func parseNames(s string) ([]string, error) {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
		f = strings.ToLower(strings.TrimPrefix(f, "@"))
		if !nameItem.MatchString(f) {
			return nil, fmt.Errorf("%q is not a domain or organization name; %s", f, acceptedNames)
		}
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out, nil
}

// parseSigninURL parses a provider's base URL (GitHub Enterprise Server):
// https, or http for loopback; no trailing slash.
func parseSigninURL(s string) (string, error) {
	v, err := parseIssuer(s)
	if err != nil {
		return "", err
	}
	u, _ := url.Parse(v)
	return strings.TrimSuffix(u.String(), "/"), nil
}
