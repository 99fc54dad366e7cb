package authserver

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/atomcp/atomcp/internal/store"
)

// Account administration for `atomcp users …`, on the store alone so that
// it works with or without a running server.

func newAccountID() string { return uuid.NewString() }

// CheckEmail says why an email cannot be a login name.
func CheckEmail(email string) error {
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || a.Name != "" {
		return fmt.Errorf("%q is not an email address", email)
	}
	return nil
}

// AddAccount creates a local account with the password.
func AddAccount(ctx context.Context, st store.Store, email, name, password string, owner bool, now time.Time) (*store.LocalAccount, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if err := CheckEmail(email); err != nil {
		return nil, err
	}
	if err := CheckPassword(password); err != nil {
		return nil, err
	}
	hash, err := hashPassword(password, defaultArgon)
	if err != nil {
		return nil, err
	}
	role := "user"
	if owner {
		role = "owner"
	}
	a := &store.LocalAccount{ID: newAccountID(), Email: email, Name: strings.TrimSpace(name), PasswordHash: hash, Role: role, CreatedAt: now, UpdatedAt: now}
	if err := st.CreateLocalAccount(ctx, a); err != nil {
		return nil, fmt.Errorf("add account %s: %w", email, err)
	}
	return a, nil
}

// FindAccount finds an account by email or id.
func FindAccount(ctx context.Context, st store.Store, emailOrID string) (*store.LocalAccount, error) {
	a, err := st.GetLocalAccountByEmail(ctx, strings.ToLower(strings.TrimSpace(emailOrID)))
	if err == nil {
		return a, nil
	}
	a, err2 := st.GetLocalAccount(ctx, emailOrID)
	if err2 == nil {
		return a, nil
	}
	return nil, fmt.Errorf("no account %q: %w", emailOrID, errors.Join(err, err2))
}

// SetAccountDisabled disables (or enables) an account. Disabling ends its
// browser sessions at once; its refresh tokens stop working at their next
// use, its access tokens at their next request (TokenRevoked), and its personal
// access tokens, which live long, are revoked at once (enabling the
// account again does not bring them back).
func SetAccountDisabled(ctx context.Context, st store.Store, a *store.LocalAccount, disabled bool, now time.Time) error {
	if disabled {
		a.DisabledAt = &now
	} else {
		a.DisabledAt = nil
	}
	a.UpdatedAt = now
	if err := st.UpdateLocalAccount(ctx, a); err != nil {
		return err
	}
	if disabled {
		if _, err := RevokeAccountPersonalTokens(ctx, st, a.ID, now); err != nil {
			return fmt.Errorf("account %s is disabled, but its personal access tokens could not all be revoked (run atomcp tokens revoke): %w", a.Email, err)
		}
	}
	return nil
}

// ResetPassword sets a new password, ends the account's sessions and
// lifts any lock-out.
func ResetPassword(ctx context.Context, st store.Store, a *store.LocalAccount, password string, now time.Time) error {
	if err := CheckPassword(password); err != nil {
		return err
	}
	hash, err := hashPassword(password, defaultArgon)
	if err != nil {
		return err
	}
	a.PasswordHash, a.FailedLogins, a.LockedUntil, a.UpdatedAt = hash, 0, nil, now
	return st.UpdateLocalAccount(ctx, a)
}

// AddClient pre-registers a client for an operator (`atomcp clients add`)
// and returns it with its secret (empty for a public client), which is
// shown once and never stored.
func AddClient(ctx context.Context, st store.Store, name string, redirectURIs []string, confidential bool, now time.Time) (*store.OAuthClient, string, error) {
	if len(redirectURIs) == 0 {
		return nil, "", errors.New("at least one --redirect-uri is required")
	}
	for _, u := range redirectURIs {
		if _, err := validateRedirectURI(u); err != nil {
			return nil, "", err
		}
	}
	c := &store.OAuthClient{ID: uuid.NewString(), Name: name, RedirectURIs: redirectURIs, GrantTypes: grantTypesSupported,
		ResponseTypes: []string{"code"}, TokenEndpointAuthMethod: "none", Source: "cli", CreatedAt: now}
	secret := ""
	if confidential {
		secret = newSecret()
		c.SecretHash, c.TokenEndpointAuthMethod = hashSecret(secret), "client_secret_basic"
	}
	if err := st.CreateOAuthClient(ctx, c); err != nil {
		return nil, "", err
	}
	return c, secret, nil
}
