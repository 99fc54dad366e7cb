package authserver

import (
	"errors"
	"testing"

	"github.com/atomcp/atomcp/internal/auth"
)

// TestDisabledAccountsAccessTokensStop: an OAuth access token of an
// account that is then disabled is refused on its next check, as the
// account's, and works again when the account is enabled.
func TestDisabledAccountsAccessTokensStop(t *testing.T) {
	h := newHarness(t)
	a := h.account("alice@example.com")
	tok := h.tokens(h.publicClient(), "alice@example.com")["access_token"].(string)
	if _, err := h.checkAccess(tok); err != nil {
		t.Fatalf("the fresh token: %v", err)
	}
	if err := SetAccountDisabled(t.Context(), h.st, a, true, h.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := h.checkAccess(tok); !errors.Is(err, auth.ErrAccountDisabled) {
		t.Fatalf("the token of a disabled account: %v; want auth.ErrAccountDisabled", err)
	}
	if err := SetAccountDisabled(t.Context(), h.st, a, false, h.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := h.checkAccess(tok); err != nil {
		t.Errorf("the token after the account is enabled again: %v", err)
	}
}
