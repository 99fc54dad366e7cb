package oauthclient

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

type env struct {
	as      *fakeAS
	mcp     *fakeMCP
	store   *Store
	dir     string
	browser *testBrowser
	prompt  *bytes.Buffer
	warns   []error
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{as: newFakeAS(t), browser: newTestBrowser(), prompt: &bytes.Buffer{}}
	e.mcp = newFakeMCP(t, e.as)
	e.dir = filepath.Join(t.TempDir(), "atomcp")
	s, err := OpenStore(e.dir, func(err error) { e.warns = append(e.warns, err) })
	if err != nil {
		t.Fatal(err)
	}
	e.store = s
	return e
}

func (e *env) handler(t *testing.T, mod func(*Config)) *Handler {
	t.Helper()
	cfg := Config{
		ServerURL:    e.mcp.URL,
		Store:        e.store,
		Registration: Registration{Dynamic: true},
		Browser:      e.browser,
		Prompt:       e.prompt,
		LoginTimeout: 30 * time.Second,
		Warn:         func(err error) { e.warns = append(e.warns, err) },
	}
	if mod != nil {
		mod(&cfg)
	}
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// callTool connects through h and calls name; it returns the text or the error.
func callTool(t *testing.T, e *env, h *Handler, name string) (string, error) {
	t.Helper()
	ctx := ctxT(t)
	cs, err := connect(t, ctx, e.mcp.URL, h)
	if err != nil {
		return "", err
	}
	defer cs.Close()
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: map[string]any{}})
	if err != nil {
		return "", err
	}
	return res.Content[0].(*mcp.TextContent).Text, nil
}

func TestLoginWithDynamicRegistration(t *testing.T) {
	e := newEnv(t)
	h := e.handler(t, nil)
	got, err := callTool(t, e, h, "read")
	if err != nil {
		t.Fatalf("call: %v\nprompt:\n%s", err, e.prompt)
	}
	if got != "read ok" {
		t.Fatalf("got %q", got)
	}
	if h.Logins() != 1 || e.browser.count() != 1 {
		t.Fatalf("logins %d, browser opened %d times; want 1, 1", h.Logins(), e.browser.count())
	}

	e.as.mu.Lock()
	reg := e.as.registrations[0]
	az := e.as.authorizes[0]
	tok := e.as.tokens[0]
	e.as.mu.Unlock()

	// Dynamic registration as the issue asks.
	if reg["application_type"] != "native" || reg["token_endpoint_auth_method"] != "none" {
		t.Errorf("registration = %v; want application_type native, token_endpoint_auth_method none", reg)
	}
	if gt := reg["grant_types"].([]any); !slices.Contains(gt, any("refresh_token")) {
		t.Errorf("grant_types %v lack refresh_token", gt)
	}
	redirect := reg["redirect_uris"].([]any)[0].(string)
	if !strings.HasPrefix(redirect, "http://127.0.0.1:") || !strings.HasSuffix(redirect, CallbackPath) {
		t.Errorf("redirect URI %q is not the loopback callback", redirect)
	}
	// The authorization request: PKCE S256, state, resource, scope from the challenge.
	if az.Get("code_challenge_method") != "S256" || az.Get("code_challenge") == "" || az.Get("state") == "" {
		t.Errorf("authorize %v lacks PKCE S256 or state", az)
	}
	if az.Get("resource") != e.mcp.URL || tok.Get("resource") != e.mcp.URL {
		t.Errorf("resource: authorize %q, token %q; want %q on both", az.Get("resource"), tok.Get("resource"), e.mcp.URL)
	}
	if sc := strings.Fields(az.Get("scope")); !slices.Contains(sc, "read") || !slices.Contains(sc, "offline_access") {
		t.Errorf("scope %q; want read (challenge) and offline_access (listed by the AS)", az.Get("scope"))
	}

	// The cache: a 0700 directory, 0600 files, the client and the token.
	assertMode(t, e.dir, 0o700)
	for _, sub := range []string{"clients", "tokens"} {
		entries, _ := os.ReadDir(filepath.Join(e.dir, sub))
		if len(entries) != 1 {
			t.Fatalf("%s holds %d files; want 1", sub, len(entries))
		}
		assertMode(t, filepath.Join(e.dir, sub, entries[0].Name()), 0o600)
	}
	rec := e.store.Token(e.mcp.URL)
	if rec == nil || rec.Issuer != e.as.issuer() || rec.RefreshToken == "" || rec.Resource != e.mcp.URL {
		t.Fatalf("stored token %+v", rec)
	}
	if c := e.store.Client(e.as.issuer()); c == nil || c.ClientID != rec.ClientID || c.Method != "dynamic" || c.RedirectURI != redirect {
		t.Fatalf("stored client %+v", c)
	}
	// The prompt shows the URL but no token.
	if strings.Contains(e.prompt.String(), rec.AccessToken) || strings.Contains(e.prompt.String(), rec.RefreshToken) {
		t.Errorf("the prompt shows a token:\n%s", e.prompt)
	}
}

func assertMode(t *testing.T, path string, want fs.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != want {
		t.Errorf("%s has mode %o; want %o", path, fi.Mode().Perm(), want)
	}
}

func TestStoredTokenAndClientAreReused(t *testing.T) {
	e := newEnv(t)
	if _, err := callTool(t, e, e.handler(t, nil), "read"); err != nil {
		t.Fatal(err)
	}
	// A second process: the stored token works, no login at all.
	h2 := e.handler(t, nil)
	if _, err := callTool(t, e, h2, "read"); err != nil {
		t.Fatal(err)
	}
	if h2.Logins() != 0 || e.browser.count() != 1 {
		t.Fatalf("second run logged in (%d logins, browser %d); want the stored token used", h2.Logins(), e.browser.count())
	}
	// Without the token (logged out at the server, say), the registered
	// client is reused on the same callback port: no second registration.
	firstRedirect := e.store.Client(e.as.issuer()).RedirectURI
	if err := e.store.DeleteToken(e.mcp.URL); err != nil {
		t.Fatal(err)
	}
	h3 := e.handler(t, nil)
	if _, err := callTool(t, e, h3, "read"); err != nil {
		t.Fatal(err)
	}
	regs, authz, _ := e.as.counts()
	if regs != 1 || authz != 2 {
		t.Fatalf("registrations %d, authorizations %d; want 1, 2", regs, authz)
	}
	e.as.mu.Lock()
	second := e.as.authorizes[1]
	e.as.mu.Unlock()
	if second.Get("redirect_uri") != firstRedirect {
		t.Errorf("second login used %q; want the registered %q", second.Get("redirect_uri"), firstRedirect)
	}
}

func TestForceLoginIgnoresStoredToken(t *testing.T) {
	e := newEnv(t)
	if _, err := callTool(t, e, e.handler(t, nil), "read"); err != nil {
		t.Fatal(err)
	}
	h := e.handler(t, func(c *Config) { c.ForceLogin = true })
	if _, err := callTool(t, e, h, "read"); err != nil {
		t.Fatal(err)
	}
	if h.Logins() != 1 {
		t.Fatalf("ForceLogin: %d logins; want 1", h.Logins())
	}
}

func TestReRegistersWhenStoredClientIsRejected(t *testing.T) {
	e := newEnv(t)
	if _, err := callTool(t, e, e.handler(t, nil), "read"); err != nil {
		t.Fatal(err)
	}
	old := e.store.Client(e.as.issuer()).ClientID
	e.as.forgetClients()
	if err := e.store.DeleteToken(e.mcp.URL); err != nil {
		t.Fatal(err)
	}
	// The authorize endpoint of this fake refuses unknown clients with a
	// page; make it accept the old client so that the token endpoint is
	// where the rejection shows (as with an AS that checks only there).
	e.as.set(func(a *fakeAS) { a.clients[old] = registered{redirect: []string{"http://127.0.0.1/oauth/callback"}} })
	h := e.handler(t, nil)
	if _, err := callTool(t, e, h, "read"); err != nil {
		t.Fatalf("call after the client was forgotten: %v\n%s", err, e.prompt)
	}
	now := e.store.Client(e.as.issuer()).ClientID
	if now == old {
		t.Fatalf("still the rejected client %s", old)
	}
	if !strings.Contains(e.prompt.String(), "registering again") {
		t.Errorf("the user was not told about the new registration:\n%s", e.prompt)
	}
}

func TestAuthorizationServerChangeRegistersWithTheNewOne(t *testing.T) {
	e := newEnv(t)
	h := e.handler(t, nil)
	ctx := ctxT(t)
	cs, err := connect(t, ctx, e.mcp.URL, h)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	if _, err := cs.ListTools(ctx, nil); err != nil {
		t.Fatal(err)
	}
	as1Client := e.store.Client(e.as.issuer()).ClientID

	as2 := newFakeAS(t)
	e.mcp.set(func(m *fakeMCP) { m.as = as2 })
	if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "read", Arguments: map[string]any{}}); err != nil {
		t.Fatalf("call after the migration: %v", err)
	}
	regs, _, _ := as2.counts()
	if regs != 1 {
		t.Fatalf("%d registrations at the new AS; want 1", regs)
	}
	as2.mu.Lock()
	defer as2.mu.Unlock()
	for _, q := range as2.authorizes {
		if q.Get("client_id") == as1Client {
			t.Fatalf("the old AS's client %s was presented to the new one", as1Client)
		}
	}
	for _, q := range as2.tokens {
		if q.Get("client_id") == as1Client {
			t.Fatalf("the old AS's client %s was presented at the new token endpoint", as1Client)
		}
	}
	if c := e.store.Client(as2.issuer()); c == nil || c.ClientID == as1Client {
		t.Fatalf("no registration stored for the new AS: %+v", c)
	}
	if rec := e.store.Token(e.mcp.URL); rec.Issuer != as2.issuer() {
		t.Fatalf("stored token is of %s; want %s", rec.Issuer, as2.issuer())
	}
}

func TestRefreshBeforeExpiry(t *testing.T) {
	e := newEnv(t)
	now := time.Now()
	clock := func() time.Time { return now }
	e.as.set(func(a *fakeAS) { a.expiresIn = 600 })
	h := e.handler(t, func(c *Config) { c.Now = clock })
	if _, err := callTool(t, e, h, "read"); err != nil {
		t.Fatal(err)
	}
	first := e.store.Token(e.mcp.URL)

	// 30 s before expiry (inside the 60 s margin), a new process refreshes
	// instead of using the old token or logging in.
	now = first.Expiry.Add(-30 * time.Second)
	h2 := e.handler(t, func(c *Config) { c.Now = clock })
	ts, _ := h2.TokenSource(context.Background())
	tok, err := ts.Token()
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken == first.AccessToken {
		t.Fatal("the token was not refreshed 30 s before it expires")
	}
	e.as.mu.Lock()
	last := e.as.tokens[len(e.as.tokens)-1]
	e.as.mu.Unlock()
	if last.Get("grant_type") != "refresh_token" || last.Get("resource") != e.mcp.URL {
		t.Fatalf("refresh request %v; want grant_type refresh_token with resource %s", last, e.mcp.URL)
	}
	if got := e.store.Token(e.mcp.URL); got.AccessToken != tok.AccessToken {
		t.Fatal("the refreshed token was not stored")
	}
	if h2.Logins() != 0 {
		t.Fatal("refresh ran a login")
	}
}

func TestRefusedRefreshLogsInAgain(t *testing.T) {
	e := newEnv(t)
	now := time.Now()
	clock := func() time.Time { return now }
	h := e.handler(t, func(c *Config) { c.Now = clock })
	if _, err := callTool(t, e, h, "read"); err != nil {
		t.Fatal(err)
	}
	// The AS forgets refresh tokens; the token is close to expiry.
	e.as.set(func(a *fakeAS) { a.refresh = map[string]issuedToken{} })
	now = e.store.Token(e.mcp.URL).Expiry.Add(-10 * time.Second)
	// Make the server refuse the old access token too.
	e.as.set(func(a *fakeAS) { a.issued = map[string]issuedToken{} })
	h2 := e.handler(t, func(c *Config) { c.Now = clock })
	if _, err := callTool(t, e, h2, "read"); err != nil {
		t.Fatalf("call: %v", err)
	}
	if h2.Logins() != 1 {
		t.Fatalf("%d logins; want 1 after the refused refresh", h2.Logins())
	}
	if !slices.ContainsFunc(e.warns, func(err error) bool { return strings.Contains(err.Error(), "refused to refresh") }) {
		t.Errorf("no warning about the refused refresh: %v", e.warns)
	}
}

func TestStepUpUnionAndLimit(t *testing.T) {
	e := newEnv(t)
	e.mcp.set(func(m *fakeMCP) { m.writeScope = "write" })
	h := e.handler(t, nil)
	got, err := callTool(t, e, h, "write")
	if err != nil {
		t.Fatalf("write: %v", err)
	}
	if got != "write ok" || h.Logins() != 2 {
		t.Fatalf("got %q after %d logins; want write ok after 2", got, h.Logins())
	}
	e.as.mu.Lock()
	second := strings.Fields(e.as.authorizes[1].Get("scope"))
	e.as.mu.Unlock()
	if !slices.Contains(second, "read") || !slices.Contains(second, "write") {
		t.Fatalf("step-up asked for %v; want the union of read and write", second)
	}

}

func TestStepUpLimits(t *testing.T) {
	t.Run("scopes never granted", func(t *testing.T) {
		// The server wants admin; atomcp is told to ask for read and write
		// only, so no login can help. Each call may step up once; after
		// MaxStepUps (2) atomcp refuses to start another login.
		e := newEnv(t)
		e.mcp.set(func(m *fakeMCP) { m.writeScope = "admin" })
		h := e.handler(t, func(c *Config) { c.Scopes = []string{"read", "write"} })
		var err error
		for range 3 {
			_, err = callTool(t, e, h, "write")
		}
		if oe, ok := errors.AsType[*Error](err); !ok || oe.Kind != KindStepUpLimit {
			t.Fatalf("third call: %v; want KindStepUpLimit", err)
		}
		if h.Logins() != 3 {
			t.Fatalf("%d logins; want 1 plus 2 step-ups", h.Logins())
		}
	})
	t.Run("server refuses scopes the token has", func(t *testing.T) {
		e := newEnv(t)
		e.as.set(func(a *fakeAS) { a.grantScope = "read write" })
		e.mcp.set(func(m *fakeMCP) { m.writeScope = "write"; m.forbidAll = true })
		h := e.handler(t, nil)
		_, err := callTool(t, e, h, "write")
		oe, ok := errors.AsType[*Error](err)
		if !ok || oe.Kind != KindStepUpLimit || !strings.Contains(oe.Msg, "already has") {
			t.Fatalf("got %v; want KindStepUpLimit saying the token already has the scope", err)
		}
		if h.Logins() != 1 {
			t.Fatalf("%d logins; want 1 (no pointless step-up)", h.Logins())
		}
	})
}
