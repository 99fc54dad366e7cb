package authserver

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

// AccessClaims are the claims of the access tokens this server issues
// (RFC 9068 with MCP's needs): the audience is the resource, and the
// email and name let the resource server fill in the user's profile.
type AccessClaims struct {
	jwt.RegisteredClaims
	ClientID string `json:"client_id"`
	Scope    string `json:"scope"`
	Email    string `json:"email,omitempty"`
	// EmailVerified is true for local accounts: their email was set by the
	// operator (or the first owner), and Atoms accepts pending invitations
	// only for verified emails.
	EmailVerified bool   `json:"email_verified,omitempty"`
	Name          string `json:"name,omitempty"`
}

// tokenResponse is RFC 6749 §5.1's answer.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope"`
}

// codeVerifier is RFC 7636 §4.1's syntax.
var codeVerifier = regexp.MustCompile(`^[A-Za-z0-9._~-]{43,128}$`)

// handleToken is the token endpoint.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	if ok, wait := s.token.allow(r); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		writeError(w, r, &oauthError{http.StatusTooManyRequests, "too_many_requests",
			fmt.Sprintf("too many token requests from your address; try again in %d seconds", int(wait.Seconds())+1)})
		return
	}
	if !s.parseForm(w, r) {
		return
	}
	for name, vals := range r.PostForm {
		// resource may repeat (RFC 8707 §2; Codex sends it twice):
		// tokenResource decides.
		if len(vals) > 1 && name != "resource" {
			writeError(w, r, errInvalidRequest(fmt.Sprintf("the parameter %s appears more than once", name)))
			return
		}
	}
	c, oerr := s.authenticateClient(r)
	if oerr != nil {
		writeError(w, r, oerr)
		return
	}
	var (
		resp *tokenResponse
		err  *oauthError
	)
	switch gt := r.PostForm.Get("grant_type"); gt {
	case "authorization_code":
		resp, err = s.exchangeCode(r, c)
	case "refresh_token":
		resp, err = s.refresh(r, c)
	case "":
		err = errInvalidRequest("grant_type is missing; use authorization_code or refresh_token")
	default:
		err = &oauthError{http.StatusBadRequest, "unsupported_grant_type", fmt.Sprintf("grant_type %q is not supported; use authorization_code or refresh_token", gt)}
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// exchangeCode is the authorization_code grant.
func (s *Server) exchangeCode(r *http.Request, c *client) (*tokenResponse, *oauthError) {
	ctx := r.Context()
	f := r.PostForm
	code, redirect, verifier := f.Get("code"), f.Get("redirect_uri"), f.Get("code_verifier")
	switch {
	case code == "":
		return nil, errInvalidRequest("code is missing")
	case verifier == "":
		return nil, errInvalidRequest("code_verifier is missing: PKCE is required (RFC 7636)")
	case !codeVerifier.MatchString(verifier):
		return nil, errInvalidRequest("code_verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~ (RFC 7636 §4.1)")
	}
	hash := hashSecret(code)
	stored, err := s.st.GetAuthCode(ctx, hash)
	switch {
	case errors.Is(err, domain.ErrNotFound):
		return nil, errInvalidGrant("the authorization code is not valid (unknown, or expired and purged); start the authorization again")
	case err != nil:
		s.log.Error("get authorization code", "err", err)
		return nil, errServer()
	case stored.ClientID != c.ID:
		// Checked before the code is consumed: another client presenting
		// it must not be able to burn it.
		return nil, errInvalidGrant("the authorization code was issued to another client")
	}
	now := s.opts.Now()
	stored, err = s.st.ConsumeAuthCode(ctx, hash, now)
	switch {
	case errors.Is(err, store.ErrAlreadyUsed):
		s.event(EventCodeReuse)
		s.revokeFamily(ctx, stored.FamilyID, "authorization code reused")
		return nil, errInvalidGrant("the authorization code was already used; every token issued from it is now revoked; start the authorization again")
	case err != nil:
		s.log.Error("consume authorization code", "err", err)
		return nil, errServer()
	case now.After(stored.ExpiresAt):
		return nil, errInvalidGrant(fmt.Sprintf("the authorization code expired (codes live %s); start the authorization again", s.opts.CodeTTL))
	case redirect == "" && stored.RedirectURI != "":
		return nil, errInvalidRequest("redirect_uri is missing; send the one used in the authorization request")
	case redirect != stored.RedirectURI:
		return nil, errInvalidGrant("redirect_uri differs from the one in the authorization request")
	case !pkceMatches(verifier, stored.CodeChallenge):
		return nil, errInvalidGrant("code_verifier does not match the code_challenge of the authorization request")
	}
	if oerr := s.checkTokenResource(f["resource"], stored.Resource); oerr != nil {
		return nil, oerr
	}
	acct, oerr := s.activeAccount(ctx, stored.AccountID)
	if oerr != nil {
		return nil, oerr
	}
	return s.issueTokens(ctx, c, acct, stored.FamilyID, stored.Scope, stored.Resource, nil)
}

// refresh is the refresh_token grant, with rotation: the presented token
// is used up and a new one returned. A used token presented again means
// it was stolen (or the client is broken): the whole family is revoked.
func (s *Server) refresh(r *http.Request, c *client) (*tokenResponse, *oauthError) {
	ctx := r.Context()
	f := r.PostForm
	tok := f.Get("refresh_token")
	if tok == "" {
		return nil, errInvalidRequest("refresh_token is missing")
	}
	if !c.allowsGrant("refresh_token") {
		return nil, &oauthError{http.StatusBadRequest, "unauthorized_client", "the client did not register the refresh_token grant"}
	}
	hash := hashSecret(tok)
	stored, err := s.st.GetRefreshToken(ctx, hash)
	switch {
	case errors.Is(err, domain.ErrNotFound):
		return nil, errInvalidGrant("the refresh token is not valid (unknown, or expired and purged); sign in again")
	case err != nil:
		s.log.Error("get refresh token", "err", err)
		return nil, errServer()
	case stored.ClientID != c.ID:
		return nil, errInvalidGrant("the refresh token was issued to another client")
	}
	// Requests that will be refused are refused before the token is used
	// up: a client that asks for a wrong scope must be able to retry.
	scope := stored.Scope
	if want := withoutOfflineAccess(f.Get("scope")); want != "" {
		norm, err := parseScope(want)
		if err != nil {
			return nil, errInvalidScope(err.Error())
		}
		if !scopeCovers(stored.Scope, norm) {
			return nil, errInvalidScope(fmt.Sprintf("scope %q exceeds what was granted (%s); to get more, authorize again", want, stored.Scope))
		}
		scope = norm
	}
	if oerr := s.checkTokenResource(f["resource"], stored.Resource); oerr != nil {
		return nil, oerr
	}
	now := s.opts.Now()
	stored, err = s.st.UseRefreshToken(ctx, hash, now)
	switch {
	case errors.Is(err, store.ErrAlreadyUsed):
		s.event(EventRefreshReuse)
		s.revokeFamily(ctx, stored.FamilyID, "refresh token replayed after rotation")
		return nil, errInvalidGrant("the refresh token was already used (each one works once); every token of this sign-in is now revoked; sign in again")
	case err != nil:
		s.log.Error("use refresh token", "err", err)
		return nil, errServer()
	case now.After(stored.ExpiresAt):
		return nil, errInvalidGrant("the refresh token expired; sign in again")
	}
	fam, err := s.st.GetTokenFamily(ctx, stored.FamilyID)
	if err != nil {
		s.log.Error("get token family", "err", err)
		return nil, errServer()
	}
	if fam.RevokedAt != nil {
		return nil, errInvalidGrant("the refresh token was revoked; sign in again")
	}
	acct, oerr := s.activeAccount(ctx, stored.AccountID)
	if oerr != nil {
		return nil, oerr
	}
	return s.issueTokens(ctx, c, acct, stored.FamilyID, scope, stored.Resource, fam)
}

// issueTokens signs an access token and, for a client that may refresh,
// creates a refresh token, recording both in the family in one
// transaction. fam is the family when already loaded.
func (s *Server) issueTokens(ctx context.Context, c *client, acct *store.LocalAccount, familyID, scope, resource string, fam *store.TokenFamily) (*tokenResponse, *oauthError) {
	now := s.opts.Now()
	exp := now.Add(s.opts.AccessTokenTTL)
	jti := uuid.NewString()
	access, err := s.keys.sign(ctx, &AccessClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: s.opts.Issuer, Subject: acct.ID, Audience: jwt.ClaimStrings{resource},
			ExpiresAt: jwt.NewNumericDate(exp), IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now), ID: jti,
		},
		ClientID: c.ID, Scope: scope, Email: acct.Email, EmailVerified: acct.Email != "", Name: acct.Name,
	}, "at+jwt")
	if err != nil {
		s.log.Error("sign access token", "err", err)
		return nil, errServer()
	}
	resp := &tokenResponse{AccessToken: access, TokenType: "Bearer", ExpiresIn: int64(s.opts.AccessTokenTTL / time.Second), Scope: scope}
	var revoked bool
	err = s.st.InTx(ctx, func(tx store.Ops) error {
		f := fam
		if f == nil {
			var err error
			if f, err = tx.GetTokenFamily(ctx, familyID); err != nil {
				return err
			}
		}
		if f.RevokedAt != nil {
			revoked = true
			return nil
		}
		if err := tx.RecordAccessToken(ctx, &store.AccessToken{JTI: jti, FamilyID: familyID, ExpiresAt: exp}); err != nil {
			return err
		}
		if !c.allowsGrant("refresh_token") {
			return nil
		}
		resp.RefreshToken = newSecret()
		return tx.CreateRefreshToken(ctx, &store.RefreshToken{Hash: hashSecret(resp.RefreshToken), FamilyID: familyID, ClientID: c.ID,
			AccountID: acct.ID, Scope: scope, Resource: resource, CreatedAt: now, ExpiresAt: now.Add(s.opts.RefreshTokenTTL)})
	})
	if err != nil {
		s.log.Error("record issued tokens", "err", err)
		return nil, errServer()
	}
	if revoked {
		return nil, errInvalidGrant("this authorization was revoked (its code or a refresh token was replayed); start the authorization again")
	}
	s.event(EventTokensIssued)
	s.log.Info("tokens issued", "client_id", c.ID, "account", acct.ID, "scope", scope, "refresh", resp.RefreshToken != "")
	return resp, nil
}

// activeAccount loads the account tokens are issued for, refusing a
// disabled or deleted one.
func (s *Server) activeAccount(ctx context.Context, id string) (*store.LocalAccount, *oauthError) {
	a, err := s.st.GetLocalAccount(ctx, id)
	switch {
	case errors.Is(err, domain.ErrNotFound):
		return nil, errInvalidGrant("the account of this grant no longer exists")
	case err != nil:
		s.log.Error("get account", "err", err)
		return nil, errServer()
	case a.DisabledAt != nil:
		return nil, errInvalidGrant("the account of this grant is disabled")
	}
	return a, nil
}

// revokeFamily revokes a family after a replay; a failure is logged (the
// caller refuses the request anyway).
func (s *Server) revokeFamily(ctx context.Context, id, why string) {
	s.log.Warn("revoking token family", "family", id, "reason", why)
	if err := s.st.RevokeTokenFamily(ctx, id, s.opts.Now()); err != nil && !errors.Is(err, domain.ErrNotFound) {
		s.log.Error("revoke token family", "family", id, "err", err)
	}
}

// pkceMatches checks an S256 code verifier against its challenge.
func pkceMatches(verifier, challenge string) bool {
	sum := sha256.Sum256([]byte(verifier))
	return equalSecret(base64.RawURLEncoding.EncodeToString(sum[:]), challenge)
}

// checkTokenResource checks the resource parameters of a token request
// against the resource of the grant. Omitted, the grant's resource holds
// (RFC 8707 §2.2). Sent, it must name this server: the grant's resource,
// with or without a trailing slash, or another name ResourceOK accepts
// for the same endpoint (a client that sent no resource at authorize and
// sends the MCP URL now, or localhost for 127.0.0.1). The token's
// audience stays the grant's resource in every case: this server has one
// resource, and the resource server accepts each of those names.
func (s *Server) checkTokenResource(values []string, granted string) *oauthError {
	if len(values) == 0 {
		return nil
	}
	distinct := distinctResources(values)
	if len(distinct) > 1 {
		return errInvalidTarget(fmt.Sprintf("only one resource may be requested, and this request names %d: %s; this grant is for %s",
			len(distinct), quoteAll(distinct), granted))
	}
	if sameResource(distinct[0], granted) || s.opts.ResourceOK(distinct[0]) {
		return nil
	}
	return errInvalidTarget(fmt.Sprintf("resource %q differs from the one authorized (%s)", distinct[0], granted))
}

func sameResource(a, b string) bool { return strings.TrimSuffix(a, "/") == strings.TrimSuffix(b, "/") }
