package connector_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/oauth2-proxy/mockoidc"

	"github.com/atomcp/atomcp/internal/authserver/connector"
	"github.com/atomcp/atomcp/internal/authserver/connector/connectortest"
)

const redirect = "http://127.0.0.1:1/oauth/callback"

func startOIDC(t *testing.T) *mockoidc.MockOIDC {
	t.Helper()
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	return m
}

func common(id, secret string) connector.Common {
	return connector.Common{ClientID: id, ClientSecret: secret, RedirectURL: redirect}
}

var attempt = connector.Attempt{State: "state-123", Nonce: "nonce-456", Verifier: "verifier-verifier-verifier-verifier-verifier-0123"}

// signIn follows the connector to the provider and back, as a browser
// would, and returns the identity or the connector's error.
func signIn(t *testing.T, c connector.Connector, a connector.Attempt) (*connector.Identity, error) {
	t.Helper()
	ctx := context.Background()
	u, err := c.AuthURL(ctx, a)
	if err != nil {
		return nil, err
	}
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("provider answered %s", resp.Status)
	}
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != redirect {
		t.Fatalf("provider returned to %s, want %s", got, redirect)
	}
	if loc.Query().Get("state") != a.State {
		t.Fatalf("state came back as %q", loc.Query().Get("state"))
	}
	return c.Identity(ctx, loc.Query().Get("code"), a)
}

func wantInvalid(t *testing.T, err error, check string) {
	t.Helper()
	var ce *connector.Error
	if !errors.As(err, &ce) || ce.Kind != connector.InvalidToken || ce.Check != check {
		t.Fatalf("err = %v, want an invalid ID token failing the %s check", err, check)
	}
}

func TestOIDCSignsInWithVerifiedIDToken(t *testing.T) {
	m := startOIDC(t)
	c := connector.NewOIDC(connector.OIDCConfig{Common: common(m.ClientID, m.ClientSecret), Issuer: m.Issuer(), Name: "Keycloak"})
	if err := c.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	u := connectortest.NewUser("sub-1", "Ada@Example.com")
	m.QueueUser(u)
	id, err := signIn(t, c, attempt)
	if err != nil {
		t.Fatal(err)
	}
	if id.Subject != "sub-1" || id.Email != "ada@example.com" || !id.EmailVerified || id.Refusal != "" {
		t.Fatalf("identity = %+v", id)
	}
	if c.ID() != "oidc" || c.Name() != "Keycloak" {
		t.Fatalf("id %q name %q", c.ID(), c.Name())
	}
}

func TestOIDCSendsS256AndNonce(t *testing.T) {
	m := startOIDC(t)
	c := connector.NewOIDC(connector.OIDCConfig{Common: common(m.ClientID, m.ClientSecret), Issuer: m.Issuer()})
	u, err := c.AuthURL(context.Background(), attempt)
	if err != nil {
		t.Fatal(err)
	}
	q, _ := url.Parse(u)
	v := q.Query()
	if v.Get("code_challenge_method") != "S256" || v.Get("code_challenge") == "" || v.Get("nonce") != attempt.Nonce ||
		v.Get("state") != attempt.State || v.Get("redirect_uri") != redirect || v.Get("scope") != "openid email profile" {
		t.Fatalf("authorization URL %s", u)
	}
}

func TestOIDCRefusesBadIDTokens(t *testing.T) {
	for _, tc := range []struct {
		name, claim, value, check string
	}{
		{"wrong nonce", "nonce", "someone-elses", "nonce"},
		{"other issuer", "iss", "https://evil.example/oidc", "issuer"},
		{"other audience", "aud", "another-client", "audience"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := startOIDC(t)
			c := connector.NewOIDC(connector.OIDCConfig{Common: common(m.ClientID, m.ClientSecret), Issuer: m.Issuer()})
			u := connectortest.NewUser("sub-1", "ada@example.com")
			u.Override = map[string]string{tc.claim: tc.value}
			m.QueueUser(u)
			_, err := signIn(t, c, attempt)
			wantInvalid(t, err, tc.check)
			if strings.Contains(err.Error(), "eyJ") {
				t.Fatalf("error shows a token: %v", err)
			}
		})
	}
}

func TestOIDCRefusesAWrongVerifier(t *testing.T) {
	m := startOIDC(t)
	c := connector.NewOIDC(connector.OIDCConfig{Common: common(m.ClientID, m.ClientSecret), Issuer: m.Issuer()})
	u, _ := c.AuthURL(context.Background(), attempt)
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	other := attempt
	other.Verifier = "another-verifier-another-verifier-another-verifier"
	_, err = c.Identity(context.Background(), loc.Query().Get("code"), other)
	var ce *connector.Error
	if !errors.As(err, &ce) || ce.Kind != connector.Rejected {
		t.Fatalf("err = %v, want the provider's refusal", err)
	}
}

func TestOIDCEmailVerifiedFalseAndAsString(t *testing.T) {
	m := startOIDC(t)
	c := connector.NewOIDC(connector.OIDCConfig{Common: common(m.ClientID, m.ClientSecret), Issuer: m.Issuer()})
	u := connectortest.NewUser("sub-1", "ada@example.com")
	u.EmailVerified = false
	m.QueueUser(u)
	id, err := signIn(t, c, attempt)
	if err != nil || id.EmailVerified {
		t.Fatalf("identity %+v, err %v; want an unverified email", id, err)
	}
	u2 := connectortest.NewUser("sub-2", "bob@example.com")
	u2.Extra = map[string]any{"email_verified": "true"}
	m.QueueUser(u2)
	if id, err = signIn(t, c, attempt); err != nil || !id.EmailVerified {
		t.Fatalf("identity %+v, err %v; want \"true\" read as verified", id, err)
	}
}

func TestOIDCUnreachableNamesTheProvider(t *testing.T) {
	c := connector.NewOIDC(connector.OIDCConfig{Common: common("a", "b"), Issuer: "http://127.0.0.1:1/nothing", Name: "Okta"})
	_, err := c.AuthURL(context.Background(), attempt)
	var ce *connector.Error
	if !errors.As(err, &ce) || ce.Kind != connector.Unreachable || !strings.Contains(err.Error(), "Okta") {
		t.Fatalf("err = %v", err)
	}
}

func TestOIDCIssuerMismatchIsExplained(t *testing.T) {
	m := startOIDC(t)
	c := connector.NewOIDC(connector.OIDCConfig{Common: common("a", "b"), Issuer: m.Issuer() + "/"})
	err := c.Check(context.Background())
	if err == nil || !strings.Contains(err.Error(), "names the issuer") {
		t.Fatalf("err = %v", err)
	}
}

func TestWorkOSKeepsOrgAndPostsTheSecret(t *testing.T) {
	m := startOIDC(t)
	c := connector.NewWorkOS(connector.WorkOSConfig{Common: common(m.ClientID, m.ClientSecret), Domain: m.Issuer()})
	u := connectortest.NewUser("user_01", "ada@example.com")
	u.Extra = map[string]any{"org_id": "org_42"}
	m.QueueUser(u)
	id, err := signIn(t, c, attempt)
	if err != nil {
		t.Fatal(err)
	}
	if id.OrgID != "org_42" || id.Subject != "user_01" || c.ID() != "workos" {
		t.Fatalf("identity %+v", id)
	}
}

func TestGoogleHostedDomainRule(t *testing.T) {
	m := startOIDC(t)
	c := connector.NewGoogle(connector.GoogleConfig{Common: common(m.ClientID, m.ClientSecret), Issuer: m.Issuer(), Domains: []string{"Example.com"}})
	u := connectortest.NewUser("g-1", "ada@example.com")
	u.Extra = map[string]any{"hd": "example.com"}
	m.QueueUser(u)
	id, err := signIn(t, c, attempt)
	if err != nil || id.Refusal != "" {
		t.Fatalf("identity %+v, err %v", id, err)
	}
	m.QueueUser(connectortest.NewUser("g-2", "eve@gmail.com"))
	id, err = signIn(t, c, attempt)
	if err != nil || !strings.Contains(id.Refusal, "ATOMCP_SIGNIN_GOOGLE_DOMAINS") {
		t.Fatalf("identity %+v, err %v; want the hd rule to refuse", id, err)
	}
}

func TestGitHub(t *testing.T) {
	g := connectortest.NewGitHub(t)
	c := connector.NewGitHub(connector.GitHubConfig{Common: common(g.ClientID, g.ClientSecret), URL: g.URL, Orgs: []string{"Atoms"}})
	if err := c.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	g.Queue(connectortest.GitHubUser{ID: 7, Login: "ada", Email: "Ada@Example.com", EmailVerified: true, Orgs: []string{"atoms"}})
	id, err := signIn(t, c, attempt)
	if err != nil {
		t.Fatal(err)
	}
	if id.Subject != "7" || id.Email != "ada@example.com" || !id.EmailVerified || id.Name != "ada" || id.Refusal != "" {
		t.Fatalf("identity %+v", id)
	}
	g.Queue(connectortest.GitHubUser{ID: 8, Login: "eve", Email: "eve@example.com", EmailVerified: false, Orgs: []string{"other"}})
	id, err = signIn(t, c, attempt)
	if err != nil {
		t.Fatal(err)
	}
	if id.EmailVerified || !strings.Contains(id.Refusal, "ATOMCP_SIGNIN_GITHUB_ORGS") {
		t.Fatalf("identity %+v; want an unverified email and the org rule refusing", id)
	}
}

func TestGitHubRefusesAWrongVerifier(t *testing.T) {
	g := connectortest.NewGitHub(t)
	c := connector.NewGitHub(connector.GitHubConfig{Common: common(g.ClientID, g.ClientSecret), URL: g.URL})
	u, _ := c.AuthURL(context.Background(), attempt)
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	other := attempt
	other.Verifier = "another-verifier-another-verifier-another-verifier"
	_, err = c.Identity(context.Background(), loc.Query().Get("code"), other)
	var ce *connector.Error
	if !errors.As(err, &ce) || ce.Kind != connector.Rejected {
		t.Fatalf("err = %v, want the provider's refusal", err)
	}
}

// The AuthKit stand-in used end to end: a domain without a path.
func TestWorkOSAgainstAnAuthKitDomain(t *testing.T) {
	ak := connectortest.NewAuthKit(t)
	c := connector.NewWorkOS(connector.WorkOSConfig{Common: common(ak.ClientID, ak.ClientSecret), Domain: ak.Domain + "/"})
	if err := c.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	ak.Queue(connectortest.NewUser("user_02", "bea@example.com"))
	id, err := signIn(t, c, attempt)
	if err != nil || id.Subject != "user_02" || !id.EmailVerified {
		t.Fatalf("identity %+v, err %v", id, err)
	}
}
