package authserver

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/atomcp/atomcp/internal/authserver/connector"
	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

// Sign-in through an upstream identity provider: a step of the
// authorization request, between the sign-in page and consent. atomcp
// stays the authorization server towards the MCP client; the provider
// only says who the person is (DESIGN.md, decisions of the second round).
//
//	/oauth/authorize → sign-in page → /oauth/signin?connector=…
//	  → provider (atomcp's state, PKCE S256, nonce)
//	  → /oauth/callback → account → consent → the client's redirect URI

// Paths of upstream sign-in.
const (
	PathSignin   = "/oauth/signin"
	PathCallback = connector.CallbackPath
)

// signinTTL is how long a sign-in at a provider may take.
const signinTTL = 10 * time.Minute

// signinCookiePrefix names the cookie that binds a sign-in to the browser
// that started it, so that a callback URL sent to someone else (login
// CSRF) is refused. One cookie per sign-in, named after its state, so that
// two sign-ins in one browser (two MCP clients) do not disturb each other.
const signinCookiePrefix = "atomcp_signin_"

func signinCookieName(state string) string { return signinCookiePrefix + hashSecret(state)[:12] }

// CallbackURL is the URL every provider must return to: register it with
// each provider.
func (s *Server) CallbackURL() string { return s.opts.Issuer + PathCallback }

// Connectors returns the configured upstream providers.
func (s *Server) Connectors() []connector.Connector { return s.opts.Connectors }

// PasswordSignin reports whether the local password form is offered.
func (s *Server) PasswordSignin() bool { return !s.opts.NoPassword }

func (s *Server) connector(id string) connector.Connector {
	for _, c := range s.opts.Connectors {
		if c.ID() == id {
			return c
		}
	}
	return nil
}

// signinURL is the link of a connector's button.
func (s *Server) signinURL(c connector.Connector, req *authzRequest) string {
	return s.opts.Issuer + PathSignin + "?" + url.Values{"connector": {c.ID()}, "authz": {req.raw}}.Encode()
}

// handleSignin starts a sign-in at a provider.
func (s *Server) handleSignin(w http.ResponseWriter, r *http.Request) {
	if ok, wait := s.login.allow(r); !ok {
		s.renderError(w, http.StatusTooManyRequests, fmt.Sprintf("Too many sign-in attempts from your address; try again in %d seconds.", int(wait.Seconds())+1), "")
		return
	}
	q := r.URL.Query()
	var req *authzRequest
	ret := ""
	if q.Get("authz") == "" && q.Has("return") {
		// A sign-in to this server's own pages, not for an MCP client.
		if ret = safeReturn(q.Get("return")); ret == "" {
			ret = PathAccount
		}
	} else {
		var e *requestError
		if req, e = s.parseAuthzRequest(r, q.Get("authz")); e != nil {
			s.failRequest(w, r, req, e)
			return
		}
	}
	c := s.connector(q.Get("connector"))
	if c == nil {
		s.renderError(w, http.StatusBadRequest, fmt.Sprintf("This server does not offer sign-in with %q.", q.Get("connector")),
			"Go back to the sign-in page and choose one of the buttons there.")
		return
	}
	s.startSignin(w, r, req, ret, c)
}

// startSignin records the sign-in and sends the browser to the provider.
// It continues the authorization request req, or, with req nil, returns
// to the local path ret.
func (s *Server) startSignin(w http.ResponseWriter, r *http.Request, req *authzRequest, ret string, c connector.Connector) {
	a := connector.Attempt{State: newSecret(), Nonce: newSecret(), Verifier: newSecret()}
	authzRaw, clientID := "", ""
	if req != nil {
		authzRaw, clientID = req.raw, req.client.ID
	}
	now := s.opts.Now()
	to, err := c.AuthURL(r.Context(), a)
	if err != nil {
		s.signinFailed(w, c.Name(), err)
		return
	}
	stateHash := hashSecret(a.State)
	if err := s.st.CreateSigninRequest(r.Context(), &store.SigninRequest{StateHash: stateHash, Connector: c.ID(),
		Nonce: s.sealText(a.Nonce, stateHash), Verifier: s.sealText(a.Verifier, stateHash),
		Authz: authzRaw, ReturnPath: ret, CreatedAt: now, ExpiresAt: now.Add(signinTTL)}); err != nil {
		s.log.Error("store sign-in request", "err", err)
		s.renderError(w, http.StatusInternalServerError, "The server could not start the sign-in; try again.", "")
		return
	}
	http.SetCookie(w, &http.Cookie{ // #nosec G124 -- HttpOnly, SameSite=Lax (set below); Secure whenever the issuer is https (on http://127.0.0.1 a Secure cookie would never come back)
		Name: signinCookieName(a.State), Value: a.State, Path: s.cookiePath(), HttpOnly: true,
		// Lax: the provider's redirect back is a top-level navigation
		// from another site, which must carry it.
		Secure: s.secureCookies(), SameSite: http.SameSiteLaxMode, MaxAge: int(signinTTL.Seconds()),
	})
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	s.log.Info("sign-in started", "connector", c.ID(), "client_id", clientID)
	http.Redirect(w, r, to, http.StatusFound)
}

// startAgain is the hint of every page about a sign-in that cannot go on.
const startAgain = "Start again from your MCP client (reconnect or sign in again there): this server cannot send you back to it from here."

// handleCallback receives the provider's answer.
func (s *Server) handleCallback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	state := q.Get("state")
	if state == "" {
		s.renderError(w, http.StatusBadRequest, "This sign-in answer has no state, so this server cannot tell which sign-in it belongs to.", startAgain)
		return
	}
	ck, err := r.Cookie(signinCookieName(state))
	if err != nil || !equalSecret(ck.Value, state) {
		s.renderError(w, http.StatusBadRequest, "This sign-in is unknown or expired in this browser: it was not started here, took longer than 10 minutes, or its link was changed.", startAgain)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: ck.Name, Value: "", Path: s.cookiePath(), HttpOnly: true, Secure: s.secureCookies(), SameSite: http.SameSiteLaxMode, MaxAge: -1}) // #nosec G124 -- deletes the cookie; Secure whenever the issuer is https
	now := s.opts.Now()
	sr, err := s.st.ConsumeSigninRequest(r.Context(), hashSecret(state), now)
	switch {
	case errors.Is(err, domain.ErrNotFound):
		s.renderError(w, http.StatusBadRequest, "This sign-in is unknown or expired: this server has no record of it.", startAgain)
		return
	case errors.Is(err, store.ErrAlreadyUsed):
		s.log.Warn("sign-in callback replayed", "connector", sr.Connector)
		s.renderError(w, http.StatusBadRequest, "This sign-in was completed already; its answer cannot be used twice.", startAgain)
		return
	case err != nil:
		s.log.Error("read sign-in request", "err", err)
		s.renderError(w, http.StatusInternalServerError, "The server could not read the sign-in; try again.", "")
		return
	case now.After(sr.ExpiresAt):
		s.renderError(w, http.StatusBadRequest, "This sign-in expired: it took longer than 10 minutes.", startAgain)
		return
	}
	var req *authzRequest // nil: a sign-in to this server's own pages
	if sr.Authz != "" || sr.ReturnPath == "" {
		var e *requestError
		if req, e = s.parseAuthzRequest(r, sr.Authz); e != nil {
			s.failRequest(w, r, req, e)
			return
		}
	}
	c := s.connector(sr.Connector)
	if c == nil {
		s.renderError(w, http.StatusBadRequest, fmt.Sprintf("Sign-in with %q is no longer offered by this server.", sr.Connector), startAgain)
		return
	}
	if code := q.Get("error"); code != "" {
		s.log.Info("provider refused the sign-in", "connector", c.ID(), "error", code)
		if code == "access_denied" {
			s.renderError(w, http.StatusForbidden, fmt.Sprintf("%s said access_denied: the sign-in was declined there, so you are not signed in.", c.Name()),
				"If that was a mistake, start again from your MCP client and allow access at "+c.Name()+".")
			return
		}
		msg := fmt.Sprintf("%s refused the sign-in with the error %q.", c.Name(), code)
		if d := q.Get("error_description"); d != "" {
			msg += " It said: " + d
		}
		s.renderError(w, http.StatusBadGateway, msg, "If this persists, the server's operator must check atomcp's application at "+c.Name()+" (its client id, secret and callback URL "+s.CallbackURL()+").")
		return
	}
	code := q.Get("code")
	if code == "" {
		s.renderError(w, http.StatusBadRequest, fmt.Sprintf("%s sent no authorization code.", c.Name()), startAgain)
		return
	}
	nonce, err1 := s.openText(sr.Nonce, sr.StateHash)
	verifier, err2 := s.openText(sr.Verifier, sr.StateHash)
	if err := errors.Join(err1, err2); err != nil {
		// Sealed under a secret key this server no longer has (rotated
		// with `atomcp keys rotate --kek` during the sign-in).
		s.log.Warn("sign-in request does not open", "connector", c.ID(), "err", err)
		s.renderError(w, http.StatusBadRequest, "This sign-in was started before the server's secret key changed, so it cannot be finished.", startAgain)
		return
	}
	ident, err := c.Identity(r.Context(), code, connector.Attempt{State: state, Nonce: nonce, Verifier: verifier})
	if err != nil {
		s.signinFailed(w, c.Name(), err)
		return
	}
	acct, ref, err := s.resolveAccount(r.Context(), c, ident)
	if err != nil {
		s.log.Error("sign-in account", "connector", c.ID(), "err", err)
		s.renderError(w, http.StatusInternalServerError, "The server could not find or create your account; try again.", "")
		return
	}
	if ref != nil {
		s.log.Info("sign-in refused", "connector", c.ID(), "reason", ref.reason)
		s.renderError(w, ref.status, ref.message, ref.hint)
		return
	}
	if err := s.setSession(w, r, acct); err != nil {
		s.log.Error("start session", "err", err)
		s.renderError(w, http.StatusInternalServerError, "The server could not sign you in; try again.", "")
		return
	}
	s.log.Info("signed in", "account", acct.ID, "connector", c.ID())
	if req == nil {
		ret := safeReturn(sr.ReturnPath)
		if ret == "" {
			ret = PathAccount
		}
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, s.opts.Issuer+ret, http.StatusFound) // #nosec G710 -- ret was checked by safeReturn to be a local path (else PathAccount), behind this server's issuer
		return
	}
	prompt := ""
	if v, err := url.ParseQuery(sr.Authz); err == nil {
		prompt = v.Get("prompt")
	}
	s.continueSignedIn(w, r, req, acct, prompt == "consent")
}

// signinFailed shows what went wrong at a provider.
func (s *Server) signinFailed(w http.ResponseWriter, provider string, err error) {
	s.log.Warn("sign-in at provider failed", "provider", provider, "err", err)
	var ce *connector.Error
	if !errors.As(err, &ce) {
		s.renderError(w, http.StatusBadGateway, fmt.Sprintf("Signing in with %s failed.", provider), "Try again; the server's log has the details.")
		return
	}
	switch ce.Kind {
	case connector.InvalidToken:
		s.renderError(w, http.StatusBadGateway,
			fmt.Sprintf("The ID token that %s sent failed the %s check, so this server did not accept it and you are not signed in.", provider, ce.Check),
			fmt.Sprintf("%s The server's operator can compare atomcp's settings for %s with the provider: %v.", startAgain, provider, ce.Err))
	case connector.Rejected:
		s.renderError(w, http.StatusBadGateway, fmt.Sprintf("%s refused to complete the sign-in (the code exchange failed).", provider),
			startAgain+" If it fails again, the server's operator must check atomcp's client id and secret for "+provider+".")
	default:
		s.renderError(w, http.StatusBadGateway, fmt.Sprintf("%s could not be reached, so you cannot sign in with it right now.", provider),
			"Try again in a moment. If it persists, the server's operator can run atomcp doctor --config.")
	}
}

// sealedTextPrefix marks a text column sealed with the key-encryption key
// (base64 of secretkey's sealed bytes follows).
const sealedTextPrefix = "sealed:"

// sealText seals a secret kept in a text column, bound to its row by aad,
// so that a copy of the database alone does not hold it. Without a
// key-encryption key (tests) it is kept as it is.
func (s *Server) sealText(v, aad string) string {
	if s.keys.kek == nil {
		return v
	}
	return sealedTextPrefix + base64.RawStdEncoding.EncodeToString(s.keys.kek.Seal([]byte(v), []byte(aad)))
}

// openText reverses sealText; a value stored unsealed (by an older atomcp,
// or without a key-encryption key) is returned as it is.
func (s *Server) openText(v, aad string) (string, error) {
	rest, sealed := strings.CutPrefix(v, sealedTextPrefix)
	if !sealed {
		return v, nil
	}
	if s.keys.kek == nil {
		return "", errors.New("the value is sealed and no secret key is configured (ATOMCP_SECRET_KEY / ATOMCP_SECRET_KEY_FILE)")
	}
	b, err := base64.RawStdEncoding.DecodeString(rest)
	if err != nil {
		return "", fmt.Errorf("sealed value is not base64: %w", err)
	}
	plain, err := s.keys.kek.Open(b, []byte(aad))
	return string(plain), err
}
