package authserver

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/atomcp/atomcp/internal/store"
)

// authzRequest is a validated authorization request.
type authzRequest struct {
	client        *client
	redirectURI   string
	state         string
	scope         string // normalised
	resource      string
	codeChallenge string
	raw           string // the original query, carried through the login and consent forms
}

// requestError is a failed authorization request. With redirect false the
// client or its redirect URI cannot be trusted, and the error is shown to
// the person on a page; otherwise it is sent to the client's redirect URI
// (RFC 6749 §4.1.2.1).
type requestError struct {
	redirect    bool
	code        string
	description string
	hint        string // for the page
}

// pkceChallenge is what an S256 challenge looks like: base64url of 32 bytes.
var pkceChallenge = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// parseAuthzRequest validates an authorization request. The checks that
// decide whether the redirect URI can be trusted come first; until they
// pass, nothing is sent to it.
func (s *Server) parseAuthzRequest(r *http.Request, rawQuery string) (*authzRequest, *requestError) {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, &requestError{description: "the authorization request's query string is malformed", hint: "Start signing in again from your application."}
	}
	for name, vals := range q {
		if len(vals) > 1 && name != "resource" {
			return nil, &requestError{description: fmt.Sprintf("the parameter %s appears more than once", name)}
		}
	}
	c, err := s.lookupClient(r.Context(), q.Get("client_id"))
	if err != nil {
		var uc *unknownClientError
		if errors.As(err, &uc) {
			return nil, &requestError{description: "The application is not known to this server: " + uc.Reason + ".",
				hint: "If you started this from an MCP client, remove and re-add the server in it so that it registers again."}
		}
		s.log.Error("look up client", "err", err)
		return nil, &requestError{description: "The server could not look the application up; try again."}
	}
	redirect := q.Get("redirect_uri")
	if redirect == "" {
		if len(c.RedirectURIs) != 1 {
			return nil, &requestError{description: "The request has no redirect_uri, and the application registered several, so it is not clear where to send you back."}
		}
		redirect = c.RedirectURIs[0]
	}
	if !c.redirectAllowed(redirect) {
		return nil, &requestError{
			description: fmt.Sprintf("The redirect URI %q is not registered for %s, so this server will not send you there.", redirect, c.Name),
			hint:        "Registered: " + strings.Join(c.RedirectURIs, ", ") + ". If the application changed its callback address, it must register again.",
		}
	}
	req := &authzRequest{client: c, redirectURI: redirect, state: q.Get("state"), raw: rawQuery}

	// From here the redirect URI is trusted; errors go back to the client.
	fail := func(code, format string, args ...any) (*authzRequest, *requestError) {
		return req, &requestError{redirect: true, code: code, description: fmt.Sprintf(format, args...)}
	}
	if rt := q.Get("response_type"); rt != "code" {
		return fail("unsupported_response_type", "response_type must be code (got %q)", rt)
	}
	if !c.allowsGrant("authorization_code") {
		return fail("unauthorized_client", "the client did not register the authorization_code grant")
	}
	challenge, method := q.Get("code_challenge"), q.Get("code_challenge_method")
	switch {
	case challenge == "":
		return fail("invalid_request", "PKCE is required: send code_challenge and code_challenge_method=S256 (RFC 7636)")
	case method != "S256":
		return fail("invalid_request", "code_challenge_method must be S256 (got %q); plain is not accepted", method)
	case !pkceChallenge.MatchString(challenge):
		return fail("invalid_request", "code_challenge must be the base64url SHA-256 of the code verifier: 43 characters")
	}
	req.codeChallenge = challenge
	// offline_access asks for a refresh token, not for a permission.
	atomsScope := withoutOfflineAccess(q.Get("scope"))
	scope, err := parseScope(atomsScope)
	if err != nil {
		return fail("invalid_scope", "%v", err)
	}
	if registered := withoutOfflineAccess(c.Scope); registered != "" {
		// The registered scope is a ceiling (RFC 7591 §2: the scopes the
		// client can use), and the default when none is asked for. More
		// than it is narrowed to it, as RFC 6749 §3.3 lets the server do
		// (the token response names the scope granted); nothing of it
		// at all is invalid_scope.
		if atomsScope == "" {
			scope = registered
		} else if scope = scopeIntersection(registered, scope); scope == "" {
			return fail("invalid_scope", "this client is registered for the scope %q only", registered)
		}
	}
	req.scope = scope
	res, oerr := s.requestedResource(q["resource"])
	if oerr != nil {
		return fail(oerr.Code, "%s", oerr.Description)
	}
	if res == "" {
		// No resource: the token is for the MCP endpoint, the only
		// resource here (RFC 8707 §2 lets the server pick a default).
		res = s.opts.Resource
	}
	req.resource = res
	return req, nil
}

// requestedResource reads the resource parameters of an authorization or
// token request (RFC 8707): none gives "", the same value repeated (Codex
// sends it twice) counts once, and so does a value repeated with and
// without a trailing slash. Different values, or one that is not this
// server's MCP endpoint, are invalid_target, named.
func (s *Server) requestedResource(values []string) (string, *oauthError) {
	if len(values) == 0 {
		return "", nil
	}
	distinct := distinctResources(values)
	if len(distinct) > 1 {
		return "", errInvalidTarget(fmt.Sprintf("only one resource may be requested, and this request names %d: %s; the MCP endpoint here is %s",
			len(distinct), quoteAll(distinct), s.opts.Resource))
	}
	if !s.opts.ResourceOK(distinct[0]) {
		return "", errInvalidTarget(fmt.Sprintf("resource %q is not this server; the MCP endpoint here is %s", distinct[0], s.opts.Resource))
	}
	return distinct[0], nil
}

// distinctResources drops repeated resource values, counting a trailing
// slash as no difference.
func distinctResources(values []string) []string {
	var distinct []string
	for _, v := range values {
		if !slices.ContainsFunc(distinct, func(d string) bool { return sameResource(d, v) }) {
			distinct = append(distinct, v)
		}
	}
	return distinct
}

// quoteAll quotes each string and joins them with commas.
func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}

// redirectError sends an error to the client's redirect URI.
func (s *Server) redirectError(w http.ResponseWriter, r *http.Request, req *authzRequest, code, desc string) {
	v := url.Values{"error": {code}, "error_description": {desc}}
	s.redirectToClient(w, r, req, v)
}

// redirectToClient sends the authorization response, with state and the
// issuer (RFC 9207) so that the client can tell which server answered.
func (s *Server) redirectToClient(w http.ResponseWriter, r *http.Request, req *authzRequest, v url.Values) {
	if req.state != "" {
		v.Set("state", req.state)
	}
	v.Set("iss", s.opts.Issuer)
	u, _ := url.Parse(req.redirectURI) // validated at registration
	q := u.Query()
	for k, vals := range v {
		q[k] = vals
	}
	u.RawQuery = q.Encode()
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	status := http.StatusFound
	if r.Method == http.MethodPost {
		status = http.StatusSeeOther // the browser must GET the redirect URI
	}
	http.Redirect(w, r, u.String(), status) // #nosec G710 -- u is a redirect URI registered for the client (parseAuthzRequest checks it before anything is sent to it)
}

// failRequest answers a failed request on a page or at the redirect URI.
func (s *Server) failRequest(w http.ResponseWriter, r *http.Request, req *authzRequest, e *requestError) {
	if !e.redirect {
		s.renderError(w, http.StatusBadRequest, e.description, e.hint)
		return
	}
	s.redirectError(w, r, req, e.code, e.description)
}

// handleAuthorize is the authorization endpoint.
func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	req, e := s.parseAuthzRequest(r, r.URL.RawQuery)
	if e != nil {
		s.failRequest(w, r, req, e)
		return
	}
	acct := s.sessionAccount(r)
	prompt := r.URL.Query().Get("prompt")
	if prompt == "none" && acct == nil {
		s.redirectError(w, r, req, "login_required", "no one is signed in, and prompt=none forbids showing the sign-in page")
		return
	}
	if acct == nil || prompt == "login" {
		s.showLogin(w, r, req, http.StatusOK, "", "")
		return
	}
	s.continueSignedIn(w, r, req, acct, prompt == "consent")
}

// continueSignedIn issues the code at once when the account already
// consented to these scopes for this client, and shows the consent page
// otherwise.
func (s *Server) continueSignedIn(w http.ResponseWriter, r *http.Request, req *authzRequest, acct *store.LocalAccount, forceConsent bool) {
	if !forceConsent {
		c, err := s.st.GetConsent(r.Context(), acct.ID, req.client.ID)
		if err == nil && scopeCovers(c.Scope, req.scope) {
			s.issueCode(w, r, req, acct)
			return
		}
	}
	if r.URL.Query().Get("prompt") == "none" {
		s.redirectError(w, r, req, "consent_required", "the client has not been allowed these scopes yet, and prompt=none forbids asking")
		return
	}
	s.showConsent(w, r, req, acct)
}

func (s *Server) showConsent(w http.ResponseWriter, r *http.Request, req *authzRequest, acct *store.LocalAccount) {
	var scopes []string
	for _, sc := range strings.Fields(req.scope) {
		scopes = append(scopes, scopeDescriptions[sc]+" ("+sc+")")
	}
	s.pages.render(w, http.StatusOK, "consent", &pageData{
		Title: "Allow access?", ClientName: req.client.Name, RedirectURI: req.redirectURI, ClientURI: req.client.ClientURI,
		Email: acct.Email, Scopes: scopes, Authz: req.raw, CSRF: s.newCSRF(w), ConsentAction: s.opts.Issuer + PathConsent,
	})
}

// redirectHost is what the login page says the client will be sent back
// to: the origin of an http(s) redirect, the scheme of a native app's.
func redirectHost(uri string) string {
	u, err := url.Parse(uri)
	if err != nil {
		return uri
	}
	if u.Scheme == "http" || u.Scheme == "https" {
		return u.Scheme + "://" + u.Host
	}
	return u.Scheme + ":"
}

// handleConsent receives the consent form.
func (s *Server) handleConsent(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	req, e := s.parseAuthzRequest(r, r.PostForm.Get("authz"))
	if e != nil {
		s.failRequest(w, r, req, e)
		return
	}
	if !checkCSRF(r) {
		s.renderError(w, http.StatusForbidden, "This form expired or was not sent by this server's page (its CSRF token is missing or wrong), so it was not accepted.",
			"Go back to your application and start signing in again.")
		return
	}
	acct := s.sessionAccount(r)
	if acct == nil {
		s.showLogin(w, r, req, http.StatusOK, "", "Your sign-in expired; sign in again.")
		return
	}
	if r.PostForm.Get("decision") != "allow" {
		s.log.Info("authorization denied by the user", "client_id", req.client.ID, "account", acct.ID)
		s.redirectError(w, r, req, "access_denied", "the user denied the request")
		return
	}
	now := s.opts.Now()
	scope := req.scope
	if prev, err := s.st.GetConsent(r.Context(), acct.ID, req.client.ID); err == nil {
		scope = scopeUnion(prev.Scope, scope)
	}
	if err := s.st.PutConsent(r.Context(), &store.Consent{AccountID: acct.ID, ClientID: req.client.ID, Scope: scope, CreatedAt: now, UpdatedAt: now}); err != nil {
		s.log.Error("store consent", "err", err)
		s.renderError(w, http.StatusInternalServerError, "The server could not record your consent; try again.", "")
		return
	}
	s.issueCode(w, r, req, acct)
}

// issueCode creates the authorization code, and the token family its
// tokens will belong to (created now, so that a replay of the code can
// always find and revoke it), and sends the code to the client.
func (s *Server) issueCode(w http.ResponseWriter, r *http.Request, req *authzRequest, acct *store.LocalAccount) {
	code := newSecret()
	now := s.opts.Now()
	familyID := uuid.NewString()
	err := s.st.InTx(r.Context(), func(tx store.Ops) error {
		if err := tx.CreateTokenFamily(r.Context(), &store.TokenFamily{ID: familyID, ClientID: req.client.ID, AccountID: acct.ID,
			Scope: req.scope, Resource: req.resource, CreatedAt: now}); err != nil {
			return err
		}
		return tx.CreateAuthCode(r.Context(), &store.AuthCode{
			Hash: hashSecret(code), ClientID: req.client.ID, AccountID: acct.ID, RedirectURI: req.redirectURI,
			Scope: req.scope, Resource: req.resource, CodeChallenge: req.codeChallenge, CodeChallengeMethod: "S256",
			FamilyID: familyID, CreatedAt: now, ExpiresAt: now.Add(s.opts.CodeTTL),
		})
	})
	if err != nil {
		s.log.Error("issue authorization code", "err", err)
		s.redirectError(w, r, req, "server_error", "the authorization server could not store the code; try again")
		return
	}
	s.log.Info("authorization code issued", "client_id", req.client.ID, "account", acct.ID, "scope", req.scope)
	s.redirectToClient(w, r, req, url.Values{"code": {code}})
}

// maxFormBytes bounds form bodies (login, consent, token, revoke).
const maxFormBytes = 64 << 10

// parseForm reads an urlencoded form body, answering 400 or 413 itself
// when it cannot.
func (s *Server) parseForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, r, &oauthError{http.StatusRequestEntityTooLarge, "invalid_request", fmt.Sprintf("the request body is larger than %d KiB", maxFormBytes>>10)})
			return false
		}
		writeError(w, r, errInvalidRequest("the request body is not a valid application/x-www-form-urlencoded form"))
		return false
	}
	return true
}
