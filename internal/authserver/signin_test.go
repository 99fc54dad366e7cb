package authserver

import (
	"context"
	"html"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"

	"github.com/atomcp/atomcp/internal/authserver/connector"
	"github.com/atomcp/atomcp/internal/authserver/connector/connectortest"
	"github.com/atomcp/atomcp/internal/secretkey"
	"github.com/atomcp/atomcp/internal/store"
)

// signinHarness is an authorization server with an OpenID connector to a
// mockoidc provider started for the test.
type signinHarness struct {
	*harness
	idp *mockoidc.MockOIDC
}

func newSigninHarness(t *testing.T, mods ...func(*Options)) *signinHarness {
	t.Helper()
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	add := func(o *Options) {
		o.Connectors = append(o.Connectors, connector.NewOIDC(connector.OIDCConfig{
			Common: connector.Common{ClientID: m.ClientID, ClientSecret: m.ClientSecret, RedirectURL: o.Issuer + PathCallback},
			Issuer: m.Issuer(), Name: "Keycloak"}))
	}
	return &signinHarness{harness: newHarness(t, append([]func(*Options){add}, mods...)...), idp: m}
}

var buttonLink = regexp.MustCompile(`<a class="button primary" href="([^"]+)">Sign in with ([^<]+)</a>`)

// button returns the link of the sign-in page's button for name.
func button(t *testing.T, page *response, name string) string {
	t.Helper()
	for _, m := range buttonLink.FindAllStringSubmatch(page.body, -1) {
		if m[2] == name {
			return html.UnescapeString(m[1])
		}
	}
	t.Fatalf("no %q button on the page:\n%s", name, page.body)
	return ""
}

// toProvider starts a sign-in at the named connector from a fresh
// authorization request and returns the provider's redirect back to
// atomcp (not followed). Each sign-in is in a fresh browser.
func (h *signinHarness) toProvider(clientID, name string) *url.URL {
	h.t.Helper()
	h.hc.Jar, _ = newJar()
	page := h.get(h.authorizeURL(clientID, nil))
	r := h.get(button(h.t, page, name))
	if r.status != http.StatusFound {
		h.t.Fatalf("sign-in start: %d %s", r.status, r.body)
	}
	r = h.get(r.header.Get("Location"))
	if r.status != http.StatusFound {
		h.t.Fatalf("provider: %d %s", r.status, r.body)
	}
	back, err := url.Parse(r.header.Get("Location"))
	if err != nil || back.Path != PathCallback {
		h.t.Fatalf("provider returned to %q", r.header.Get("Location"))
	}
	return back
}

// signIn signs in at the named connector and returns what the callback
// answered: the consent page, a redirect to the client, or an error page.
func (h *signinHarness) signInAt(clientID, name string) *response {
	h.t.Helper()
	return h.get(h.toProvider(clientID, name).String())
}

// errorPage checks an error page's status and words.
func errorPage(t *testing.T, r *response, status int, words ...string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d; want %d\n%s", r.status, status, r.body)
	}
	body := html.UnescapeString(r.body)
	for _, w := range words {
		if !strings.Contains(body, w) {
			t.Errorf("page does not say %q:\n%s", w, body)
		}
	}
	if strings.Contains(body, "eyJ") {
		t.Errorf("page shows a token:\n%s", body)
	}
}

func (h *harness) accounts() int {
	h.t.Helper()
	n, err := h.st.CountLocalAccounts(h.t.Context())
	if err != nil {
		h.t.Fatal(err)
	}
	return n
}

func (h *harness) identity(connectorID, subject string) *store.LinkedIdentity {
	h.t.Helper()
	li, err := h.st.GetLinkedIdentity(h.t.Context(), connectorID, subject)
	if err != nil {
		return nil
	}
	return li
}

// finish completes a sign-in whose callback answered r: consent, code,
// tokens.
func (h *harness) finish(clientID string, r *response) map[string]any {
	h.t.Helper()
	if strings.Contains(r.body, `value="allow"`) {
		r = h.consent(r, "allow")
	}
	q := redirectParams(h.t, r)
	tr := h.exchange(clientID, q.Get("code"))
	if tr.status != http.StatusOK {
		h.t.Fatalf("token: %d %s", tr.status, tr.body)
	}
	return tr.json(h.t)
}

func TestSigninCreatesAccountAndIssuesTokens(t *testing.T) {
	h := newSigninHarness(t)
	client := h.publicClient()
	page := h.get(h.authorizeURL(client, nil))
	if !strings.Contains(page.body, `name="password"`) || !strings.Contains(page.body, "Sign in with Keycloak") {
		t.Fatalf("sign-in page lacks the button or the password form:\n%s", page.body)
	}
	h.idp.QueueUser(connectortest.NewUser("kc-1", "ada@example.com"))
	tok := h.finish(client, h.signInAt(client, "Keycloak"))
	claims, err := h.checkAccess(tok["access_token"].(string))
	if err != nil {
		t.Fatal(err)
	}
	a, err := h.st.GetLocalAccountByEmail(t.Context(), "ada@example.com")
	if err != nil || claims.Subject != a.ID || a.Role != "user" {
		t.Fatalf("account %+v (%v); token subject %s", a, err, claims.Subject)
	}
	li := h.identity("oidc", "kc-1")
	if li == nil || li.AccountID != a.ID || li.Email != "ada@example.com" {
		t.Fatalf("linked identity %+v", li)
	}
	// The account has no password: the password form never lets it in.
	r := h.signIn(h.get(h.authorizeURL(client, url.Values{"prompt": {"login"}})), "ada@example.com", "")
	if r.status != http.StatusUnauthorized {
		t.Fatalf("password sign-in of a connector account: %d", r.status)
	}
	if _, err := h.srv.checkCredentials(t.Context(), "ada@example.com", noPasswordHash, "192.0.2.1"); err != errBadCredentials {
		t.Fatalf("checkCredentials with the marker as password: %v", err)
	}
}

func TestSigninLinksByVerifiedEmailThenBySubject(t *testing.T) {
	h := newSigninHarness(t)
	client := h.publicClient()
	existing := h.account("bob@example.com")
	h.idp.QueueUser(connectortest.NewUser("kc-2", "Bob@Example.com"))
	tok := h.finish(client, h.signInAt(client, "Keycloak"))
	if c, _ := h.checkAccess(tok["access_token"].(string)); c.Subject != existing.ID {
		t.Fatalf("signed in as %s; want the existing account %s", c.Subject, existing.ID)
	}
	if h.accounts() != 1 {
		t.Fatalf("%d accounts; want the one linked, not a duplicate", h.accounts())
	}
	// Later the provider reports another address: the subject decides.
	h.clock.Advance(time.Hour)
	h.idp.QueueUser(connectortest.NewUser("kc-2", "robert@other.example"))
	tok = h.finish(client, h.signInAt(client, "Keycloak"))
	if c, _ := h.checkAccess(tok["access_token"].(string)); c.Subject != existing.ID {
		t.Fatalf("second sign-in as %s; want %s", c.Subject, existing.ID)
	}
	li := h.identity("oidc", "kc-2")
	if li.Email != "robert@other.example" || !li.LastUsedAt.Equal(h.clock.Now()) || li.CreatedAt.Equal(li.LastUsedAt) {
		t.Fatalf("identity after the second sign-in: %+v", li)
	}
}

func TestSigninRefusesUnverifiedEmail(t *testing.T) {
	h := newSigninHarness(t)
	client := h.publicClient()
	h.account("carol@example.com")
	u := connectortest.NewUser("kc-3", "carol@example.com")
	u.EmailVerified = false
	h.idp.QueueUser(u)
	errorPage(t, h.signInAt(client, "Keycloak"), http.StatusForbidden, "not", "verified", "carol@example.com")
	if h.identity("oidc", "kc-3") != nil || h.accounts() != 1 {
		t.Fatal("an unverified email was linked or created an account")
	}
	u2 := connectortest.NewUser("kc-4", "dave@example.com")
	u2.EmailVerified = false
	h.idp.QueueUser(u2)
	errorPage(t, h.signInAt(client, "Keycloak"), http.StatusForbidden, "verified")
	if h.accounts() != 1 {
		t.Fatal("an unverified email created an account")
	}
}

func TestSigninAllowedDomains(t *testing.T) {
	h := newSigninHarness(t, func(o *Options) { o.SigninRules.AllowedDomains = []string{"example.com", "atoms.tech"} })
	client := h.publicClient()
	h.idp.QueueUser(connectortest.NewUser("kc-5", "eve@elsewhere.org"))
	r := h.signInAt(client, "Keycloak")
	errorPage(t, r, http.StatusForbidden, "ATOMCP_SIGNIN_ALLOWED_DOMAINS")
	if strings.Contains(r.body, "atoms.tech") {
		t.Error("the page lists the allowed domains")
	}
	if h.accounts() != 0 {
		t.Fatal("an account was created for a domain not allowed")
	}
	// An account that exists already was admitted: it links whatever its
	// domain.
	h.account("frank@elsewhere.org")
	h.idp.QueueUser(connectortest.NewUser("kc-6", "frank@elsewhere.org"))
	h.finish(client, h.signInAt(client, "Keycloak"))
	h.idp.QueueUser(connectortest.NewUser("kc-7", "grace@atoms.tech"))
	h.finish(client, h.signInAt(client, "Keycloak"))
	if h.accounts() != 2 || h.identity("oidc", "kc-7") == nil {
		t.Fatalf("%d accounts; want frank's and a new one for grace", h.accounts())
	}
}

func TestSigninAutoCreateOff(t *testing.T) {
	h := newSigninHarness(t, func(o *Options) { o.SigninRules.NoAutoCreate = true })
	client := h.publicClient()
	h.idp.QueueUser(connectortest.NewUser("kc-8", "heidi@example.com"))
	errorPage(t, h.signInAt(client, "Keycloak"), http.StatusForbidden, "ATOMCP_SIGNIN_AUTO_CREATE=false", "atomcp users add heidi@example.com")
	if h.accounts() != 0 {
		t.Fatal("an account was created with auto-create off")
	}
	h.account("heidi@example.com")
	h.idp.QueueUser(connectortest.NewUser("kc-8", "heidi@example.com"))
	h.finish(client, h.signInAt(client, "Keycloak"))
}

func TestSigninDisabledAccountStaysDisabled(t *testing.T) {
	h := newSigninHarness(t)
	client := h.publicClient()
	a := h.account("ivan@example.com")
	h.idp.QueueUser(connectortest.NewUser("kc-9", "ivan@example.com"))
	h.finish(client, h.signInAt(client, "Keycloak"))
	if err := SetAccountDisabled(t.Context(), h.st, a, true, h.clock.Now()); err != nil {
		t.Fatal(err)
	}
	h.idp.QueueUser(connectortest.NewUser("kc-9", "ivan@example.com"))
	errorPage(t, h.signInAt(client, "Keycloak"), http.StatusForbidden, "disabled")
	h.idp.QueueUser(connectortest.NewUser("kc-10", "ivan@example.com")) // not linked yet: by email
	errorPage(t, h.signInAt(client, "Keycloak"), http.StatusForbidden, "disabled")
	if h.identity("oidc", "kc-10") != nil {
		t.Fatal("an identity was linked to a disabled account")
	}
}

func TestSigninUnlink(t *testing.T) {
	h := newSigninHarness(t)
	client := h.publicClient()
	h.idp.QueueUser(connectortest.NewUser("kc-11", "judy@example.com"))
	h.finish(client, h.signInAt(client, "Keycloak"))
	a, _ := FindAccount(t.Context(), h.st, "judy@example.com")
	ids, err := LinkedIdentities(t.Context(), h.st, a.ID)
	if err != nil || len(ids) != 1 {
		t.Fatalf("identities %v, %v", ids, err)
	}
	if err := UnlinkIdentity(t.Context(), h.st, a, "oidc"); err != nil {
		t.Fatal(err)
	}
	if h.identity("oidc", "kc-11") != nil {
		t.Fatal("still linked after unlink")
	}
	if err := UnlinkIdentity(t.Context(), h.st, a, "oidc"); err == nil || !strings.Contains(err.Error(), "no oidc identity") {
		t.Fatalf("second unlink: %v", err)
	}
}

func TestSigninGitHubOrgs(t *testing.T) {
	gh := connectortest.NewGitHub(t)
	h := newHarness(t, func(o *Options) {
		o.Connectors = []connector.Connector{connector.NewGitHub(connector.GitHubConfig{
			Common: connector.Common{ClientID: gh.ClientID, ClientSecret: gh.ClientSecret, RedirectURL: o.Issuer + PathCallback},
			URL:    gh.URL, Orgs: []string{"atoms"}})}
	})
	sh := &signinHarness{harness: h}
	client := h.publicClient()
	gh.Queue(connectortest.GitHubUser{ID: 1, Login: "outsider", Email: "out@example.com", EmailVerified: true, Orgs: []string{"other"}})
	errorPage(t, sh.signInAt(client, "GitHub"), http.StatusForbidden, "ATOMCP_SIGNIN_GITHUB_ORGS")
	if h.accounts() != 0 {
		t.Fatal("an outsider got an account")
	}
	gh.Queue(connectortest.GitHubUser{ID: 2, Login: "member", Email: "member@example.com", EmailVerified: true, Orgs: []string{"Atoms"}})
	h.finish(client, sh.signInAt(client, "GitHub"))
	if li := h.identity("github", "2"); li == nil || li.Email != "member@example.com" {
		t.Fatalf("identity %+v", li)
	}
	// An existing account links even outside the organizations.
	h.account("out@example.com")
	gh.Queue(connectortest.GitHubUser{ID: 1, Login: "outsider", Email: "out@example.com", EmailVerified: true, Orgs: []string{"other"}})
	h.finish(client, sh.signInAt(client, "GitHub"))
}

func TestSigninRefusesTamperedStateAndReplay(t *testing.T) {
	h := newSigninHarness(t)
	client := h.publicClient()
	back := h.toProvider(client, "Keycloak")
	q := back.Query()
	state := q.Get("state")
	q.Set("state", state+"x")
	tampered := *back
	tampered.RawQuery = q.Encode()
	errorPage(t, h.get(tampered.String()), http.StatusBadRequest, "unknown or expired", "Start again from your MCP client")
	if h.accounts() != 0 {
		t.Fatal("a tampered callback created an account")
	}
	// The real answer still works once.
	cookies := h.hc.Jar.Cookies(back)
	h.finish(client, h.get(back.String()))
	// Replayed without the browser's cookie (someone else) and with it.
	errorPage(t, h.get(back.String()), http.StatusBadRequest, "unknown or expired")
	h.hc.Jar.SetCookies(back, cookies)
	errorPage(t, h.get(back.String()), http.StatusBadRequest, "completed already")
	if h.accounts() != 1 {
		t.Fatalf("%d accounts; want 1", h.accounts())
	}
}

func TestSigninRefusesBadIDTokens(t *testing.T) {
	for _, tc := range []struct{ claim, value, check string }{
		{"nonce", "not-the-nonce", "nonce"},
		{"iss", "https://other-issuer.example/oidc", "issuer"},
		{"aud", "another-client", "audience"},
	} {
		t.Run(tc.check, func(t *testing.T) {
			h := newSigninHarness(t)
			client := h.publicClient()
			u := connectortest.NewUser("kc-12", "kim@example.com")
			u.Override = map[string]string{tc.claim: tc.value}
			h.idp.QueueUser(u)
			errorPage(t, h.signInAt(client, "Keycloak"), http.StatusBadGateway, "failed the "+tc.check+" check", "Keycloak")
			if h.accounts() != 0 || h.identity("oidc", "kc-12") != nil {
				t.Fatal("a bad ID token created an account")
			}
		})
	}
}

func TestSigninExpiredRequest(t *testing.T) {
	h := newSigninHarness(t)
	client := h.publicClient()
	back := h.toProvider(client, "Keycloak")
	h.clock.Advance(signinTTL + time.Second)
	errorPage(t, h.get(back.String()), http.StatusBadRequest, "expired", "10 minutes")
	if h.accounts() != 0 {
		t.Fatal("an expired sign-in created an account")
	}
}

func TestSigninSurvivesRestart(t *testing.T) {
	h := newSigninHarness(t)
	client := h.publicClient()
	back := h.toProvider(client, "Keycloak")
	h.restart()
	h.finish(client, h.get(back.String()))
}

func TestSigninAccessDenied(t *testing.T) {
	h := newSigninHarness(t)
	client := h.publicClient()
	back := h.toProvider(client, "Keycloak")
	q := back.Query()
	q.Del("code")
	q.Set("error", "access_denied")
	back.RawQuery = q.Encode()
	errorPage(t, h.get(back.String()), http.StatusForbidden, "Keycloak said access_denied", "start again from your MCP client")
}

func TestSigninProviderUnreachable(t *testing.T) {
	h := newHarness(t, func(o *Options) {
		o.Connectors = []connector.Connector{connector.NewOIDC(connector.OIDCConfig{
			Common: connector.Common{ClientID: "x", ClientSecret: "y", RedirectURL: o.Issuer + PathCallback},
			Issuer: "http://127.0.0.1:1/down", Name: "Okta"})}
	})
	client := h.publicClient()
	page := h.get(h.authorizeURL(client, nil))
	errorPage(t, h.get(button(t, page, "Okta")), http.StatusBadGateway, "Okta could not be reached")
}

func TestSigninSingleConnectorWithoutPasswordRedirects(t *testing.T) {
	h := newSigninHarness(t, func(o *Options) { o.NoPassword = true })
	client := h.publicClient()
	r := h.get(h.authorizeURL(client, nil))
	if r.status != http.StatusFound || !strings.HasPrefix(r.header.Get("Location"), h.idp.Issuer()) {
		t.Fatalf("authorize: %d to %q; want straight to the provider", r.status, r.header.Get("Location"))
	}
	// The password form is refused too.
	f := url.Values{"authz": {strings.SplitN(h.authorizeURL(client, nil), "?", 2)[1]}, "email": {"a@example.com"}, "password": {"x"}}
	f.Set("csrf_token", "t")
	u, _ := url.Parse(h.ts.URL + "/oauth/")
	h.hc.Jar.SetCookies(u, []*http.Cookie{{Name: csrfCookie, Value: "t", Path: "/oauth"}})
	if r := h.postForm(PathLogin, f); r.status == http.StatusFound || strings.Contains(r.body, "Wrong email") {
		t.Fatalf("password login with the form off: %d %s", r.status, r.body)
	}
}

func newJar() (http.CookieJar, error) { return cookiejar.New(nil) }

// signinRecorder keeps the sign-in requests the server stores.
type signinRecorder struct {
	store.Store
	created []store.SigninRequest
}

func (r *signinRecorder) CreateSigninRequest(ctx context.Context, sr *store.SigninRequest) error {
	r.created = append(r.created, *sr)
	return r.Store.CreateSigninRequest(ctx, sr)
}

// The nonce and PKCE verifier of a sign-in in progress are sealed with
// the key-encryption key in the database, as the signing keys are, and
// the sign-in still completes.
func TestSigninRequestSecretsSealedAtRest(t *testing.T) {
	kek, _, err := secretkey.Generate()
	if err != nil {
		t.Fatal(err)
	}
	rec := &signinRecorder{}
	h := newSigninHarness(t, func(o *Options) {
		o.SecretKey = kek
		rec.Store = o.Store
		o.Store = rec
	})
	client := h.publicClient()
	h.idp.QueueUser(connectortest.NewUser("kc-sealed", "sealed@example.com"))
	h.hc.Jar, _ = newJar()
	r := h.get(button(t, h.get(h.authorizeURL(client, nil)), "Keycloak"))
	toIdP, err := url.Parse(r.header.Get("Location"))
	if r.status != http.StatusFound || err != nil {
		t.Fatalf("sign-in start: %d %q", r.status, r.header.Get("Location"))
	}
	nonce := toIdP.Query().Get("nonce")
	if len(rec.created) != 1 || nonce == "" {
		t.Fatalf("stored %d sign-in requests; nonce %q", len(rec.created), nonce)
	}
	sr := rec.created[0]
	for name, v := range map[string]string{"nonce": sr.Nonce, "verifier": sr.Verifier} {
		if !strings.HasPrefix(v, sealedTextPrefix) {
			t.Errorf("stored %s is not sealed: %q", name, v)
		}
	}
	if strings.Contains(sr.Nonce, nonce) || strings.Contains(sr.Verifier, nonce) {
		t.Error("the nonce sent to the provider is in the stored row")
	}
	// Opening with the row of another request fails: the seal is bound
	// to its state hash.
	if _, err := h.srv.openText(sr.Verifier, "another-state-hash"); err == nil {
		t.Error("a sealed verifier opened under another row's state hash")
	}
	r = h.get(r.header.Get("Location"))
	back := r.header.Get("Location")
	tok := h.finish(client, h.get(back))
	if _, err := h.checkAccess(tok["access_token"].(string)); err != nil {
		t.Fatalf("the sign-in with sealed secrets did not complete: %v", err)
	}
}
