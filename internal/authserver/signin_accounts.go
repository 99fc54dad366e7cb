package authserver

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/atomcp/atomcp/internal/authserver/connector"
	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

// SigninRules decide which people signing in through a connector get an
// account.
type SigninRules struct {
	// AllowedDomains, when set, are the email domains whose people may
	// have an account created (ATOMCP_SIGNIN_ALLOWED_DOMAINS). Linking an
	// existing account does not look at them: it was admitted already.
	AllowedDomains []string
	// NoAutoCreate allows only accounts that exist already, created by an
	// operator or linked before (ATOMCP_SIGNIN_AUTO_CREATE=false).
	NoAutoCreate bool
}

// noPasswordHash is the password hash of an account created at an
// upstream sign-in: it is no PHC string, so no password ever matches it.
const noPasswordHash = "!no-password:signs-in-through-a-connector"

// refusal is why a person who signed in at a provider gets no account
// here, as the page says it.
type refusal struct {
	status        int
	reason        string // for the log: a fixed word
	message, hint string
}

// resolveAccount finds the account of a person a connector vouched for:
// the one linked to this identity, else the one with the same verified
// email (linked now), else a new one if the rules allow. It returns a
// refusal when none may be used, and an error when the store fails.
func (s *Server) resolveAccount(ctx context.Context, c connector.Connector, id *connector.Identity) (*store.LocalAccount, *refusal, error) {
	now := s.opts.Now()
	link := &store.LinkedIdentity{Connector: c.ID(), Subject: id.Subject, Email: id.Email, OrgID: id.OrgID, CreatedAt: now, LastUsedAt: now}
	if id.Subject == "" {
		return nil, &refusal{status: 502, reason: "no_subject", message: c.Name() + " did not say who signed in (no subject).", hint: startAgain}, nil
	}
	li, err := s.st.GetLinkedIdentity(ctx, c.ID(), id.Subject)
	switch {
	case err == nil:
		a, err := s.st.GetLocalAccount(ctx, li.AccountID)
		if err != nil {
			return nil, nil, err
		}
		if a.DisabledAt != nil {
			return nil, disabledRefusal(a.Email), nil
		}
		link.AccountID, link.CreatedAt = a.ID, li.CreatedAt
		if err := s.st.PutLinkedIdentity(ctx, link); err != nil {
			return nil, nil, err
		}
		return a, nil, nil
	case !errors.Is(err, domain.ErrNotFound):
		return nil, nil, err
	}
	if id.Email == "" || !id.EmailVerified {
		shown := id.Email
		if shown == "" {
			shown = "no email address"
		}
		return nil, &refusal{status: 403, reason: "email_unverified",
			message: fmt.Sprintf("%s did not confirm that the email address of this account (%s) is verified, so it cannot sign you in here.", c.Name(), shown),
			hint:    "Verify the address at " + c.Name() + " (or make a verified address the primary one), then start again from your MCP client."}, nil
	}
	a, err := s.st.GetLocalAccountByEmail(ctx, id.Email)
	switch {
	case err == nil:
		if a.DisabledAt != nil {
			return nil, disabledRefusal(a.Email), nil
		}
		link.AccountID = a.ID
		if err := s.st.PutLinkedIdentity(ctx, link); err != nil {
			return nil, nil, err
		}
		s.log.Info("identity linked to an existing account", "account", a.ID, "connector", c.ID())
		return a, nil, nil
	case !errors.Is(err, domain.ErrNotFound):
		return nil, nil, err
	}
	if ref := s.creationRefusal(c, id); ref != nil {
		return nil, ref, nil
	}
	a = &store.LocalAccount{ID: newAccountID(), Email: id.Email, Name: strings.TrimSpace(id.Name), PasswordHash: noPasswordHash,
		Role: "user", CreatedAt: now, UpdatedAt: now}
	link.AccountID = a.ID
	err = s.st.InTx(ctx, func(tx store.Ops) error {
		if err := tx.CreateLocalAccount(ctx, a); err != nil {
			return err
		}
		return tx.PutLinkedIdentity(ctx, link)
	})
	if err != nil {
		return nil, nil, fmt.Errorf("create account at sign-in: %w", err)
	}
	s.log.Info("account created at sign-in", "account", a.ID, "connector", c.ID())
	return a, nil, nil
}

// creationRefusal applies the rules for creating an account.
func (s *Server) creationRefusal(c connector.Connector, id *connector.Identity) *refusal {
	if s.opts.SigninRules.NoAutoCreate {
		return &refusal{status: 403, reason: "auto_create_off",
			message: fmt.Sprintf("No account for %s exists on this server, and it creates accounts only ahead of sign-in (ATOMCP_SIGNIN_AUTO_CREATE=false).", id.Email),
			hint:    "Ask the server's operator to create your account (atomcp users add " + id.Email + "), then start again from your MCP client."}
	}
	if id.Refusal != "" {
		return &refusal{status: 403, reason: "connector_rule",
			message: fmt.Sprintf("No account for %s exists on this server, and it may not be created: %s.", id.Email, id.Refusal),
			hint:    "Ask the server's operator to create your account, or sign in with an account that the rule admits."}
	}
	if err := CheckEmail(id.Email); err != nil {
		return &refusal{status: 403, reason: "bad_email", message: c.Name() + " gave an email address this server cannot use: " + err.Error() + ".", hint: startAgain}
	}
	if len(s.opts.SigninRules.AllowedDomains) > 0 {
		host := strings.ToLower(id.Email[strings.LastIndex(id.Email, "@")+1:])
		ok := false
		for _, d := range s.opts.SigninRules.AllowedDomains {
			ok = ok || strings.EqualFold(strings.TrimPrefix(strings.TrimSpace(d), "@"), host)
		}
		if !ok {
			return &refusal{status: 403, reason: "domain_not_allowed",
				message: fmt.Sprintf("No account for %s exists on this server, and its email domain is not one for which this server creates accounts (ATOMCP_SIGNIN_ALLOWED_DOMAINS).", id.Email),
				hint:    "Sign in with your organization's address, or ask the server's operator to create your account."}
		}
	}
	return nil
}

func disabledRefusal(email string) *refusal {
	return &refusal{status: 403, reason: "disabled", message: fmt.Sprintf("The account %s is disabled on this server.", email),
		hint: "Ask the server's operator (atomcp users enable " + email + ")."}
}

// LinkedIdentities returns the identities linked to an account, for
// `atomcp users list`.
func LinkedIdentities(ctx context.Context, st store.Store, accountID string) ([]*store.LinkedIdentity, error) {
	return st.ListLinkedIdentities(ctx, accountID)
}

// UnlinkIdentity removes the account's identity at a connector (`atomcp
// users unlink EMAIL CONNECTOR`): its next sign-in there links again by
// verified email, or is refused.
func UnlinkIdentity(ctx context.Context, st store.Store, a *store.LocalAccount, connectorID string) error {
	n, err := st.DeleteLinkedIdentities(ctx, a.ID, connectorID)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("%s has no %s identity linked (see atomcp users list)", a.Email, connectorID)
	}
	return nil
}

// HasPassword reports whether the account can sign in with a password
// (accounts created at an upstream sign-in have none until an operator
// sets one with `atomcp users reset-password`).
func HasPassword(a *store.LocalAccount) bool { return a.PasswordHash != noPasswordHash }
