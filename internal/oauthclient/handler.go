package oauthclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
	"golang.org/x/oauth2"
)

// Registration says how the client identifies itself to authorization
// servers. The MCP specification's order applies among the methods set:
// a pre-registered client, then a client ID metadata document (when the
// authorization server supports them), then dynamic registration. A
// command line sets exactly one, so that no method the user did not choose
// is tried.
type Registration struct {
	// ClientID (and ClientSecret for a confidential client) of a client
	// registered beforehand with the authorization server.
	ClientID     string
	ClientSecret string
	// MetadataURL is the HTTPS URL of a client ID metadata document
	// (the client_id itself, SEP-991).
	MetadataURL string
	// Dynamic allows dynamic client registration (RFC 7591), with
	// application_type native and token_endpoint_auth_method none; a client
	// registered before with the same issuer is reused.
	Dynamic bool
}

func (r Registration) validate() error {
	if r.ClientID == "" && r.MetadataURL == "" && !r.Dynamic {
		return &Error{Kind: KindNoRegistration, Msg: "no client registration method is configured (a client ID, a client metadata document URL, or dynamic registration)"}
	}
	if r.ClientSecret != "" && r.ClientID == "" {
		return &Error{Kind: KindNoRegistration, Msg: "a client secret was given without a client ID"}
	}
	if r.MetadataURL != "" {
		u, err := url.Parse(r.MetadataURL)
		if err != nil || u.Scheme != "https" || u.Host == "" || strings.Trim(u.Path, "/") == "" {
			return &Error{Kind: KindNoRegistration, Msg: fmt.Sprintf("the client metadata document URL %q must be an https:// URL with a path", r.MetadataURL)}
		}
	}
	return nil
}

// Config configures a [Handler].
type Config struct {
	// ServerURL is the MCP endpoint. Required.
	ServerURL string
	// Store keeps tokens and client registrations; nil keeps nothing.
	Store *Store
	// Registration is how to identify the client. Required.
	Registration Registration
	// Scopes, when set, are asked for instead of those the server names.
	Scopes []string
	// CallbackPort is the loopback redirect port; 0 reuses the port a
	// stored registration was made with, or picks a free one.
	CallbackPort int
	// Browser opens the authorization page (default [SystemBrowser]).
	Browser Browser
	// NoBrowser only prints the authorization URL.
	NoBrowser bool
	// Prompt receives the authorization URL and progress lines for the
	// user (default os.Stderr).
	Prompt io.Writer
	// LoginTimeout ends a login nobody completes (default 5 minutes).
	LoginTimeout time.Duration
	// HTTPClient makes the OAuth requests (default [NewHTTPClient] of
	// ServerURL).
	HTTPClient *http.Client
	// ClientName and SoftwareVersion go into dynamic registrations.
	ClientName      string
	SoftwareVersion string
	// ForceLogin ignores a stored token: the first request goes without one.
	ForceLogin bool
	// DPoP binds tokens to a key of this client (RFC 9449). Without it,
	// DPoP is still used when the server's challenge uses the DPoP scheme
	// or its metadata requires DPoP-bound tokens.
	DPoP bool
	// MaxStepUps bounds the logins for more scopes after 403
	// insufficient_scope answers (default 2).
	MaxStepUps int
	// Warn receives problems that do not stop the flow (a corrupt cache
	// file, a token that could not be saved). Default: printed to Prompt.
	Warn func(error)
	// Now is the clock (tests).
	Now func() time.Time
}

// Handler is an [auth.OAuthHandler] for go-sdk's Streamable HTTP client
// transport. On a 401, or a 403 insufficient_scope, it discovers the
// authorization server ([Discover]), picks the client registration, and
// runs go-sdk's authorization-code flow with the loopback callback; the
// token it gets is stored and refreshed. Create it with [New].
//
// After a login fails, the Handler answers every later Authorize with the
// same error instead of asking the user again (go-sdk's client retries a
// failed connection in another form).
type Handler struct {
	cfg    Config
	client *http.Client // memo → DPoP proofs → network; go-sdk's flow uses it
	raw    *http.Client // DPoP proofs → network; for refreshes
	memo   *memoTransport
	dpopT  *dpopTokenTransport
	dpop   *dpopKey // the DPoP key, once a login uses DPoP

	mu      sync.Mutex
	ts      *tokenSource // nil until there is a token
	sess    *session     // the go-sdk flow of the current issuer and client
	stepUps int
	logins  int
	last    *Discovery

	flowMu sync.Mutex // one Authorize at a time
	flow   *flowState // of the Authorize in progress
	failed error      // the failure of the last login, returned again
}

// session is go-sdk's handler for one issuer and client; it is kept
// between Authorize calls so that go-sdk's step-up union of granted scopes
// works.
type session struct {
	key         string
	issuer      string
	choice      clientChoice
	redirectURI string
	port        int
	h           *auth.AuthorizationCodeHandler
}

type flowState struct {
	d        *Discovery
	choice   clientChoice
	redirect string
	callback *Callback
	stepUp   bool
	granted  []string
}

var _ auth.OAuthHandler = (*Handler)(nil)

// New validates cfg and returns a Handler that starts with the stored token
// of cfg.ServerURL, if any.
func New(cfg Config) (*Handler, error) {
	if cfg.ServerURL == "" {
		return nil, &Error{Kind: KindOther, Msg: "no MCP server URL given"}
	}
	if err := cfg.Registration.validate(); err != nil {
		return nil, err
	}
	if cfg.Prompt == nil {
		cfg.Prompt = os.Stderr
	}
	if cfg.Browser == nil {
		cfg.Browser = SystemBrowser{}
	}
	if cfg.LoginTimeout <= 0 {
		cfg.LoginTimeout = 5 * time.Minute
	}
	if cfg.MaxStepUps <= 0 {
		cfg.MaxStepUps = 2
	}
	if cfg.ClientName == "" {
		cfg.ClientName = "atomcp"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Warn == nil {
		prompt := cfg.Prompt
		cfg.Warn = func(err error) { fmt.Fprintln(prompt, "atomcp: warning:", err) }
	}
	base := cfg.HTTPClient
	if base == nil {
		c, err := NewHTTPClient(cfg.ServerURL)
		if err != nil {
			return nil, err
		}
		base = c
	}
	rt := base.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	dpopT := &dpopTokenTransport{base: rt}
	raw := *base
	raw.Transport = dpopT
	memo := &memoTransport{base: dpopT}
	client := *base
	client.Transport = memo
	h := &Handler{cfg: cfg, client: &client, raw: &raw, memo: memo, dpopT: dpopT}
	if cfg.Store != nil && !cfg.ForceLogin {
		if rec := cfg.Store.Token(cfg.ServerURL); rec != nil {
			if rec.DPoPKey != "" {
				key, err := dpopFromPEM(rec.DPoPKey, cfg.Now)
				if err != nil {
					cfg.Warn(fmt.Errorf("ignoring the stored token of %s: its DPoP key is unreadable (%v)", cfg.ServerURL, err))
					rec = nil
				} else {
					h.dpop = key
					dpopT.set(key, rec.TokenEndpoint)
				}
			}
			if rec != nil {
				h.ts = newTokenSource(cfg.Store, cfg.Warn, cfg.Now, *rec, h.refreshConfig(rec), &raw)
			}
		}
	}
	return h, nil
}

// refreshConfig is the oauth2 configuration that refreshes rec, or nil
// when there is nothing to refresh with or its client is not known any
// more.
func (h *Handler) refreshConfig(rec *TokenRecord) *oauth2.Config {
	if rec.RefreshToken == "" || rec.TokenEndpoint == "" {
		return nil
	}
	conf := &oauth2.Config{ClientID: rec.ClientID, Endpoint: oauth2.Endpoint{TokenURL: rec.TokenEndpoint}}
	r := h.cfg.Registration
	known := r.ClientID == rec.ClientID || r.MetadataURL == rec.ClientID
	if r.ClientID == rec.ClientID {
		conf.ClientSecret = r.ClientSecret
	}
	if c := h.cfg.Store.Client(rec.Issuer); c != nil && c.ClientID == rec.ClientID {
		known = true
		if conf.ClientSecret == "" {
			conf.ClientSecret = c.ClientSecret
		}
		conf.Endpoint.AuthStyle = c.AuthStyle
	}
	if !known {
		return nil
	}
	return conf
}

// TokenSource implements [auth.OAuthHandler]: the current token, or nil
// before any.
func (h *Handler) TokenSource(context.Context) (oauth2.TokenSource, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ts == nil {
		return nil, nil
	}
	return h.ts, nil
}

// Token returns the current token record (nil before any): for showing
// who is logged in. It holds the access token; print it only when asked.
func (h *Handler) Token() *TokenRecord {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ts == nil {
		return nil
	}
	r := h.ts.record()
	return &r
}

// Logins is the number of completed logins (authorization-code flows) of
// this Handler.
func (h *Handler) Logins() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.logins
}

// LastDiscovery is the discovery of the latest Authorize, or nil.
func (h *Handler) LastDiscovery() *Discovery {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.last
}

// Authorize implements [auth.OAuthHandler]: it runs a login for the
// request that got resp (a 401, or a 403 insufficient_scope).
func (h *Handler) Authorize(ctx context.Context, req *http.Request, resp *http.Response) error {
	www := resp.Header.Values("WWW-Authenticate")
	status := resp.StatusCode
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()

	h.flowMu.Lock()
	defer h.flowMu.Unlock()
	if h.failed != nil {
		// go-sdk's client retries a failed request in another form (the
		// 2026-07-28 discovery, then initialize); the user is not asked
		// twice.
		return h.failed
	}
	serverURL := req.URL.String()
	stepUp := false
	if status == http.StatusForbidden {
		chs, _ := oauthex.ParseWWWAuthenticate(www)
		code, scopes := challengeErrorAndScopes(chs)
		if code != "insufficient_scope" {
			// Not ours to fix: the retried request gets the same 403.
			return nil
		}
		if err := h.checkStepUp(serverURL, scopes); err != nil {
			return err
		}
		stepUp = true
	}
	err := h.authorize(ctx, serverURL, status, www, stepUp, false)
	if err != nil {
		h.failed = err
	}
	if err == nil && stepUp {
		h.mu.Lock()
		h.stepUps++
		h.mu.Unlock()
	}
	return err
}

func challengeErrorAndScopes(chs []oauthex.Challenge) (string, []string) {
	var code string
	var scopes []string
	for _, c := range chs {
		if c.Scheme != "bearer" && c.Scheme != "dpop" {
			continue
		}
		if code == "" {
			code = c.Params["error"]
		}
		if scopes == nil && c.Params["scope"] != "" {
			scopes = strings.Fields(c.Params["scope"])
		}
	}
	return code, scopes
}

// checkStepUp refuses a step-up that cannot help: the server asks for
// scopes the token already has, or the limit is reached.
func (h *Handler) checkStepUp(serverURL string, challenged []string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ts != nil && len(challenged) > 0 {
		granted := h.ts.record().Scopes
		missing := false
		for _, s := range challenged {
			if !slices.Contains(granted, s) {
				missing = true
			}
		}
		if !missing && h.logins > 0 {
			return errorf(KindStepUpLimit, nil, "the server %s answers 403 insufficient_scope asking for %s, which the token already has; atomcp will not log in again", serverURL, strings.Join(challenged, " "))
		}
	}
	if h.stepUps >= h.cfg.MaxStepUps {
		return errorf(KindStepUpLimit, nil, "the server %s still answers 403 insufficient_scope (asking for %q) after %d logins for more scopes; atomcp stops here", serverURL, strings.Join(challenged, " "), h.stepUps)
	}
	return nil
}

// authorize is one login. retried is set on the second attempt after the
// stored client was rejected.
func (h *Handler) authorize(ctx context.Context, serverURL string, status int, www []string, stepUp, retried bool) error {
	h.memo.reset()
	d, err := Discover(ctx, h.client, serverURL, www)
	if err != nil {
		return err
	}
	h.mu.Lock()
	h.last = d
	h.mu.Unlock()

	if useDPoP(h.cfg.DPoP, d) {
		h.mu.Lock()
		if h.dpop == nil {
			key, err := newDPoPKey(h.cfg.Now)
			if err != nil {
				h.mu.Unlock()
				return dpopError(err)
			}
			h.dpop = key
		}
		h.dpopT.set(h.dpop, d.AuthServerMetadata.TokenEndpoint)
		h.mu.Unlock()
	} else {
		h.dpopT.set(nil, "")
	}

	choice, err := h.chooseClient(d)
	if err != nil {
		return err
	}
	sess, cb, err := h.session(d, choice)
	if err != nil {
		return err
	}
	defer cb.Close()

	fs := &flowState{d: d, choice: choice, redirect: sess.redirectURI, callback: cb, stepUp: stepUp}
	if stepUp {
		if t := h.Token(); t != nil && issuersEqual(t.Issuer, d.Issuer) {
			fs.granted = t.Scopes
		}
	}
	h.flow = fs
	defer func() { h.flow = nil }()

	// go-sdk reads only the headers of the response.
	resp := &http.Response{StatusCode: status, Header: http.Header{"Www-Authenticate": www}, Body: http.NoBody}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, serverURL, nil) // #nosec G704 -- a request value handed to go-sdk's Authorize for its URL; this line sends nothing
	err = sess.h.Authorize(ctx, req, resp)
	if err == nil {
		h.mu.Lock()
		h.logins++
		h.mu.Unlock()
		return nil
	}
	ferr := h.describeFlowError(d, choice, err)
	if ferr.Kind == KindClientRejected && choice.cached && !retried {
		// The stored registration is gone at the authorization server:
		// register again, once.
		fmt.Fprintf(h.cfg.Prompt, "The authorization server %s no longer accepts the stored client %s; registering again.\n", d.Issuer, choice.clientID)
		if h.cfg.Store != nil {
			if err := h.cfg.Store.DeleteClient(d.Issuer); err != nil {
				h.cfg.Warn(err)
			}
		}
		h.mu.Lock()
		h.sess = nil
		h.mu.Unlock()
		return h.authorize(ctx, serverURL, status, www, stepUp, true)
	}
	return ferr
}

// clientChoice is the registration used with one authorization server.
type clientChoice struct {
	method   string // "preregistered", "metadata-document" or "dynamic"
	clientID string // empty before a dynamic registration
	secret   string
	cached   bool // a dynamic registration from the store
	port     int  // the port of the stored registration's redirect URI
}

// chooseClient applies the specification's order to the configured
// methods.
func (h *Handler) chooseClient(d *Discovery) (clientChoice, error) {
	r := h.cfg.Registration
	asm := d.AuthServerMetadata
	where := d.AuthServerMetadataURL
	if where == "" {
		where = "its (absent) metadata"
	}
	if r.ClientID != "" {
		return clientChoice{method: "preregistered", clientID: r.ClientID, secret: r.ClientSecret}, nil
	}
	if r.MetadataURL != "" && asm.ClientIDMetadataDocumentSupported {
		return clientChoice{method: "metadata-document", clientID: r.MetadataURL}, nil
	}
	if r.Dynamic {
		if h.cfg.Store != nil {
			if rec := h.cfg.Store.Client(d.Issuer); rec != nil && rec.Method == "dynamic" {
				port := 0
				if u, err := url.Parse(rec.RedirectURI); err == nil {
					port, _ = strconv.Atoi(u.Port())
				}
				return clientChoice{method: "dynamic", clientID: rec.ClientID, secret: rec.ClientSecret, cached: true, port: port}, nil
			}
		}
		if asm.RegistrationEndpoint != "" {
			return clientChoice{method: "dynamic"}, nil
		}
		if r.MetadataURL != "" {
			return clientChoice{}, errorf(KindNoRegistration, nil, "the authorization server %s supports neither client ID metadata documents nor dynamic client registration (see %s); register atomcp there and log in with --client-id", d.Issuer, where)
		}
		return clientChoice{}, errorf(KindNoRegistration, nil, "the authorization server %s offers no dynamic client registration (no registration_endpoint in %s); register atomcp there and log in with --client-id (and --client-secret)", d.Issuer, where)
	}
	return clientChoice{}, errorf(KindNoRegistration, nil, "the authorization server %s does not accept client ID metadata documents (client_id_metadata_document_supported is not true in %s); log in with --client-id, or without --client-metadata-url to register dynamically", d.Issuer, where)
}

// session returns go-sdk's handler for d's issuer and the chosen client,
// and the open loopback listener whose URL is its redirect URI.
func (h *Handler) session(d *Discovery, choice clientChoice) (*session, *Callback, error) {
	key := d.Issuer + "\x00" + choice.method + "\x00" + choice.clientID
	h.mu.Lock()
	cur := h.sess
	h.mu.Unlock()
	if cur != nil && cur.key == key {
		cb, err := ListenCallback(cur.port)
		if err != nil {
			return nil, nil, err
		}
		return cur, cb, nil
	}

	port := h.cfg.CallbackPort
	fromStore := false
	if port == 0 && choice.port != 0 {
		port, fromStore = choice.port, true
	}
	cb, err := ListenCallback(port)
	if err != nil && fromStore {
		// Loopback redirect URIs match on any port (RFC 8252 §7.3).
		cb, err = ListenCallback(0)
	}
	if err != nil {
		return nil, nil, err
	}
	redirect := cb.RedirectURI()
	conf := &auth.AuthorizationCodeHandlerConfig{
		RedirectURL:              redirect,
		AuthorizationCodeFetcher: h.fetch,
		ScopeFilter:              h.scopeFilter,
		RequestRefreshToken:      true,
		AcceptUnadvertisedIss:    true,
		Client:                   h.client,
		NewTokenSource:           h.adopt,
	}
	h.mu.Lock()
	if h.ts != nil {
		conf.InitialTokenSource = h.ts
	}
	h.mu.Unlock()
	switch {
	case choice.method == "metadata-document":
		conf.ClientIDMetadataDocumentConfig = &auth.ClientIDMetadataDocumentConfig{URL: choice.clientID}
	case choice.clientID != "":
		creds := &oauthex.ClientCredentials{ClientID: choice.clientID}
		if choice.secret != "" {
			creds.ClientSecretAuth = &oauthex.ClientSecretAuth{ClientSecret: choice.secret}
		}
		if choice.cached {
			// A stored registration belongs to the issuer it was made with.
			creds.Issuer = d.Issuer
		}
		conf.PreregisteredClient = creds
	default:
		conf.DynamicClientRegistrationConfig = &auth.DynamicClientRegistrationConfig{
			Metadata: &oauthex.ClientRegistrationMetadata{
				RedirectURIs:            []string{redirect},
				TokenEndpointAuthMethod: "none",
				GrantTypes:              []string{"authorization_code", "refresh_token"},
				ResponseTypes:           []string{"code"},
				ClientName:              h.cfg.ClientName,
				SoftwareID:              "atomcp",
				SoftwareVersion:         h.cfg.SoftwareVersion,
				ApplicationType:         "native",
			},
		}
	}
	gh, err := auth.NewAuthorizationCodeHandler(conf)
	if err != nil {
		cb.Close()
		return nil, nil, errorf(KindOther, err, "cannot set up the login: %v", err)
	}
	s := &session{key: key, issuer: d.Issuer, choice: choice, redirectURI: redirect, port: cb.Port(), h: gh}
	h.mu.Lock()
	h.sess = s
	h.mu.Unlock()
	return s, cb, nil
}

// scopeFilter is go-sdk's ScopeFilter: the configured scopes replace the
// discovered ones; on a step-up, the scopes of the stored token are kept
// (go-sdk itself unions only what it granted in this process).
func (h *Handler) scopeFilter(discovered []string) []string {
	if len(h.cfg.Scopes) > 0 {
		return slices.Clone(h.cfg.Scopes)
	}
	out := slices.Clone(discovered)
	if h.flow != nil {
		for _, s := range h.flow.granted {
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}

// fetch is go-sdk's AuthorizationCodeFetcher: it shows the authorization
// URL (in the browser, or printed) and waits for the loopback callback.
func (h *Handler) fetch(ctx context.Context, args *auth.AuthorizationArgs) (*auth.AuthorizationResult, error) {
	fs := h.flow
	if fs == nil || fs.callback == nil {
		return nil, &Error{Kind: KindCallback, Msg: "internal error: no login callback is listening"}
	}
	u, err := url.Parse(args.URL)
	if err != nil {
		return nil, errorf(KindOther, err, "go-sdk built an invalid authorization URL")
	}
	state := u.Query().Get("state")
	if h.cfg.NoBrowser {
		fmt.Fprintf(h.cfg.Prompt, "To log in to %s, open this URL in a browser:\n\n  %s\n\nWaiting for the login to finish (up to %s)…\n", fs.d.ServerURL, args.URL, h.cfg.LoginTimeout)
	} else {
		fmt.Fprintf(h.cfg.Prompt, "Opening the login page of %s in your browser. If it does not open, visit:\n\n  %s\n\nWaiting for the login to finish (up to %s)…\n", fs.d.Issuer, args.URL, h.cfg.LoginTimeout)
		if err := h.cfg.Browser.Open(ctx, args.URL); err != nil {
			fmt.Fprintf(h.cfg.Prompt, "(Could not open a browser: %v. Open the URL above by hand.)\n", err)
		}
	}
	wctx, cancel := context.WithTimeout(ctx, h.cfg.LoginTimeout)
	defer cancel()
	res, err := fs.callback.Wait(wctx, state)
	if err != nil {
		if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			return nil, errorf(KindCallback, err, "nobody completed the login at %s within %s", fs.d.Issuer, h.cfg.LoginTimeout)
		}
		if ctx.Err() != nil {
			return nil, errorf(KindCallback, err, "the login was cancelled before it finished")
		}
		return nil, err
	}
	return res, nil
}

// adopt is go-sdk's NewTokenSource: it stores the new token (and the
// client it was issued to) and makes it the current token.
func (h *Handler) adopt(_ context.Context, oc *oauth2.Config, tok *oauth2.Token) (oauth2.TokenSource, error) {
	fs := h.flow
	if fs == nil {
		return nil, errors.New("internal error: token without a login in progress")
	}
	d := fs.d
	now := h.cfg.Now()
	scopes := oc.Scopes
	if sc, ok := tok.Extra("scope").(string); ok && sc != "" {
		scopes = strings.Fields(sc)
	}
	var dpopPEM string
	if strings.EqualFold(tok.TokenType, "DPoP") {
		h.mu.Lock()
		if h.dpop != nil {
			dpopPEM = h.dpop.pem()
		}
		h.mu.Unlock()
	}
	rec := TokenRecord{
		DPoPKey:       dpopPEM,
		ServerURL:     h.cfg.ServerURL,
		Resource:      d.Resource,
		Issuer:        d.Issuer,
		TokenEndpoint: oc.Endpoint.TokenURL,
		ClientID:      oc.ClientID,
		Scopes:        slices.Clone(scopes),
		AccessToken:   tok.AccessToken,
		TokenType:     tok.TokenType,
		RefreshToken:  tok.RefreshToken,
		Expiry:        tok.Expiry,
		SavedAt:       now,
	}
	client := &ClientRecord{
		Issuer:       d.Issuer,
		ClientID:     oc.ClientID,
		ClientSecret: oc.ClientSecret,
		Method:       fs.choice.method,
		RedirectURI:  fs.redirect,
		AuthStyle:    oc.Endpoint.AuthStyle,
		RegisteredAt: now,
	}
	if h.cfg.Store != nil {
		if prev := h.cfg.Store.Client(d.Issuer); prev != nil && prev.ClientID == client.ClientID && !prev.RegisteredAt.IsZero() {
			client.RegisteredAt = prev.RegisteredAt
			if fs.choice.cached && prev.RedirectURI != "" {
				client.RedirectURI = prev.RedirectURI
			}
		}
		if err := h.cfg.Store.SaveClient(client); err != nil {
			h.cfg.Warn(fmt.Errorf("the login worked but the client registration could not be saved: %w", err))
		}
		if err := h.cfg.Store.SaveToken(&rec); err != nil {
			h.cfg.Warn(fmt.Errorf("the login worked but the token could not be saved: %w", err))
		}
	}
	refresh := &oauth2.Config{ClientID: oc.ClientID, ClientSecret: oc.ClientSecret, Endpoint: oc.Endpoint}
	ts := newTokenSource(h.cfg.Store, h.cfg.Warn, h.cfg.Now, rec, refresh, h.raw)
	h.mu.Lock()
	h.ts = ts
	h.mu.Unlock()
	return ts, nil
}

// describeFlowError turns an error of go-sdk's flow into an *Error.
func (h *Handler) describeFlowError(d *Discovery, choice clientChoice, err error) *Error {
	if e, ok := errors.AsType[*Error](err); ok {
		return e
	}
	asm := d.AuthServerMetadata
	msg := err.Error()
	switch {
	case strings.HasPrefix(msg, "token exchange failed"):
		return describeTokenError(asm.TokenEndpoint, err)
	case strings.HasPrefix(msg, "failed to register client"):
		if re, ok := errors.AsType[*oauthex.ClientRegistrationError](err); ok {
			return errorf(KindNoRegistration, err, "the authorization server %s refused to register atomcp at %s: %s%s", d.Issuer, asm.RegistrationEndpoint, re.ErrorCode, describeSuffix(re.ErrorDescription))
		}
		if strings.Contains(msg, "registration failed with status") {
			status := strings.TrimSpace(strings.SplitN(strings.TrimPrefix(msg[strings.Index(msg, "registration failed with status")+len("registration failed with status"):], " "), ":", 2)[0])
			return errorf(KindNoRegistration, err, "the registration endpoint %s answered HTTP %s", asm.RegistrationEndpoint, status)
		}
		if strings.Contains(msg, "failed to decode") {
			return errorf(KindNoRegistration, err, "the registration endpoint %s answered with invalid JSON", asm.RegistrationEndpoint)
		}
		return describeRequestError("the client registration", asm.RegistrationEndpoint, errors.Unwrap(err))
	case strings.Contains(msg, "iss parameter support but none was received"):
		return errorf(KindIssuerResponse, err, "the authorization response carried no iss although %s announces it (RFC 9207); the login was stopped as a possible mix-up attack", d.Issuer)
	case strings.Contains(msg, "authorization response issuer"):
		return errorf(KindIssuerResponse, err, "the authorization response came from a different issuer than %s (RFC 9207 iss mismatch); the login was stopped as a possible mix-up attack", d.Issuer)
	case strings.Contains(msg, "does not advertise RFC 9207"):
		return errorf(KindIssuerResponse, err, "the authorization response carried an iss that %s does not announce (RFC 9207); the login was stopped", d.Issuer)
	case strings.Contains(msg, "does not match pre-registered credentials issuer"):
		return errorf(KindClientRejected, err, "the stored client belongs to another authorization server than %s", d.Issuer)
	case strings.Contains(msg, "state mismatch"):
		return errorf(KindState, err, "the login callback's state does not match the login atomcp started; log in again")
	}
	return errorf(KindOther, err, "logging in to %s at %s failed: %v", d.ServerURL, d.Issuer, err)
}
