package authserver

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

// One-time account links, made by the server owner (the admin page, or
// `atomcp users invite` / `atomcp users reset-link`): an account
// invitation lets a person create their local account with the email it
// names; a reset link lets the account's person choose a new password.
// Both open the setup page (PathSetup) and work once; the store keeps only
// the hash of their secret.

// Lifetimes of account links.
const (
	AccountInviteTTL = 7 * 24 * time.Hour
	PasswordResetTTL = 24 * time.Hour
)

// AccountInviteLink creates a link that lets a person create a local
// account with email. An existing account with that email is an error
// (domain.ErrConflict).
func AccountInviteLink(ctx context.Context, st store.Store, issuer, email string, now time.Time) (string, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if err := CheckEmail(email); err != nil {
		return "", fmt.Errorf("%w: %w", domain.ErrInvalid, err)
	}
	if _, err := st.GetLocalAccountByEmail(ctx, email); err == nil {
		return "", fmt.Errorf("%w: an account with the email %s exists already", domain.ErrConflict, email)
	} else if !errors.Is(err, domain.ErrNotFound) {
		return "", err
	}
	return accountLink(ctx, st, issuer, &store.SetupToken{Purpose: store.SetupPurposeInvite, Email: email, CreatedAt: now, ExpiresAt: now.Add(AccountInviteTTL)})
}

// PasswordResetLink creates a link that lets the account's person set a
// new password.
func PasswordResetLink(ctx context.Context, st store.Store, issuer string, a *store.LocalAccount, now time.Time) (string, error) {
	if a.DisabledAt != nil {
		return "", fmt.Errorf("%w: the account %s is disabled; enable it first", domain.ErrInvalid, a.Email)
	}
	return accountLink(ctx, st, issuer, &store.SetupToken{Purpose: store.SetupPurposeReset, Email: a.Email, AccountID: a.ID, CreatedAt: now, ExpiresAt: now.Add(PasswordResetTTL)})
}

func accountLink(ctx context.Context, st store.Store, issuer string, t *store.SetupToken) (string, error) {
	tok := newSecret()
	t.Hash = hashSecret(tok)
	if err := st.CreateSetupToken(ctx, t); err != nil {
		return "", fmt.Errorf("create %s link: %w", t.Purpose, err)
	}
	// The email rides along for the page to show; the token decides.
	q := url.Values{"token": {tok}, "purpose": {t.Purpose}, "email": {t.Email}}
	return issuer + PathSetup + "?" + q.Encode(), nil
}

// SetAccountRole makes an account the server's owner ("owner") or a
// plain account ("user"). The last enabled owner stays an owner.
func SetAccountRole(ctx context.Context, st store.Store, a *store.LocalAccount, role string, now time.Time) error {
	if role != "owner" && role != "user" {
		return fmt.Errorf("%w: account role %q; accepted: owner, user", domain.ErrInvalid, role)
	}
	if a.Role == "owner" && role != "owner" {
		all, err := st.ListLocalAccounts(ctx)
		if err != nil {
			return err
		}
		others := 0
		for _, o := range all {
			if o.ID != a.ID && o.Role == "owner" && o.DisabledAt == nil {
				others++
			}
		}
		if others == 0 {
			return fmt.Errorf("%w: %s is the last owner of this server; make another account owner first", domain.ErrInvalid, a.Email)
		}
	}
	a.Role, a.UpdatedAt = role, now
	return st.UpdateLocalAccount(ctx, a)
}
