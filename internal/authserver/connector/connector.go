// Package connector signs a person in at an upstream identity provider
// (WorkOS AuthKit, GitHub, Google or any OpenID Connect issuer) on behalf of
// the embedded authorization server, and says who signed in.
//
// A connector is the client side of one provider, as in dex: atomcp sends
// the browser to the provider with its own state, a PKCE S256 challenge and
// (OpenID Connect) a nonce, the provider returns to atomcp's one callback
// URL, and the connector exchanges the code and verifies the ID token with
// go-oidc. The provider's tokens stay here: nothing of them reaches MCP
// clients, which get atomcp's own tokens.
package connector

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// CallbackPath is the path, under the base URL, that every provider
// returns to.
const CallbackPath = "/oauth/callback"

// Connector is one upstream identity provider.
type Connector interface {
	// ID names the connector in stored identities and URLs: "workos",
	// "oidc", "github" or "google".
	ID() string
	// Name is the label of its sign-in button ("WorkOS AuthKit",
	// "GitHub", or ATOMCP_SIGNIN_OIDC_NAME).
	Name() string
	// AuthURL is where the browser is sent to sign in.
	AuthURL(ctx context.Context, a Attempt) (string, error)
	// Identity exchanges the code that came back to the callback and
	// returns who signed in. Its errors are *Error.
	Identity(ctx context.Context, code string, a Attempt) (*Identity, error)
	// Check fetches what the connector needs from the provider
	// (discovery, the API root) and says what is wrong with it, for the
	// start-up log and doctor.
	Check(ctx context.Context) error
}

// Attempt is atomcp's side of one sign-in: fresh random values, kept in
// the database until the provider returns.
type Attempt struct {
	State    string
	Nonce    string // OpenID Connect only
	Verifier string // PKCE code verifier; the S256 challenge is sent
}

// Identity is who signed in, as the provider vouches for it.
type Identity struct {
	// Subject is the provider's stable id of the person.
	Subject string
	// Email, and whether the provider verified that it is theirs: an
	// unverified email never links to or creates an account.
	Email         string
	EmailVerified bool
	Name          string
	// OrgID is the WorkOS organization the person chose, if any.
	OrgID string
	// Refusal is set when a rule of this connector (allowed GitHub
	// organizations, allowed Google hosted domains) does not admit the
	// person: an existing account may still be linked, none is created.
	Refusal string
}

// Kind is what went wrong, for the page the person sees.
type Kind int

// Kinds of failures.
const (
	// Unreachable: the provider could not be reached or answered
	// something other than what the protocol expects.
	Unreachable Kind = iota + 1
	// Rejected: the provider refused the code exchange (invalid_grant,
	// invalid_client …).
	Rejected
	// InvalidToken: the ID token failed a check; Check names it.
	InvalidToken
)

// Error is a failed sign-in at a provider.
type Error struct {
	Kind     Kind
	Provider string // the connector's Name
	// Check is the ID-token check that failed (signature, issuer,
	// audience, expiry, nonce …) for InvalidToken.
	Check string
	Err   error
}

func (e *Error) Error() string {
	switch e.Kind {
	case Unreachable:
		return fmt.Sprintf("%s could not be reached: %v", e.Provider, e.Err)
	case Rejected:
		return fmt.Sprintf("%s refused the sign-in: %v", e.Provider, e.Err)
	case InvalidToken:
		return fmt.Sprintf("the ID token from %s failed the %s check: %v", e.Provider, e.Check, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Provider, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Common is what every connector is configured with.
type Common struct {
	ClientID     string
	ClientSecret string
	// RedirectURL is {base_url}/oauth/callback.
	RedirectURL string
	// HTTPClient talks to the provider; nil means one with a 15 s
	// timeout.
	HTTPClient *http.Client
	// Now is the clock of ID-token expiry checks; nil means time.Now.
	Now func() time.Time
}

func (c *Common) defaults() {
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// exchangeError sorts an error of the code exchange into Rejected (the
// provider answered with an OAuth error) or Unreachable.
func exchangeError(provider string, err error) *Error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return &Error{Kind: Rejected, Provider: provider, Err: err}
	}
	return &Error{Kind: Unreachable, Provider: provider, Err: err}
}

// splitList splits a configured list on commas and spaces, lower-cased,
// without empty entries.
func splitList(l []string) []string {
	var out []string
	for _, s := range l {
		for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
			out = append(out, strings.ToLower(f))
		}
	}
	return out
}
