package config

import (
	"reflect"
	"strings"
	"testing"
)

// The old .env of the guide, with ATOMCP_AUTH=embedded added: atomcp signs
// in through AuthKit, and the scopes that were AuthKit's become what
// atomcp asks AuthKit for, not scopes of atomcp's own tokens.
func TestOldDotenvWithEmbeddedSignsInThroughAuthKit(t *testing.T) {
	old := "FASTMCP_SERVER_AUTH_AUTHKITPROVIDER_AUTHKIT_DOMAIN=https://decent-ocean-12.authkit.app\n" +
		"FASTMCP_SERVER_AUTH_AUTHKITPROVIDER_BASE_URL=https://atoms.example\n" +
		"FASTMCP_SERVER_AUTH_AUTHKITPROVIDER_REQUIRED_SCOPES=openid,profile,email\n" +
		"WORKOS_CLIENT_ID=client_01ABC\nWORKOS_API_KEY=sk_test_123\n"
	c := mustLoad(t, input{env: []string{"ATOMCP_AUTH=embedded"}, dotenv: old})
	if !c.AuthKitSignin() || !reflect.DeepEqual(c.SigninConnectors(), []string{"workos"}) {
		t.Fatalf("AuthKitSignin %v, connectors %v; want AuthKit", c.AuthKitSignin(), c.SigninConnectors())
	}
	if got := c.AuthKitScopes(); !reflect.DeepEqual(got, []string{"openid", "profile", "email"}) {
		t.Errorf("AuthKitScopes = %v", got)
	}
	if got := c.TokenRequiredScopes(); got != nil {
		t.Errorf("TokenRequiredScopes = %v; want none (they were AuthKit's)", got)
	}
	for _, w := range c.Warnings {
		if strings.Contains(w, "AuthKit domain") {
			t.Errorf("warning %q: the domain is used", w)
		}
	}
	// Without ATOMCP_AUTH=embedded the old .env means AuthKit as the
	// authorization server, as before.
	c = mustLoad(t, input{dotenv: old + "FASTMCP_SERVER_AUTH=fastmcp.server.auth.providers.workos.AuthKitProvider\n"})
	if c.AuthKitSignin() || c.AuthKitScopes() != nil || len(c.TokenRequiredScopes()) != 3 {
		t.Errorf("authkit mode: signin %v scopes %v required %v", c.AuthKitSignin(), c.AuthKitScopes(), c.TokenRequiredScopes())
	}
	// ATOMCP_REQUIRED_SCOPES stays a requirement of atomcp's tokens.
	c = mustLoad(t, input{env: []string{"ATOMCP_AUTH=embedded", "ATOMCP_REQUIRED_SCOPES=atoms:read"}, dotenv: old})
	if c.AuthKitScopes() != nil || !reflect.DeepEqual(c.TokenRequiredScopes(), []string{"atoms:read"}) {
		t.Errorf("explicit required scopes: authkit %v, tokens %v", c.AuthKitScopes(), c.TokenRequiredScopes())
	}
}

func TestSigninSettingsRules(t *testing.T) {
	for name, tc := range map[string]struct {
		env  []string
		want string
	}{
		"password off, no provider": {[]string{"ATOMCP_SIGNIN_PASSWORD=false"}, "nobody could sign in"},
		"issuer without client":     {[]string{"ATOMCP_SIGNIN_OIDC_ISSUER=https://idp.example"}, "ATOMCP_SIGNIN_OIDC_CLIENT_ID is not"},
		"github without secret":     {[]string{"ATOMCP_SIGNIN_GITHUB_CLIENT_ID=abc"}, "ATOMCP_SIGNIN_GITHUB_CLIENT_SECRET is not"},
		"google without secret":     {[]string{"ATOMCP_SIGNIN_GOOGLE_CLIENT_ID=abc"}, "ATOMCP_SIGNIN_GOOGLE_CLIENT_SECRET is not"},
		"bad domain":                {[]string{"ATOMCP_SIGNIN_ALLOWED_DOMAINS=example.com,not a/domain"}, "not a domain"},
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := load(t, input{env: tc.env})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v; want %q", err, tc.want)
			}
		})
	}
	c := mustLoad(t, input{env: []string{"ATOMCP_SIGNIN_PASSWORD=false", "ATOMCP_SIGNIN_GITHUB_CLIENT_ID=abc",
		"ATOMCP_SIGNIN_GITHUB_CLIENT_SECRET=s", "ATOMCP_SIGNIN_GITHUB_ORGS=Atoms, @Other", "ATOMCP_SIGNIN_AUTO_CREATE=false"}})
	if c.SigninPassword || c.SigninAutoCreate || !reflect.DeepEqual(c.SigninGitHubOrgs, []string{"atoms", "other"}) {
		t.Fatalf("config %v", c)
	}
	c = mustLoad(t, input{env: []string{"ATOMCP_AUTH=none", "ATOMCP_SIGNIN_GITHUB_CLIENT_ID=abc", "ATOMCP_SIGNIN_GITHUB_CLIENT_SECRET=s"}})
	if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "ATOMCP_SIGNIN_GITHUB_CLIENT_ID are ignored because auth is none") {
		t.Fatalf("warnings %q", c.Warnings)
	}
}
