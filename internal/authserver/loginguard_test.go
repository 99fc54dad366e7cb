package authserver

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"strings"
	"testing"

	"github.com/atomcp/atomcp/internal/netaddr"
)

// hiddenValues matches the per-page values (CSRF token, request) that
// differ between two renderings of the same page.
var hiddenValues = regexp.MustCompile(`value="[^"]*"`)

// TestSigninLockoutIsPerAddressAndSilent: guesses from one address lock
// out only that address's attempts at that email; a known, an unknown and
// a locked email get the same status and page; and the owner signing in
// from another address gets in.
func TestSigninLockoutIsPerAddressAndSilent(t *testing.T) {
	h := newHarness(t)
	h.account("alice@example.com")
	id := h.publicClient()
	page := h.get(h.authorizeURL(id, nil))

	same := func(what string, a, b *response, emailA, emailB string) {
		t.Helper()
		na := hiddenValues.ReplaceAllString(strings.ReplaceAll(a.body, emailA, "EMAIL"), `value=""`)
		nb := hiddenValues.ReplaceAllString(strings.ReplaceAll(b.body, emailB, "EMAIL"), `value=""`)
		if a.status != b.status || na != nb {
			t.Errorf("%s: %d and %d, bodies equal %v", what, a.status, b.status, na == nb)
		}
	}
	for i := range freeFailures {
		known := h.signIn(page, "alice@example.com", "wrong password")
		unknown := h.signIn(known, "nobody@example.com", "wrong password") // each page carries the next CSRF token
		if known.status != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i, known.status)
		}
		same("a wrong password for a known and an unknown email", known, unknown, "alice@example.com", "nobody@example.com")
		page = unknown
	}
	lockedKnown := h.signIn(page, "alice@example.com", testPassword) // even the right password waits
	lockedUnknown := h.signIn(lockedKnown, "nobody@example.com", "wrong password")
	if lockedKnown.status != http.StatusTooManyRequests || !strings.Contains(lockedKnown.body, "try again in") {
		t.Fatalf("locked: %d\n%s", lockedKnown.status, lockedKnown.body)
	}
	same("a locked known and a locked unknown email", lockedKnown, lockedUnknown, "alice@example.com", "nobody@example.com")
	// A fresh email from the attacking address is not locked: the lock
	// is per email and address, and the attacker learns nothing from it.
	if r := h.signIn(lockedUnknown, "carol@example.com", "wrong password"); r.status != http.StatusUnauthorized {
		t.Errorf("another email from the same address: %d", r.status)
	}

	// The owner, from another address, at the same moment.
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.srv.ServeHTTP(w, r.WithContext(netaddr.WithClient(r.Context(), netip.MustParseAddr("198.51.100.7"))))
	}))
	t.Cleanup(other.Close)
	get := func(u string) *response {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, strings.Replace(u, h.ts.URL, other.URL, 1), nil)
		return h.do(req)
	}
	ownerPage := get(h.authorizeURL(id, nil))
	f := formFields(ownerPage.body)
	f.Set("email", "alice@example.com")
	f.Set("password", testPassword)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, other.URL+PathLogin, strings.NewReader(f.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if r := h.do(req); r.status != http.StatusOK || !strings.Contains(r.body, `value="allow"`) {
		t.Fatalf("the owner from another address: %d; want the consent page\n%s", r.status, r.body)
	}
}
