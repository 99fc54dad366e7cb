package authserver

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/atomcp/atomcp/internal/store"
	"github.com/atomcp/atomcp/internal/store/sqlite"
)

// testArgon makes password hashing cheap in tests; production cost is
// checked in password_test.go.
var testArgon = argonParams{memory: 64, time: 1, threads: 1}

// clock is a settable clock shared by the server and the test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}
func (b *syncBuffer) String() string { b.mu.Lock(); defer b.mu.Unlock(); return b.b.String() }

// harness is one authorization server on a real HTTP listener, with a
// browser-like client (cookie jar, no automatic redirects).
type harness struct {
	t     *testing.T
	srv   *Server
	ts    *httptest.Server
	st    store.Store
	clock *clock
	logs  *syncBuffer
	hc    *http.Client
	opts  Options
}

const testPassword = "correct horse battery"

func newHarness(t *testing.T, mods ...func(*Options)) *harness {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "atomcp.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if _, err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, st: st, clock: &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}, logs: &syncBuffer{}}
	var handler http.Handler = http.NotFoundHandler()
	h.ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(h.ts.Close)
	h.opts = Options{
		Issuer: h.ts.URL, Resource: h.ts.URL + "/api/mcp", Store: st, Now: h.clock.Now,
		Logger: slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		argon:  &testArgon,
	}
	for _, m := range mods {
		m(&h.opts)
	}
	h.srv, err = New(t.Context(), h.opts)
	if err != nil {
		t.Fatal(err)
	}
	handler = h.srv
	jar, _ := cookiejar.New(nil)
	h.hc = &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return h
}

// restart replaces the server by a new one on the same database, as a
// process restart would.
func (h *harness) restart() {
	h.t.Helper()
	srv, err := New(h.t.Context(), h.opts)
	if err != nil {
		h.t.Fatal(err)
	}
	h.srv = srv
	h.ts.Config.Handler = srv
}

func (h *harness) account(email string) *store.LocalAccount {
	h.t.Helper()
	hash, err := hashPassword(testPassword, testArgon)
	if err != nil {
		h.t.Fatal(err)
	}
	now := h.clock.Now()
	a := &store.LocalAccount{ID: "acct-" + email, Email: email, Name: "User " + email, PasswordHash: hash, Role: "user", CreatedAt: now, UpdatedAt: now}
	if err := h.st.CreateLocalAccount(h.t.Context(), a); err != nil {
		h.t.Fatal(err)
	}
	return a
}

// response is a read HTTP response.
type response struct {
	status int
	header http.Header
	body   string
}

func (r *response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.body), &m); err != nil {
		t.Fatalf("response %d is not JSON: %v\n%s", r.status, err, r.body)
	}
	return m
}

// oauthErr checks an OAuth JSON error response.
func (r *response) oauthErr(t *testing.T, status int, code string, words ...string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d; want %d\n%s", r.status, status, r.body)
	}
	m := r.json(t)
	if m["error"] != code {
		t.Fatalf("error %v; want %s (%v)", m["error"], code, m["error_description"])
	}
	desc, _ := m["error_description"].(string)
	for _, w := range words {
		if !strings.Contains(desc, w) {
			t.Errorf("error_description %q does not mention %q", desc, w)
		}
	}
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q; want no-store", cc)
	}
}

func (h *harness) do(req *http.Request) *response {
	h.t.Helper()
	resp, err := h.hc.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return &response{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func (h *harness) get(u string) *response {
	h.t.Helper()
	req, _ := http.NewRequestWithContext(h.t.Context(), http.MethodGet, u, nil)
	return h.do(req)
}

func (h *harness) postForm(path string, form url.Values, basic ...string) *response {
	h.t.Helper()
	req, _ := http.NewRequestWithContext(h.t.Context(), http.MethodPost, h.ts.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if len(basic) == 2 {
		req.SetBasicAuth(url.QueryEscape(basic[0]), url.QueryEscape(basic[1]))
	}
	return h.do(req)
}

func (h *harness) postJSON(path, contentType, body string) *response {
	h.t.Helper()
	req, _ := http.NewRequestWithContext(h.t.Context(), http.MethodPost, h.ts.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	return h.do(req)
}

// register registers a client by DCR and returns its id and secret.
func (h *harness) register(meta map[string]any) (string, string) {
	h.t.Helper()
	b, _ := json.Marshal(meta)
	r := h.postJSON(PathRegister, "application/json", string(b))
	if r.status != http.StatusCreated {
		h.t.Fatalf("register: %d %s", r.status, r.body)
	}
	m := r.json(h.t)
	secret, _ := m["client_secret"].(string)
	return m["client_id"].(string), secret
}

const testRedirect = "http://127.0.0.1:4321/callback"

func (h *harness) publicClient() string {
	h.t.Helper()
	id, _ := h.register(map[string]any{"redirect_uris": []string{testRedirect}, "token_endpoint_auth_method": "none", "client_name": "Test Client"})
	return id
}

// pkce returns a verifier and its S256 challenge.
func pkce(seed string) (string, string) {
	v := strings.Repeat(seed, 43/len(seed)+1)[:43]
	sum := sha256.Sum256([]byte(v))
	return v, base64.RawURLEncoding.EncodeToString(sum[:])
}

func (h *harness) authorizeURL(clientID string, extra url.Values) string {
	_, challenge := pkce("v")
	q := url.Values{"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {testRedirect},
		"state": {"st-123"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	for k, v := range extra {
		if v == nil {
			delete(q, k)
		} else {
			q[k] = v
		}
	}
	return h.ts.URL + PathAuthorize + "?" + q.Encode()
}

var hiddenInput = regexp.MustCompile(`name="(csrf_token|authz|token)" value="([^"]*)"`)

// formFields returns the hidden fields of a page's form.
func formFields(body string) url.Values {
	v := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(body, -1) {
		v.Set(m[1], html.UnescapeString(m[2]))
	}
	return v
}

// signIn submits the login form of a login page.
func (h *harness) signIn(loginPage *response, email, password string) *response {
	h.t.Helper()
	f := formFields(loginPage.body)
	f.Set("email", email)
	f.Set("password", password)
	return h.postForm(PathLogin, f)
}

// consent submits the consent form of a consent page.
func (h *harness) consent(page *response, decision string) *response {
	h.t.Helper()
	f := formFields(page.body)
	f.Set("decision", decision)
	return h.postForm(PathConsent, f)
}

// redirectParams checks that r redirects to the test redirect URI and
// returns its query.
func redirectParams(t *testing.T, r *response) url.Values {
	t.Helper()
	if r.status != http.StatusFound && r.status != http.StatusSeeOther {
		t.Fatalf("status %d; want a redirect to the client\n%s", r.status, r.body)
	}
	u, err := url.Parse(r.header.Get("Location"))
	if err != nil || u.Scheme+"://"+u.Host+u.Path != testRedirect {
		t.Fatalf("redirected to %q; want %s", r.header.Get("Location"), testRedirect)
	}
	return u.Query()
}

// code runs the whole browser flow for the account and returns the code.
func (h *harness) code(clientID, email string, extra url.Values) string {
	h.t.Helper()
	r := h.get(h.authorizeURL(clientID, extra))
	if strings.Contains(r.body, `name="password"`) {
		r = h.signIn(r, email, testPassword)
	}
	if strings.Contains(r.body, `value="allow"`) {
		r = h.consent(r, "allow")
	}
	q := redirectParams(h.t, r)
	if q.Get("code") == "" {
		h.t.Fatalf("no code in the redirect: %v", q)
	}
	return q.Get("code")
}

func (h *harness) exchange(clientID, code string) *response {
	h.t.Helper()
	verifier, _ := pkce("v")
	return h.postForm(PathToken, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {testRedirect},
		"code_verifier": {verifier}, "client_id": {clientID}})
}

// tokens runs the flow and the exchange and returns the token response.
func (h *harness) tokens(clientID, email string) map[string]any {
	h.t.Helper()
	r := h.exchange(clientID, h.code(clientID, email, nil))
	if r.status != http.StatusOK {
		h.t.Fatalf("token: %d %s", r.status, r.body)
	}
	return r.json(h.t)
}

// errTokenRevoked is what checkAccess returns for a revoked token.
var errTokenRevoked = errors.New("the access token was revoked")

// checkAccess verifies tok the way the resource server's verifier does:
// the key from AccessKeyfunc under jwt's checks (opts, on the harness
// clock), then the TokenRevoked hook.
func (h *harness) checkAccess(tok string, opts ...jwt.ParserOption) (*AccessClaims, error) {
	var c AccessClaims
	_, err := jwt.ParseWithClaims(tok, &c, h.srv.AccessKeyfunc(h.t.Context()), append(opts, jwt.WithTimeFunc(h.clock.Now))...)
	if err != nil {
		return &c, err
	}
	revoked, err := h.srv.TokenRevoked(h.t.Context(), c.ID, c.Subject)
	if err == nil && revoked {
		err = errTokenRevoked
	}
	return &c, err
}
