package authserver

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/atomcp/atomcp/internal/atoms"
	"github.com/atomcp/atomcp/internal/authserver/connector"
	"github.com/atomcp/atomcp/internal/secretkey"
	"github.com/atomcp/atomcp/internal/store"
)

// Defaults of Options.
const (
	DefaultAccessTokenTTL  = time.Hour
	DefaultRefreshTokenTTL = 30 * 24 * time.Hour
	DefaultCodeTTL         = 60 * time.Second
	DefaultSessionTTL      = 12 * time.Hour
	// setupTTL is how long a first-account setup link is valid.
	setupTTL = 15 * time.Minute
	// leeway is the clock skew verifiers tolerate; retired keys stay
	// published this much longer than the tokens they signed live.
	leeway = time.Minute
)

// Options configure a Server.
type Options struct {
	// Issuer is the public base URL of atomcp, without a trailing slash:
	// the "iss" of every token and the prefix of every endpoint.
	Issuer string
	// Resource is the MCP endpoint's URL: the default audience of access
	// tokens, and the only resource (RFC 8707) that may be asked for.
	Resource string
	// ResourceOK, when set, decides whether a requested resource names
	// this server (with a default base URL, http://localhost:… and
	// http://127.0.0.1:… both do). Nil means a comparison with Resource
	// that tolerates one trailing slash.
	ResourceOK func(resource string) bool
	Store      store.Store
	// SecretKey seals the signing keys in the store, so that a copy of
	// the database alone cannot mint tokens. nil stores them in plaintext
	// (tests); atomcp serve always sets it.
	SecretKey *secretkey.Key
	Logger    *slog.Logger

	AccessTokenTTL  time.Duration // default DefaultAccessTokenTTL
	RefreshTokenTTL time.Duration // default DefaultRefreshTokenTTL
	CodeTTL         time.Duration // default DefaultCodeTTL
	SessionTTL      time.Duration // login session cookie; default DefaultSessionTTL

	// AllowPrivateCIMD lets client metadata documents be fetched from
	// private, loopback and link-local addresses (ATOMCP_CIMD_ALLOW_PRIVATE,
	// for tests); never in production, where it opens an SSRF hole.
	AllowPrivateCIMD bool
	// CIMDRootCAs replaces the system roots for metadata document fetches
	// (tests with httptest.NewTLSServer).
	CIMDRootCAs *x509.CertPool
	// CIMDTransport, when set, wraps the metadata document fetcher's
	// transport (for metrics and tracing); the address check stays below it.
	CIMDTransport func(http.RoundTripper) http.RoundTripper
	// Event, when set, is told of each Event* that happens (for metrics).
	Event func(event string)

	// DCRBurst and DCRInterval rate-limit registrations per source
	// address: DCRBurst per window of DCRBurst×DCRInterval, counted in the
	// database so that replicas share the budget. Defaults 20 and 6 s (20
	// per two minutes).
	DCRBurst    int
	DCRInterval time.Duration

	// SetupOutput receives the first-account setup link: a terminal, never
	// a log. Nil means the link is not printed (create the first account
	// with `atomcp users add`).
	SetupOutput io.Writer

	// Connectors are the upstream identity providers offered on the
	// sign-in page (internal/authserver/connector); each returns to
	// CallbackURL.
	Connectors []connector.Connector
	// NoPassword turns the local password form off
	// (ATOMCP_SIGNIN_PASSWORD=false).
	NoPassword bool
	// SigninRules decide who gets an account through a connector.
	SigninRules SigninRules

	// Atoms is the service the admin and invitation pages (/admin,
	// /invite) act through; nil turns those pages off.
	Atoms *atoms.Service

	// Now is the clock; nil means time.Now.
	Now func() time.Time

	// argon overrides the password hashing cost (tests).
	argon *argonParams
}

// Limits of the token endpoint and of sign-in attempts per source address
// and minute, shared by all replicas. Generous for people and clients,
// tight for guessing.
const (
	tokenRequestsPerMinute = 120
	loginAttemptsPerMinute = 30
)

// Server is the embedded authorization server. It is safe for concurrent
// use.
type Server struct {
	opts  Options
	st    store.Store
	log   *slog.Logger
	keys  *KeySet
	cimd  *cimdFetcher
	dcr   *sharedLimiter
	token *sharedLimiter
	login *sharedLimiter
	guard *loginGuard // wrong passwords per email and client address
	pages *pages
	argon argonParams
	mux   *http.ServeMux

	setupMu       sync.Mutex
	setupValidTil time.Time // expiry of the last printed setup link
}

// Events of the authorization server, as Options.Event hears them and the
// metrics count them (atomcp_authserver_events_total{event}).
const (
	EventClientRegistered = "client_registered"   // dynamic client registration
	EventSignInOK         = "sign_in_ok"          // a correct password
	EventSignInFailed     = "sign_in_failed"      // wrong password, locked or disabled account
	EventTokensIssued     = "tokens_issued"       // a code exchange or refresh that issued tokens
	EventRefreshReuse     = "refresh_token_reuse" // a rotated refresh token replayed: its family revoked
	EventCodeReuse        = "code_reuse"          // an authorization code replayed: its family revoked
)

// Events lists every Event* value, for the metrics' fixed label list.
func Events() []string {
	return []string{EventClientRegistered, EventSignInOK, EventSignInFailed, EventTokensIssued, EventRefreshReuse, EventCodeReuse}
}

// event tells Options.Event, if set.
func (s *Server) event(e string) {
	if s.opts.Event != nil {
		s.opts.Event(e)
	}
}

// New builds the server, loading (or generating) its signing keys.
func New(ctx context.Context, opts Options) (*Server, error) {
	if opts.Store == nil {
		return nil, errors.New("authserver: Options.Store is required")
	}
	iss, err := url.Parse(opts.Issuer)
	if err != nil || (iss.Scheme != "https" && iss.Scheme != "http") || iss.Host == "" || iss.RawQuery != "" || iss.Fragment != "" ||
		strings.HasSuffix(opts.Issuer, "/") {
		return nil, fmt.Errorf("authserver: issuer %q must be an http(s) URL without query, fragment or trailing slash", opts.Issuer)
	}
	if opts.Resource == "" {
		return nil, errors.New("authserver: Options.Resource (the MCP URL) is required")
	}
	if opts.NoPassword && len(opts.Connectors) == 0 {
		return nil, errors.New("authserver: with the password form off, at least one connector is needed, or nobody can sign in")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	opts.AccessTokenTTL = orDefault(opts.AccessTokenTTL, DefaultAccessTokenTTL)
	opts.RefreshTokenTTL = orDefault(opts.RefreshTokenTTL, DefaultRefreshTokenTTL)
	opts.CodeTTL = orDefault(opts.CodeTTL, DefaultCodeTTL)
	opts.SessionTTL = orDefault(opts.SessionTTL, DefaultSessionTTL)
	opts.DCRInterval = orDefault(opts.DCRInterval, 6*time.Second)
	if opts.DCRBurst <= 0 {
		opts.DCRBurst = 20
	}
	if opts.ResourceOK == nil {
		res := strings.TrimSuffix(opts.Resource, "/")
		opts.ResourceOK = func(r string) bool { return strings.TrimSuffix(r, "/") == res }
	}
	keys, err := NewKeySet(ctx, opts.Store, opts.SecretKey, KeyRetention(opts.AccessTokenTTL), opts.Now)
	if err != nil {
		return nil, err
	}
	s := &Server{
		opts: opts,
		st:   opts.Store,
		log:  opts.Logger,
		keys: keys,
		cimd: newCIMDFetcher(opts.AllowPrivateCIMD, opts.CIMDRootCAs, opts.Now, opts.CIMDTransport),
		// DCRBurst registrations per DCRBurst×DCRInterval window.
		dcr:   &sharedLimiter{st: opts.Store, name: "register", limit: opts.DCRBurst, window: time.Duration(opts.DCRBurst) * opts.DCRInterval, now: opts.Now},
		token: &sharedLimiter{st: opts.Store, name: "token", limit: tokenRequestsPerMinute, window: time.Minute, now: opts.Now},
		login: &sharedLimiter{st: opts.Store, name: "login", limit: loginAttemptsPerMinute, window: time.Minute, now: opts.Now},
		guard: newLoginGuard(),
		pages: newPages(),
		argon: defaultArgon,
	}
	if opts.argon != nil {
		s.argon = *opts.argon
	}
	s.mux = s.routes()
	for _, l := range []*sharedLimiter{s.dcr, s.token, s.login} {
		l.log = s.log
	}
	return s, nil
}

// KeyRetention is how long a retired signing key stays published: the
// longest an access token it signed can live, plus clock-skew leeway.
func KeyRetention(accessTTL time.Duration) time.Duration { return accessTTL + leeway }

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Issuer returns the issuer URL.
func (s *Server) Issuer() string { return s.opts.Issuer }

// Keys returns the signing keys, for the resource server's verifier.
func (s *Server) Keys() *KeySet { return s.keys }

func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+PathMetadata, s.serveMetadata)
	mux.HandleFunc("GET "+PathOpenIDMetadata, s.serveMetadata)
	if p := issuerPath(s.opts.Issuer); p != "" {
		// RFC 8414 §3.1: an issuer with a path has its metadata at the
		// well-known prefix followed by that path.
		mux.HandleFunc("GET "+PathMetadata+p, s.serveMetadata)
		mux.HandleFunc("GET "+PathOpenIDMetadata+p, s.serveMetadata)
	}
	mux.HandleFunc("GET "+PathJWKS, s.serveJWKS)
	mux.HandleFunc("POST "+PathRegister, s.handleRegister)
	mux.HandleFunc("GET "+PathAuthorize, s.handleAuthorize)
	mux.HandleFunc("POST "+PathLogin, s.handleLogin)
	mux.HandleFunc("POST "+PathConsent, s.handleConsent)
	mux.HandleFunc("GET "+PathSignin, s.handleSignin)
	mux.HandleFunc("GET "+PathCallback, s.handleCallback)
	mux.HandleFunc("GET "+PathSetup, s.handleSetupForm)
	mux.HandleFunc("POST "+PathSetup, s.handleSetup)
	mux.HandleFunc("POST "+PathToken, s.handleToken)
	mux.HandleFunc("POST "+PathRevoke, s.handleRevoke)
	// The signed-in pages and sign-out (pageguard.go, account.go,
	// logout.go); GET /oauth/login is their sign-in page.
	mux.HandleFunc("GET "+PathLogin, s.handleLoginPage)
	mux.HandleFunc("GET "+PathLogout, s.handleLogoutPage)
	mux.HandleFunc("POST "+PathLogout, s.handleLogout)
	mux.HandleFunc("GET "+PathAccount, s.handleAccount)
	mux.HandleFunc("POST "+PathAccountRevokeApp, s.handleRevokeApp)
	mux.HandleFunc("POST "+PathAccountSessions, s.handleRevokeSessions)
	mux.HandleFunc("POST "+PathAccountTokens, s.handleCreateToken)
	mux.HandleFunc("POST "+PathAccountRevokeToken, s.handleRevokeToken)
	mux.HandleFunc("POST "+PathAccountPassword, s.handleChangePassword)
	// The admin and invitation pages (admin.go, invite.go).
	mux.HandleFunc("GET "+PathAdmin, s.handleAdmin)
	mux.HandleFunc("POST "+PathAdmin+"/{action}", s.handleAdminPost)
	mux.HandleFunc("GET "+PathInvite, s.handleInvite)
	mux.HandleFunc("POST "+PathInviteAnswer, s.handleInviteAnswer)
	mux.HandleFunc("POST "+PathInviteAccount, s.handleInviteAccount)
	return mux
}

// ServeHTTP serves every endpoint of the authorization server.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Routes returns the ServeMux patterns to mount the server at (the
// Routes option of internal/httpserver).
func (s *Server) Routes() map[string]http.Handler {
	routes := map[string]http.Handler{
		"/oauth/":          s,
		PathMetadata:       s,
		PathOpenIDMetadata: s,
	}
	if p := issuerPath(s.opts.Issuer); p != "" {
		routes[PathMetadata+p] = s
		routes[PathOpenIDMetadata+p] = s
	}
	for _, p := range pagePaths {
		routes[p] = s
		routes[p+"/"] = s
	}
	return routes
}

// OwnsForm reports whether path receives one of the server's own HTML
// forms: sign-in, consent, first-account setup, sign-out and the
// signed-in pages (/account). Their POSTs are protected by a CSRF token
// checked against a SameSite=Strict cookie; the sign-in, consent and setup
// pages send Origin: null (their Referrer-Policy is no-referrer, and the
// Fetch standard then serialises a form POST's origin as null), and the
// signed-in pages are checked for the same origin here (acceptForm).
// internal/httpserver's origin guard therefore judges them by their own
// rule, not by the CORS origin list, and gives them no CORS headers: they
// are pages of this server, reached with its cookie, never resources for
// another origin.
func (s *Server) OwnsForm(path string) bool {
	switch path {
	case PathLogin, PathConsent, PathSetup, PathLogout:
		return true
	}
	return isPagePath(path)
}

// issuerPath is the path of the issuer URL ("" for none).
func issuerPath(issuer string) string {
	u, err := url.Parse(issuer)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(u.Path, "/")
}

func (s *Server) serveJWKS(w http.ResponseWriter, r *http.Request) {
	set, err := s.keys.JWKS(r.Context())
	if err != nil {
		s.log.Error("serve JWKS", "err", err)
		writeJSON(w, http.StatusInternalServerError, errServer())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	// Short: a rotated key must reach verifiers elsewhere soon.
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	writeBody(w, set)
}

func writeBody(w http.ResponseWriter, v any) {
	_ = json.NewEncoder(w).Encode(v)
}
