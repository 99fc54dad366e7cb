package authserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

// The first account: with no account at all, nobody could sign in, and
// the embedded default would need a CLI step. Instead a one-time link to
// a page that creates the owner account is printed to the terminal (never
// to a log): single use, valid 15 minutes. A new one is printed when the
// sign-in page is visited after the last one expired.

// PrintSetupLinkIfNeeded prints a setup link to Options.SetupOutput when
// no account exists. serve calls it at start-up.
func (s *Server) PrintSetupLinkIfNeeded(ctx context.Context) error {
	n, err := s.st.CountLocalAccounts(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	if s.opts.SetupOutput == nil {
		s.log.Warn("no account exists and there is no terminal to print the one-time setup link to; create the first account with `atomcp users add --owner`")
		return nil
	}
	return s.printSetupLink(ctx)
}

// offerSetupLink prints a new link if the last one expired (or none was
// printed by this process).
func (s *Server) offerSetupLink(ctx context.Context) {
	if s.opts.SetupOutput == nil {
		return
	}
	s.setupMu.Lock()
	valid := s.opts.Now().Before(s.setupValidTil)
	s.setupMu.Unlock()
	if !valid {
		if err := s.printSetupLink(ctx); err != nil {
			s.log.Error("print setup link", "err", err)
		}
	}
}

func (s *Server) printSetupLink(ctx context.Context) error {
	tok := newSecret()
	now := s.opts.Now()
	if err := s.st.CreateSetupToken(ctx, &store.SetupToken{Hash: hashSecret(tok), CreatedAt: now, ExpiresAt: now.Add(setupTTL)}); err != nil {
		return fmt.Errorf("create setup token: %w", err)
	}
	s.setupMu.Lock()
	s.setupValidTil = now.Add(setupTTL)
	s.setupMu.Unlock()
	link := s.opts.Issuer + PathSetup + "?token=" + url.QueryEscape(tok)
	_, err := fmt.Fprintf(s.opts.SetupOutput, "\n  No account exists yet. Create the first (owner) account here, within 15 minutes (the link works once):\n\n    %s\n\n", link)
	s.log.Info("printed a one-time setup link for the first account to the terminal")
	return err
}

func (s *Server) handleSetupForm(w http.ResponseWriter, r *http.Request) {
	tok := r.URL.Query().Get("token")
	if tok == "" {
		s.renderError(w, http.StatusBadRequest, "This setup link has no token.", "Use the whole link that atomcp serve printed.")
		return
	}
	q := r.URL.Query()
	s.pages.render(w, http.StatusOK, "setup", &pageData{Title: setupTitle(q.Get("purpose")), Token: tok, CSRF: s.newCSRF(w), SetupAction: s.opts.Issuer + PathSetup,
		Purpose: q.Get("purpose"), Email: q.Get("email")})
}

// setupTitle is the title of the setup page for a link's purpose.
func setupTitle(purpose string) string {
	switch purpose {
	case store.SetupPurposeInvite:
		return "Create your account"
	case store.SetupPurposeReset:
		return "Choose a new password"
	}
	return "Create the first account"
}

func (s *Server) handleSetup(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	f := r.PostForm
	tok, email, name, pw := f.Get("token"), strings.ToLower(strings.TrimSpace(f.Get("email"))), strings.TrimSpace(f.Get("name")), f.Get("password")
	purpose := f.Get("purpose")
	again := func(status int, msg string) {
		s.pages.render(w, status, "setup", &pageData{Title: setupTitle(purpose), Error: msg, Token: tok, Email: email, Name: name,
			CSRF: s.newCSRF(w), SetupAction: s.opts.Issuer + PathSetup, Purpose: purpose})
	}
	if !checkCSRF(r) {
		again(http.StatusForbidden, "This form expired or was not sent by this server's page; fill it in again.")
		return
	}
	if purpose != "" {
		// An account link: the token names the email or account.
		if err := CheckPassword(pw); err != nil {
			again(http.StatusBadRequest, err.Error())
			return
		}
		s.handleAccountLink(w, r, tok, name, pw)
		return
	}
	if err := CheckEmail(email); err != nil {
		again(http.StatusBadRequest, err.Error())
		return
	}
	if err := CheckPassword(pw); err != nil {
		again(http.StatusBadRequest, err.Error())
		return
	}
	hash, err := hashPassword(pw, s.argon)
	if err != nil {
		s.renderError(w, http.StatusInternalServerError, "The server could not hash the password; try again.", "")
		return
	}
	now := s.opts.Now()
	var failure string
	err = s.st.InTx(r.Context(), func(tx store.Ops) error {
		st, err := tx.ConsumeSetupToken(r.Context(), hashSecret(tok), now)
		switch {
		case errors.Is(err, domain.ErrNotFound):
			failure = "This setup link is not valid."
			return err
		case errors.Is(err, store.ErrAlreadyUsed):
			failure = "This setup link was used already."
			return err
		case err != nil:
			return err
		case now.After(st.ExpiresAt):
			failure = "This setup link expired."
			return errors.New("expired")
		}
		n, err := tx.CountLocalAccounts(r.Context())
		if err != nil {
			return err
		}
		if n > 0 {
			failure = "An account exists already; setup links only create the first one."
			return errors.New("accounts exist")
		}
		return tx.CreateLocalAccount(r.Context(), &store.LocalAccount{ID: newAccountID(), Email: email, Name: name,
			PasswordHash: hash, Role: "owner", CreatedAt: now, UpdatedAt: now})
	})
	if failure != "" {
		s.renderError(w, http.StatusBadRequest, failure, "Restart atomcp serve for a new link, or create the account with `atomcp users add --owner`.")
		return
	}
	if err != nil {
		s.log.Error("create first account", "err", err)
		s.renderError(w, http.StatusInternalServerError, "The server could not create the account; try again.", "")
		return
	}
	s.log.Info("first account created through the setup link")
	s.pages.render(w, http.StatusOK, "setup", &pageData{Title: "Account created", Done: true, Email: email})
}

// handleAccountLink completes an account invitation or a password reset
// link: the token is consumed first, so a link works once even when two
// forms race.
func (s *Server) handleAccountLink(w http.ResponseWriter, r *http.Request, tok, name, pw string) {
	ctx := r.Context()
	now := s.opts.Now()
	fail := func(msg string) {
		s.renderError(w, http.StatusBadRequest, msg, "Ask the server's owner for a new link.")
	}
	hash, err := hashPassword(pw, s.argon)
	if err != nil {
		s.renderError(w, http.StatusInternalServerError, "The server could not hash the password; try again.", "")
		return
	}
	st, err := s.st.ConsumeSetupToken(ctx, hashSecret(tok), now)
	switch {
	case errors.Is(err, domain.ErrNotFound) || (err == nil && st.Purpose == ""):
		fail("This link is not valid.")
		return
	case errors.Is(err, store.ErrAlreadyUsed):
		fail("This link was used already.")
		return
	case err != nil:
		s.log.Error("account link", "err", err)
		s.renderError(w, http.StatusInternalServerError, "The server could not read this link; try again.", "")
		return
	case now.After(st.ExpiresAt):
		fail("This link expired.")
		return
	}
	var a *store.LocalAccount
	switch st.Purpose {
	case store.SetupPurposeInvite:
		a = &store.LocalAccount{ID: newAccountID(), Email: st.Email, Name: name, PasswordHash: hash, Role: "user", CreatedAt: now, UpdatedAt: now}
		if err := s.st.CreateLocalAccount(ctx, a); errors.Is(err, domain.ErrConflict) {
			fail("An account with this email exists already; sign in with it.")
			return
		} else if err != nil {
			s.log.Error("create invited account", "err", err)
			s.renderError(w, http.StatusInternalServerError, "The server could not create the account; try again.", "")
			return
		}
		s.log.Info("account created through an invitation link", "account", a.ID)
	case store.SetupPurposeReset:
		a, err = s.st.GetLocalAccount(ctx, st.AccountID)
		if err != nil || a.DisabledAt != nil {
			fail("The account of this link no longer exists or is disabled.")
			return
		}
		a.PasswordHash, a.FailedLogins, a.LockedUntil, a.UpdatedAt = hash, 0, nil, now
		if err := s.st.UpdateLocalAccount(ctx, a); err != nil {
			s.log.Error("reset password", "err", err)
			s.renderError(w, http.StatusInternalServerError, "The server could not set the password; try again.", "")
			return
		}
		s.log.Info("password reset through a reset link", "account", a.ID)
	default:
		fail("This link is not valid.")
		return
	}
	s.pages.render(w, http.StatusOK, "setup", &pageData{Title: setupTitle(st.Purpose), Done: true, Email: a.Email, Purpose: st.Purpose,
		Message: s.opts.Issuer + PathAccount})
}
