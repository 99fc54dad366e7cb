package authserver

import (
	"context"
	"html"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/atomcp/atomcp/internal/auth"
	"github.com/atomcp/atomcp/internal/authserver/connector/connectortest"
)

// browser is one browser (its own cookie jar) on the harness's server.
type browser struct {
	h  *harness
	hc *http.Client
}

func (h *harness) newBrowser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{h: h, hc: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) do(req *http.Request) *response {
	b.h.t.Helper()
	saved := b.h.hc
	b.h.hc = b.hc
	defer func() { b.h.hc = saved }()
	return b.h.do(req)
}

func (b *browser) get(path string) *response {
	b.h.t.Helper()
	req, _ := http.NewRequestWithContext(b.h.t.Context(), http.MethodGet, b.h.ts.URL+path, nil)
	return b.do(req)
}

// post sends a form as the browser would from one of the server's pages
// (Sec-Fetch-Site: same-origin), unless headers say otherwise (a header
// set to "" is removed).
func (b *browser) post(path string, form url.Values, headers map[string]string) *response {
	b.h.t.Helper()
	req, _ := http.NewRequestWithContext(b.h.t.Context(), http.MethodPost, b.h.ts.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Origin", b.h.ts.URL)
	for k, v := range headers {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	return b.do(req)
}

// signIn signs the browser in through the sign-in page of /account.
func (b *browser) signIn(email, password string) *response {
	b.h.t.Helper()
	r := b.get(PathAccount)
	if r.status != http.StatusFound {
		b.h.t.Fatalf("GET /account signed out: %d; want a redirect to the sign-in page", r.status)
	}
	u, _ := url.Parse(r.header.Get("Location"))
	r = b.get(u.RequestURI())
	if !strings.Contains(r.body, `name="return" value="/account"`) {
		b.h.t.Fatalf("sign-in page without the return path:\n%s", r.body)
	}
	f := formFields(r.body)
	f.Set("return", "/account")
	f.Set("email", email)
	f.Set("password", password)
	return b.post(PathLogin, f, nil)
}

// account signs in if needed and returns the account page.
func (b *browser) account() *response {
	b.h.t.Helper()
	r := b.get(PathAccount)
	if r.status != http.StatusOK {
		b.h.t.Fatalf("account page: %d\n%s", r.status, r.body)
	}
	return r
}

// csrf is the CSRF token of a page.
func csrf(t *testing.T, page *response) string {
	t.Helper()
	f := formFields(page.body)
	if f.Get("csrf_token") == "" {
		t.Fatalf("no CSRF token on the page:\n%s", page.body)
	}
	return f.Get("csrf_token")
}

// verifier is the resource server's verifier of the embedded server's
// tokens, with its cache, as atomcp serve builds it.
func (h *harness) verifier() *auth.JWTVerifier {
	h.t.Helper()
	v, err := auth.NewJWTVerifier(auth.JWTConfig{Issuer: h.srv.Issuer(), Keys: auth.LocalKeys(h.srv.AccessKeyfunc(context.Background())),
		Audience: fixedAudience(h.opts.Resource), Algorithms: []string{"ES256"}, Revoked: h.srv.TokenRevoked, Now: h.clock.Now})
	if err != nil {
		h.t.Fatal(err)
	}
	return v
}

type fixedAudience string

func (a fixedAudience) Expected(*http.Request) string            { return string(a) }
func (a fixedAudience) Accepts(_ *http.Request, aud string) bool { return aud == string(a) }

func (h *harness) verify(v *auth.JWTVerifier, tok string) error {
	req, _ := http.NewRequest(http.MethodPost, h.opts.Resource, nil)
	_, err := v.Verify(h.t.Context(), tok, req)
	return err
}

func (h *harness) refreshWith(clientID, rt string) *response {
	return h.postForm(PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {clientID}})
}

func TestAccountSignInAndReturn(t *testing.T) {
	h := newHarness(t)
	h.account("ann@example.com")
	b := h.newBrowser()
	r := b.get(PathAccount)
	if r.status != http.StatusFound || r.header.Get("Location") != h.ts.URL+PathLogin+"?return=%2Faccount" {
		t.Fatalf("signed out: %d %q; want the sign-in page returning to /account", r.status, r.header.Get("Location"))
	}
	if r := b.signIn("ann@example.com", "wrong password"); r.status != http.StatusUnauthorized || !strings.Contains(r.body, "Wrong email or password") {
		t.Fatalf("wrong password: %d", r.status)
	}
	r = b.signIn("ann@example.com", testPassword)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != h.ts.URL+PathAccount {
		t.Fatalf("sign-in: %d %q; want back to /account", r.status, r.header.Get("Location"))
	}
	page := b.account()
	for _, want := range []string{"ann@example.com", "User ann@example.com", "Connected apps", "Browser sessions", "Personal access tokens", "Change password", "(this browser)"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("account page lacks %q", want)
		}
	}
	hd := page.header
	if !strings.Contains(hd.Get("Content-Security-Policy"), "frame-ancestors 'none'") || hd.Get("Referrer-Policy") != "same-origin" || hd.Get("Cache-Control") != "no-store" {
		t.Errorf("headers: CSP %q, Referrer-Policy %q, Cache-Control %q", hd.Get("Content-Security-Policy"), hd.Get("Referrer-Policy"), hd.Get("Cache-Control"))
	}
	// The session cookie reaches /account: its path is the issuer's root,
	// and it is HttpOnly and SameSite=Lax.
	found := false
	for _, c := range r.header.Values("Set-Cookie") {
		if strings.HasPrefix(c, sessionCookie+"=") && !strings.Contains(c, "Max-Age=0") {
			found = true
			if !strings.Contains(c, "Path=/;") || !strings.Contains(c, "HttpOnly") || !strings.Contains(c, "SameSite=Lax") {
				t.Errorf("session cookie %q", c)
			}
		}
	}
	if !found {
		t.Error("no session cookie set at sign-in")
	}
	// Signed in, the sign-in page goes straight back.
	if r := b.get(PathLogin + "?return=/account"); r.status != http.StatusFound || r.header.Get("Location") != h.ts.URL+PathAccount {
		t.Errorf("sign-in page when signed in: %d %q", r.status, r.header.Get("Location"))
	}
}

func TestSafeReturn(t *testing.T) {
	for in, want := range map[string]string{
		"/account":              "/account",
		"/account?done=x":       "/account?done=x",
		"/admin/users":          "/admin/users",
		"":                      "",
		"account":               "",
		"//evil.example":        "",
		"/\\evil.example":       "",
		"https://evil.example/": "",
		"javascript:alert(1)":   "",
		"/a\r\nLocation: x":     "",
		"/\x00":                 "",
	} {
		if got := safeReturn(in); got != want {
			t.Errorf("safeReturn(%q) = %q; want %q", in, got, want)
		}
	}
	// A sign-in asked to return elsewhere returns to /account.
	h := newHarness(t)
	h.account("ann@example.com")
	b := h.newBrowser()
	page := b.get(PathLogin + "?return=" + url.QueryEscape("//evil.example/x"))
	if !strings.Contains(page.body, `name="return" value="/account"`) {
		t.Fatalf("an unsafe return path reached the form:\n%s", page.body)
	}
	f := formFields(page.body)
	f.Set("return", "//evil.example/x")
	f.Set("email", "ann@example.com")
	f.Set("password", testPassword)
	if r := b.post(PathLogin, f, nil); r.header.Get("Location") != h.ts.URL+PathAccount {
		t.Fatalf("sign-in with return //evil.example: redirected to %q", r.header.Get("Location"))
	}
}

var clientRow = regexp.MustCompile(`name="client_id" value="([^"]+)"`)

// The account page lists the client the person connected; Revoke makes
// its next refresh fail with invalid_grant and its access token fail the
// resource server's verifier, although the verifier had it cached.
func TestAccountRevokeApp(t *testing.T) {
	h := newHarness(t)
	h.account("ann@example.com")
	client := h.publicClient()
	other := h.publicClient()
	tok := h.tokens(client, "ann@example.com")
	otherTok := h.tokens(other, "ann@example.com")
	v := h.verifier()
	if err := h.verify(v, tok["access_token"].(string)); err != nil {
		t.Fatalf("fresh access token: %v", err)
	}

	b := h.newBrowser()
	b.signIn("ann@example.com", testPassword)
	page := b.account()
	ids := clientRow.FindAllStringSubmatch(page.body, -1)
	if len(ids) != 2 || !strings.Contains(page.body, "Test Client") || !strings.Contains(page.body, "returns to <code>http://127.0.0.1:4321</code>") ||
		!strings.Contains(page.body, "<code>atoms:read atoms:write</code>") {
		t.Fatalf("connected apps: %v\n%s", ids, page.body)
	}
	r := b.post(PathAccountRevokeApp, url.Values{"csrf_token": {csrf(t, page)}, "client_id": {client}}, nil)
	if r.status != http.StatusSeeOther || !strings.HasSuffix(r.header.Get("Location"), "?done=app_revoked") {
		t.Fatalf("revoke: %d %q\n%s", r.status, r.header.Get("Location"), r.body)
	}
	h.refreshWith(client, tok["refresh_token"].(string)).oauthErr(t, http.StatusBadRequest, "invalid_grant", "revoked")
	if err := h.verify(v, tok["access_token"].(string)); err == nil || !strings.Contains(err.Error(), "revoked") {
		t.Fatalf("revoked app's access token: %v; want refused as revoked", err)
	}
	// The other app is untouched, and the page lists only it.
	if err := h.verify(v, otherTok["access_token"].(string)); err != nil {
		t.Errorf("the other app's token: %v", err)
	}
	if r := h.refreshWith(other, otherTok["refresh_token"].(string)); r.status != http.StatusOK {
		t.Errorf("the other app's refresh: %d %s", r.status, r.body)
	}
	page = b.get(PathAccount + "?done=app_revoked")
	if ids := clientRow.FindAllStringSubmatch(page.body, -1); len(ids) != 1 || ids[0][1] != other {
		t.Errorf("after revoking: %v; want only %s", ids, other)
	}
	if !strings.Contains(page.body, accountNotices["app_revoked"]) {
		t.Error("no notice after revoking")
	}
	// Reconnecting asks for consent again.
	if r := h.get(h.authorizeURL(client, nil)); !strings.Contains(r.body, `value="allow"`) && !strings.Contains(r.body, `name="password"`) {
		t.Errorf("reconnecting the revoked app skipped consent: %d", r.status)
	}
}

// A forged form post changes nothing: no CSRF token, a wrong one, a
// foreign Origin, Sec-Fetch-Site cross-site or same-site, or Origin null
// (what another site's no-referrer page sends) all get the 403 page.
func TestAccountFormsRefuseForgery(t *testing.T) {
	h := newHarness(t)
	h.account("ann@example.com")
	client := h.publicClient()
	tok := h.tokens(client, "ann@example.com")
	b := h.newBrowser()
	b.signIn("ann@example.com", testPassword)
	other := h.newBrowser()
	other.signIn("ann@example.com", testPassword)
	page := b.account()
	good := csrf(t, page)

	forms := map[string]url.Values{
		PathAccountRevokeApp: {"client_id": {client}},
		PathAccountSessions:  {},
		PathAccountTokens:    {"scope": {"atoms:read"}, "days": {"30"}, "name": {"forged"}},
		PathAccountPassword:  {"current_password": {testPassword}, "new_password": {"a new password 1"}, "confirm_password": {"a new password 1"}},
		PathLogout:           {"disconnect_apps": {"1"}},
	}
	attacks := []struct {
		name    string
		token   string
		headers map[string]string
	}{
		{"no CSRF token", "", nil},
		{"wrong CSRF token", "forged-token", nil},
		{"foreign Origin", good, map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": ""}},
		{"Origin null", good, map[string]string{"Origin": "null", "Sec-Fetch-Site": ""}},
		{"Sec-Fetch-Site cross-site", good, map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}},
		{"Sec-Fetch-Site same-site", good, map[string]string{"Sec-Fetch-Site": "same-site"}},
	}
	for path, form := range forms {
		for _, a := range attacks {
			f := url.Values{}
			for k, v := range form {
				f[k] = v
			}
			if a.token != "" {
				f.Set("csrf_token", a.token)
			}
			r := b.post(path, f, a.headers)
			if r.status != http.StatusForbidden || !strings.Contains(r.body, "not accepted") {
				t.Errorf("%s, %s: %d; want the 403 page\n%s", path, a.name, r.status, r.body)
			}
		}
	}
	// Nothing changed: the app still refreshes, both sessions live, no
	// token exists, the password is the old one.
	if r := h.refreshWith(client, tok["refresh_token"].(string)); r.status != http.StatusOK {
		t.Errorf("the app was disconnected by a forged post: %d %s", r.status, r.body)
	}
	if r := other.get(PathAccount); r.status != http.StatusOK {
		t.Errorf("the other session was signed out by a forged post: %d", r.status)
	}
	if r := b.get(PathAccount); r.status != http.StatusOK || strings.Contains(r.body, "forged") {
		t.Errorf("after the forged posts: %d, token created: %v", r.status, strings.Contains(r.body, "forged"))
	}
	if _, err := h.srv.checkCredentials(t.Context(), "ann@example.com", testPassword, "192.0.2.1"); err != nil {
		t.Errorf("the password was changed by a forged post: %v", err)
	}
	// A genuine post with neither header (no browser that would send
	// them) is judged by its token alone.
	if r := b.post(PathAccountSessions, url.Values{"csrf_token": {good}}, map[string]string{"Origin": "", "Sec-Fetch-Site": ""}); r.status != http.StatusSeeOther {
		t.Errorf("genuine post without Origin: %d\n%s", r.status, r.body)
	}
}

var newToken = regexp.MustCompile(`<code id="new-token" class="secret">([^<]+)</code>`)

// A personal access token is created on the page (the session is
// recent), shown once, listed without its value, accepted by the
// verifier, and refused once revoked.
func TestAccountPersonalToken(t *testing.T) {
	h := newHarness(t)
	h.account("ann@example.com")
	b := h.newBrowser()
	b.signIn("ann@example.com", testPassword)
	page := b.account()
	r := b.post(PathAccountTokens, url.Values{"csrf_token": {csrf(t, page)}, "name": {"CI job"}, "scope": {"atoms:read"}, "days": {"7"}}, nil)
	m := newToken.FindStringSubmatch(r.body)
	if r.status != http.StatusOK || m == nil {
		t.Fatalf("create token: %d\n%s", r.status, r.body)
	}
	tok := html.UnescapeString(m[1])
	if r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("the token page may be cached: %q", r.header.Get("Cache-Control"))
	}
	v := h.verifier()
	if err := h.verify(v, tok); err != nil {
		t.Fatalf("new token: %v", err)
	}
	claims, _ := h.checkAccess(tok)
	if claims.Scope != "atoms:read" || claims.ExpiresAt.Sub(h.clock.Now()) != 7*24*time.Hour {
		t.Errorf("token scope %q, lifetime %v", claims.Scope, claims.ExpiresAt.Sub(h.clock.Now()))
	}
	page = b.account()
	if strings.Contains(page.body, tok) || !strings.Contains(page.body, "CI job") || !strings.Contains(page.body, claims.ClientID) {
		t.Fatalf("token list: shows the token again %v, lists it %v", strings.Contains(page.body, tok), strings.Contains(page.body, "CI job"))
	}
	// Another account cannot revoke it.
	h.account("bob@example.com")
	bob := h.newBrowser()
	bob.signIn("bob@example.com", testPassword)
	if r := bob.post(PathAccountRevokeToken, url.Values{"csrf_token": {csrf(t, bob.account())}, "token_id": {claims.ClientID}}, nil); r.status != http.StatusNotFound {
		t.Errorf("another account revoking the token: %d", r.status)
	}
	if err := h.verify(v, tok); err != nil {
		t.Fatalf("token after the other account's attempt: %v", err)
	}
	r = b.post(PathAccountRevokeToken, url.Values{"csrf_token": {csrf(t, page)}, "token_id": {claims.ClientID}}, nil)
	if r.status != http.StatusSeeOther {
		t.Fatalf("revoke token: %d\n%s", r.status, r.body)
	}
	if err := h.verify(v, tok); err == nil || !strings.Contains(err.Error(), "revoked") {
		t.Fatalf("revoked token: %v; want refused", err)
	}
	if page := b.account(); !strings.Contains(page.body, ">revoked<") {
		t.Error("the list does not say revoked")
	}
}

// A sensitive action wants a recent sign-in: past ten minutes the token
// form asks for the password, refuses without it or with a wrong one, and
// accepts the right one.
func TestAccountReauthentication(t *testing.T) {
	h := newHarness(t)
	h.account("ann@example.com")
	b := h.newBrowser()
	b.signIn("ann@example.com", testPassword)
	h.clock.Advance(reauthWindow + time.Minute)
	page := b.account()
	if !strings.Contains(page.body, `name="current_password" type="password" autocomplete="current-password" required>`) ||
		!strings.Contains(page.body, "more than 10 minutes ago") {
		t.Fatal("the token form does not ask for the password after ten minutes")
	}
	form := func(pw string) url.Values {
		f := url.Values{"csrf_token": {csrf(t, page)}, "name": {"late"}, "scope": {"atoms:read"}, "days": {"7"}}
		if pw != "" {
			f.Set("current_password", pw)
		}
		return f
	}
	for _, pw := range []string{"", "wrong password"} {
		if r := b.post(PathAccountTokens, form(pw), nil); r.status != http.StatusForbidden || newToken.MatchString(r.body) {
			t.Errorf("password %q: %d, token shown %v", pw, r.status, newToken.MatchString(r.body))
		}
	}
	r := b.post(PathAccountTokens, form(testPassword), nil)
	if r.status != http.StatusOK || !newToken.MatchString(r.body) {
		t.Fatalf("with the password: %d\n%s", r.status, r.body)
	}
	// The proof is renewed: the next sensitive action needs no password.
	if page := b.account(); strings.Contains(page.body, "more than 10 minutes ago") {
		t.Error("still asking for the password right after typing it")
	}
}

// Sign out everywhere else ends the other browsers' sessions, and only
// them; one session can be signed out alone too.
func TestAccountSignOutEverywhere(t *testing.T) {
	h := newHarness(t)
	h.account("ann@example.com")
	h.account("bob@example.com")
	a, a2, a3 := h.newBrowser(), h.newBrowser(), h.newBrowser()
	for _, br := range []*browser{a, a2, a3} {
		br.signIn("ann@example.com", testPassword)
	}
	bob := h.newBrowser()
	bob.signIn("bob@example.com", testPassword)
	page := a.account()
	if n := strings.Count(page.body, `name="session_id"`); n != 3 {
		t.Fatalf("%d sessions listed; want 3", n)
	}
	// One other session alone.
	sessions, _ := h.st.ListBrowserSessions(t.Context(), "acct-ann@example.com", h.clock.Now())
	mine := h.srv.currentSessionOf(t, a)
	var one string
	for _, s := range sessions {
		if s.ID != mine {
			one = s.ID
			break
		}
	}
	r := a.post(PathAccountSessions, url.Values{"csrf_token": {csrf(t, page)}, "session_id": {one}}, nil)
	if r.status != http.StatusSeeOther {
		t.Fatalf("sign out one session: %d\n%s", r.status, r.body)
	}
	live := 0
	for _, br := range []*browser{a2, a3} {
		if br.get(PathAccount).status == http.StatusOK {
			live++
		}
	}
	if live != 1 {
		t.Fatalf("%d of the two other sessions live after signing one out; want 1", live)
	}
	// Bob cannot sign Ann's sessions out.
	if r := bob.post(PathAccountSessions, url.Values{"csrf_token": {csrf(t, bob.account())}, "session_id": {mine}}, nil); r.status != http.StatusNotFound {
		t.Errorf("another account's session: %d", r.status)
	}
	r = a.post(PathAccountSessions, url.Values{"csrf_token": {csrf(t, a.account())}}, nil)
	if r.status != http.StatusSeeOther {
		t.Fatalf("sign out everywhere else: %d", r.status)
	}
	for i, br := range []*browser{a2, a3} {
		if r := br.get(PathAccount); r.status != http.StatusFound {
			t.Errorf("other browser %d still signed in: %d", i, r.status)
		}
	}
	if r := a.get(PathAccount); r.status != http.StatusOK {
		t.Errorf("this browser was signed out too: %d", r.status)
	}
	if r := bob.get(PathAccount); r.status != http.StatusOK {
		t.Errorf("another account was signed out: %d", r.status)
	}
}

// currentSessionOf is the id of the browser's session.
func (s *Server) currentSessionOf(t *testing.T, b *browser) string {
	t.Helper()
	u, _ := url.Parse(b.h.ts.URL + PathAccount)
	req, _ := http.NewRequest(http.MethodGet, u.String(), nil)
	for _, c := range b.hc.Jar.Cookies(u) {
		req.AddCookie(c)
	}
	sess := s.currentSession(req)
	if sess == nil {
		t.Fatal("the browser has no session")
	}
	return sess.ID
}

// Changing the password needs the current one, ends the other sessions,
// and keeps this one.
func TestAccountChangePassword(t *testing.T) {
	h := newHarness(t)
	h.account("ann@example.com")
	a, other := h.newBrowser(), h.newBrowser()
	a.signIn("ann@example.com", testPassword)
	other.signIn("ann@example.com", testPassword)
	page := a.account()
	const newPW = "a brand new password"
	form := func(current, pw, confirm string) url.Values {
		return url.Values{"csrf_token": {csrf(t, page)}, "current_password": {current}, "new_password": {pw}, "confirm_password": {confirm}}
	}
	for name, tc := range map[string]struct {
		f    url.Values
		want int
	}{
		"wrong current": {form("wrong password", newPW, newPW), http.StatusForbidden},
		"too short":     {form(testPassword, "short", "short"), http.StatusBadRequest},
		"mismatch":      {form(testPassword, newPW, newPW+"x"), http.StatusBadRequest},
	} {
		if r := a.post(PathAccountPassword, tc.f, nil); r.status != tc.want {
			t.Errorf("%s: %d; want %d", name, r.status, tc.want)
		}
	}
	if r := other.get(PathAccount); r.status != http.StatusOK {
		t.Fatal("a refused change ended the other session")
	}
	r := a.post(PathAccountPassword, form(testPassword, newPW, newPW), nil)
	if r.status != http.StatusSeeOther {
		t.Fatalf("change password: %d\n%s", r.status, r.body)
	}
	if r := a.get(PathAccount); r.status != http.StatusOK {
		t.Errorf("this session ended with the change: %d", r.status)
	}
	if r := other.get(PathAccount); r.status != http.StatusFound {
		t.Errorf("the other session survived the change: %d", r.status)
	}
	if _, err := h.srv.checkCredentials(t.Context(), "ann@example.com", newPW, "192.0.2.2"); err != nil {
		t.Errorf("new password: %v", err)
	}
	if _, err := h.srv.checkCredentials(t.Context(), "ann@example.com", testPassword, "192.0.2.2"); err == nil {
		t.Error("the old password still works")
	}
}

// /oauth/logout: GET asks, POST ends the session, and with the box
// ticked disconnects every app.
func TestLogout(t *testing.T) {
	h := newHarness(t)
	h.account("ann@example.com")
	client := h.publicClient()
	tok := h.tokens(client, "ann@example.com")
	v := h.verifier()

	b := h.newBrowser()
	b.signIn("ann@example.com", testPassword)
	page := b.get(PathLogout)
	if page.status != http.StatusOK || !strings.Contains(page.body, `name="disconnect_apps"`) || !strings.Contains(page.body, "ann@example.com") {
		t.Fatalf("logout page: %d\n%s", page.status, page.body)
	}
	if r := b.get(PathAccount); r.status != http.StatusOK {
		t.Fatal("GET /oauth/logout signed out")
	}
	r := b.post(PathLogout, url.Values{"csrf_token": {csrf(t, page)}}, nil)
	if r.status != http.StatusOK || !strings.Contains(r.body, "signed out") {
		t.Fatalf("logout: %d\n%s", r.status, r.body)
	}
	if r := b.get(PathAccount); r.status != http.StatusFound {
		t.Fatalf("still signed in after logout: %d", r.status)
	}
	if r := h.refreshWith(client, tok["refresh_token"].(string)); r.status != http.StatusOK {
		t.Fatalf("a plain logout disconnected the app: %d", r.status)
	} else {
		tok = r.json(t)
	}

	// Again, with "also disconnect all apps".
	b.signIn("ann@example.com", testPassword)
	page = b.account() // the sign-out button of the bar
	r = b.post(PathLogout, url.Values{"csrf_token": {csrf(t, page)}, "disconnect_apps": {"1"}}, nil)
	if r.status != http.StatusOK {
		t.Fatalf("logout with disconnect: %d\n%s", r.status, r.body)
	}
	h.refreshWith(client, tok["refresh_token"].(string)).oauthErr(t, http.StatusBadRequest, "invalid_grant")
	if err := h.verify(v, tok["access_token"].(string)); err == nil {
		t.Error("the app's access token survived logout with disconnect")
	}
}

var (
	structureTag = regexp.MustCompile(`(?s)<(h1|h2|th)[^>]*>(.*?)</(?:h1|h2|th)>`)
	anyTag       = regexp.MustCompile(`<[^>]+>`)
)

// pageStructure is the page's headings and table column headers, one a
// line, as e2e's accountStructure reads them from Chromium's DOM.
func pageStructure(body string) string {
	var lines []string
	for _, m := range structureTag.FindAllStringSubmatch(body, -1) {
		lines = append(lines, m[1]+" "+strings.TrimSpace(html.UnescapeString(anyTag.ReplaceAllString(m[2], ""))))
	}
	return strings.Join(lines, "\n")
}

// The committed screenshot docs/screenshots/account.png shows the page
// with one connected app and one token; docs/screenshots/account.txt is
// its structure, which the page rendered here must have (pixels are not
// stable across machines; headings and columns are). e2e's
// TestAccountBrowser checks the same file against Chromium's DOM and
// makes the screenshot.
func TestAccountPageMatchesScreenshot(t *testing.T) {
	h := newHarness(t)
	h.account("ann@example.com")
	h.tokens(h.publicClient(), "ann@example.com")
	b := h.newBrowser()
	b.signIn("ann@example.com", testPassword)
	page := b.account()
	if r := b.post(PathAccountTokens, url.Values{"csrf_token": {csrf(t, page)}, "name": {"CI job"}, "scope": {"atoms:read"}, "days": {"7"}}, nil); r.status != http.StatusOK {
		t.Fatalf("create token: %d", r.status)
	}
	golden, err := os.ReadFile(filepath.Join("..", "..", "docs", "screenshots", "account.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if got := pageStructure(b.account().body); got != strings.TrimSpace(string(golden)) {
		t.Errorf("the account page's structure differs from docs/screenshots/account.txt; update the file and the screenshot (ATOMCP_SCREENSHOT_DIR=docs/screenshots go test ./e2e -run TestAccountBrowser):\n%s", got)
	}
}

func (b *browser) getURL(u string) *response {
	b.h.t.Helper()
	req, _ := http.NewRequestWithContext(b.h.t.Context(), http.MethodGet, u, nil)
	return b.do(req)
}

// viaProvider follows a connector's sign-in link through the provider and
// the callback, and returns the callback's answer.
func (b *browser) viaProvider(link string) *response {
	b.h.t.Helper()
	r := b.getURL(link)
	if r.status != http.StatusFound {
		b.h.t.Fatalf("sign-in start: %d %s", r.status, r.body)
	}
	if r = b.getURL(r.header.Get("Location")); r.status != http.StatusFound {
		b.h.t.Fatalf("provider: %d %s", r.status, r.body)
	}
	return b.getURL(r.header.Get("Location"))
}

// An account that signs in through a provider reaches /account through
// the provider and back, sees its linked identity, and re-authenticates
// for a sensitive action by signing in there again.
func TestAccountThroughProvider(t *testing.T) {
	h := newSigninHarness(t)
	b := h.newBrowser()
	login := b.getURL(h.srv.loginURL(PathAccount))
	link := button(t, login, "Keycloak")
	if !strings.Contains(link, "return=%2Faccount") {
		t.Fatalf("the button does not return to /account: %s", link)
	}
	h.idp.QueueUser(connectortest.NewUser("kc-carol", "carol@example.com"))
	r := b.viaProvider(link)
	if r.status != http.StatusFound || r.header.Get("Location") != h.ts.URL+PathAccount {
		t.Fatalf("callback: %d %q; want back to /account\n%s", r.status, r.header.Get("Location"), r.body)
	}
	page := b.account()
	if !strings.Contains(page.body, "carol@example.com") || !strings.Contains(page.body, "With Keycloak as carol@example.com") || strings.Contains(page.body, "Change password") {
		t.Fatalf("account page of a provider account:\n%s", page.body)
	}
	h.clock.Advance(reauthWindow + time.Minute)
	page = b.account()
	if !strings.Contains(page.body, "Sign in again with Keycloak") {
		t.Fatal("no re-authentication button after ten minutes")
	}
	form := url.Values{"csrf_token": {csrf(t, page)}, "name": {"late"}, "scope": {"atoms:read"}, "days": {"7"}, "current_password": {"anything"}}
	if r := b.post(PathAccountTokens, form, nil); r.status != http.StatusForbidden || newToken.MatchString(r.body) {
		t.Fatalf("token without re-authentication: %d", r.status)
	}
	h.idp.QueueUser(connectortest.NewUser("kc-carol", "carol@example.com"))
	again := regexp.MustCompile(`<a class="button" href="([^"]+)">Sign in again with Keycloak</a>`).FindStringSubmatch(page.body)
	if r := b.viaProvider(html.UnescapeString(again[1])); r.header.Get("Location") != h.ts.URL+PathAccount {
		t.Fatalf("re-authentication: %d %q", r.status, r.header.Get("Location"))
	}
	if r := b.post(PathAccountTokens, form, nil); r.status != http.StatusOK || !newToken.MatchString(r.body) {
		t.Fatalf("token after re-authentication: %d", r.status)
	}
}

// Password attempts on the account page count against the sign-in limit
// of the address (30 a minute, shared with the sign-in page): guessing
// the current password there is no faster than at the sign-in page.
func TestAccountPasswordAttemptsLimited(t *testing.T) {
	h := newHarness(t)
	h.account("ann@example.com")
	b := h.newBrowser()
	b.signIn("ann@example.com", testPassword) // one attempt of the budget
	tok := csrf(t, b.account())
	limited := 0
	for i := 0; i < loginAttemptsPerMinute+1; i++ {
		r := b.post(PathAccountPassword, url.Values{"csrf_token": {tok}, "current_password": {"guess"}, "new_password": {"a new password"},
			"confirm_password": {"a new password"}}, nil)
		if r.status == http.StatusTooManyRequests {
			limited++
		}
	}
	if limited == 0 {
		t.Fatalf("%d wrong current passwords in a minute were all checked; want the limit to stop them", loginAttemptsPerMinute+1)
	}
	if _, err := h.srv.checkCredentials(t.Context(), "ann@example.com", testPassword, "192.0.2.9"); err != nil {
		t.Errorf("the password changed: %v", err)
	}
}
