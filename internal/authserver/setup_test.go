package authserver

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

var setupLink = regexp.MustCompile(`https?://\S+/oauth/setup\?token=(\S+)`)

func TestFirstAccountSetup(t *testing.T) {
	term := &syncBuffer{}
	h := newHarness(t, func(o *Options) { o.SetupOutput = term })
	if err := h.srv.PrintSetupLinkIfNeeded(t.Context()); err != nil {
		t.Fatal(err)
	}
	m := setupLink.FindStringSubmatch(term.String())
	if m == nil {
		t.Fatalf("no setup link on the terminal:\n%s", term.String())
	}
	tok, _ := url.QueryUnescape(m[1])
	if strings.Contains(h.logs.String(), tok) {
		t.Fatal("the setup token reached the log")
	}

	form := h.get(m[0])
	if form.status != http.StatusOK || !strings.Contains(form.body, "Create the first account") {
		t.Fatalf("setup form: %d", form.status)
	}
	checkPageHeaders(t, form)
	submit := func(page *response, email, pw string) *response {
		f := formFields(page.body)
		f.Set("email", email)
		f.Set("name", "Olive Owner")
		f.Set("password", pw)
		return h.postForm(PathSetup, f)
	}
	bad := submit(form, "not-an-email", testPassword)
	if bad.status != http.StatusBadRequest || !strings.Contains(bad.body, "not an email") {
		t.Fatalf("bad email: %d", bad.status)
	}
	short := submit(bad, "olive@example.com", "short") // each page has its own CSRF token
	if short.status != http.StatusBadRequest || !strings.Contains(short.body, "too short") {
		t.Fatalf("short password: %d", short.status)
	}
	stale := submit(form, "olive@example.com", testPassword)
	if stale.status != http.StatusForbidden {
		t.Fatalf("a stale form (old CSRF token): %d; want 403", stale.status)
	}
	// Failed attempts did not use the link up.
	done := submit(stale, "Olive@Example.com", testPassword)
	if done.status != http.StatusOK || !strings.Contains(done.body, "was created") {
		t.Fatalf("setup: %d\n%s", done.status, done.body)
	}
	a, err := h.st.GetLocalAccountByEmail(t.Context(), "olive@example.com")
	if err != nil || a.Role != "owner" {
		t.Fatalf("owner account: %+v %v", a, err)
	}
	// Single use.
	again := h.get(setupLink.FindString(term.String()))
	if r := submit(again, "second@example.com", testPassword); r.status != http.StatusBadRequest || !strings.Contains(r.body, "used already") {
		t.Errorf("second use: %d\n%s", r.status, r.body)
	}
	// With an account, start-up prints nothing.
	before := term.String()
	if err := h.srv.PrintSetupLinkIfNeeded(t.Context()); err != nil || term.String() != before {
		t.Errorf("a setup link was printed although an account exists")
	}
	// And the owner can sign in.
	id := h.publicClient()
	page := h.get(h.authorizeURL(id, nil))
	if r := h.signIn(page, "olive@example.com", testPassword); r.status != http.StatusOK {
		t.Errorf("owner sign-in: %d", r.status)
	}
}

func TestSetupLinkExpires(t *testing.T) {
	term := &syncBuffer{}
	h := newHarness(t, func(o *Options) { o.SetupOutput = term })
	if err := h.srv.PrintSetupLinkIfNeeded(t.Context()); err != nil {
		t.Fatal(err)
	}
	link := setupLink.FindString(term.String())
	form := h.get(link)
	h.clock.Advance(setupTTL + time.Second)
	f := formFields(form.body)
	f.Set("email", "olive@example.com")
	f.Set("password", testPassword)
	if r := h.postForm(PathSetup, f); r.status != http.StatusBadRequest || !strings.Contains(r.body, "expired") {
		t.Fatalf("expired link: %d\n%s", r.status, r.body)
	}
	// Visiting the sign-in page with no account prints a fresh link.
	id := h.publicClient()
	page := h.get(h.authorizeURL(id, nil))
	if !strings.Contains(page.body, "No account exists") {
		t.Errorf("login page without accounts does not say so:\n%s", page.body)
	}
	if links := setupLink.FindAllString(term.String(), -1); len(links) != 2 || links[0] == links[1] {
		t.Errorf("links printed: %v; want a second, different one", links)
	}
}

func TestNoTerminalNoLink(t *testing.T) {
	h := newHarness(t)
	if err := h.srv.PrintSetupLinkIfNeeded(t.Context()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(h.logs.String(), "atomcp users add") || strings.Contains(h.logs.String(), "token=") {
		t.Errorf("log without terminal: %s", h.logs.String())
	}
	if n, _ := h.st.CountLocalAccounts(t.Context()); n != 0 {
		t.Error("an account appeared")
	}
}
