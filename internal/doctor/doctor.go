// Package doctor runs the OAuth and CORS troubleshooting guide of remote
// MCP servers as one command: it talks to an MCP endpoint and to the
// authorization servers it advertises the way a client (and a browser)
// would, and turns every observation into a Finding that says what was
// seen and, when something is wrong, the exact fix.
//
// Each check is one small function that returns one Finding; Run calls
// them in the order a client meets the problems (reachability, the 401
// challenge, protected-resource metadata, authorization-server discovery,
// client registration, CORS, JWKS, the token) and skips the checks whose
// input an earlier failure took away. Every request has a timeout, the
// whole run is bounded, response bodies are size-limited and redirects are
// followed by hand, so a hanging, huge or looping server is a finding and
// never a hang.
//
// doctor works against any MCP server, not only atomcp; fixes that are
// specific to atomcp or to an identity provider (WorkOS AuthKit) say so.
package doctor

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/atomcp/atomcp/internal/config"
	"github.com/atomcp/atomcp/internal/oauthclient"
)

// Status is the outcome of one check.
type Status string

// Statuses, from good to bad; skip means the check could not or need not
// run (its reason is the finding's title).
const (
	Pass Status = "pass"
	Warn Status = "warn"
	Fail Status = "fail"
	Skip Status = "skip"
)

// Area groups findings in the output, in this order.
type Area string

// Areas.
const (
	AreaReach    Area = "reachability"
	AreaAuth     Area = "challenge"
	AreaPRM      Area = "resource-metadata"
	AreaAS       Area = "authorization-server"
	AreaRegister Area = "registration"
	AreaCORS     Area = "cors"
	AreaJWKS     Area = "jwks"
	AreaToken    Area = "token"
	AreaLogin    Area = "login"
	AreaConfig   Area = "config"
	// AreaClient holds the steps of a client's replay (--client).
	AreaClient Area = "client"
)

// Areas lists every area in output order.
var Areas = []Area{AreaReach, AreaAuth, AreaPRM, AreaAS, AreaRegister, AreaCORS, AreaJWKS, AreaToken, AreaLogin, AreaConfig}

// Title is the heading of an area in the text output.
func (a Area) Title() string {
	switch a {
	case AreaReach:
		return "Reachability"
	case AreaAuth:
		return "401 challenge"
	case AreaPRM:
		return "Protected-resource metadata"
	case AreaAS:
		return "Authorization server"
	case AreaRegister:
		return "Client registration"
	case AreaCORS:
		return "CORS (browser clients)"
	case AreaJWKS:
		return "Signing keys (JWKS)"
	case AreaToken:
		return "Access token"
	case AreaLogin:
		return "Login"
	case AreaConfig:
		return "Local configuration"
	case AreaClient:
		return "Client replay"
	}
	return string(a)
}

// Finding is the result of one check.
type Finding struct {
	// ID names the check (see docs/troubleshooting.md); the same check
	// run against several URLs gives several findings with the same ID.
	ID     string `json:"id"`
	Area   Area   `json:"area"`
	Status Status `json:"status"`
	// Title is one line saying what was found.
	Title string `json:"title"`
	// Observed is what the title is based on; nil when nothing was sent.
	Observed *Observed `json:"observed,omitempty"`
	// Fix says what to change; set for warn and fail.
	Fix string `json:"fix,omitempty"`
	// Client names the client whose replay (--client) found this; "" for
	// the checks every client shares.
	Client string `json:"client,omitempty"`
}

// Observed is the evidence of a finding: the request, its answer and the
// headers or values that matter to the check. Secrets never appear here.
type Observed struct {
	Method  string            `json:"method,omitempty"`
	URL     string            `json:"url,omitempty"`
	Status  int               `json:"status,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
	// Detail is anything else: a document's value, the URLs tried, an
	// error.
	Detail string `json:"detail,omitempty"`
}

// Summary counts findings by status.
type Summary struct {
	Pass int `json:"pass"`
	Warn int `json:"warn"`
	Fail int `json:"fail"`
	Skip int `json:"skip"`
}

// Report is the outcome of a run.
type Report struct {
	URL      string    `json:"url,omitempty"`
	Config   string    `json:"config,omitempty"`
	Findings []Finding `json:"findings"`
	Summary  Summary   `json:"summary"`
	// Clients are the verdicts of the replayed clients (--client), in
	// order.
	Clients []ClientVerdict `json:"clients,omitempty"`
	// Exchanges are the HTTP exchanges of the run, when Options.Verbose.
	Exchanges []Exchange `json:"exchanges,omitempty"`
}

// Failed reports whether any check failed.
func (r *Report) Failed() bool { return r.Summary.Fail > 0 }

// Find returns the findings with the given ID.
func (r *Report) Find(id string) []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if f.ID == id {
			out = append(out, f)
		}
	}
	return out
}

// Defaults.
const (
	// DefaultOrigin is the browser origin of the CORS checks: the MCP
	// Inspector's, the browser client people test with first.
	DefaultOrigin         = "http://localhost:6274"
	DefaultRequestTimeout = 10 * time.Second
	DefaultTimeout        = 90 * time.Second
	// DefaultMaxBodyBytes bounds every response body read: discovery
	// documents and JWKS are a few KiB.
	DefaultMaxBodyBytes = 1 << 20
	// MaxRedirects is how many redirects are followed before "too many".
	MaxRedirects = 10
)

// Options configure a run. URL or ConfigPath must be set.
type Options struct {
	// URL is the MCP endpoint, as given to clients.
	URL string
	// Token is an access token to check and use (--token); never printed.
	Token string
	// Register makes a real test registration at the registration
	// endpoint (--register).
	Register bool
	// Login asks for the end-to-end OAuth login (--login).
	Login bool
	// ConfigPath is the .env file to lint (--config); "" for none.
	ConfigPath string
	// Environ is the environment the configuration is read from, as
	// os.Environ returns it; only used with ConfigPath.
	Environ []string
	// Origin is the browser origin of the CORS checks.
	Origin string
	// RequestTimeout bounds each HTTP request; Timeout the whole run.
	RequestTimeout time.Duration
	Timeout        time.Duration
	// MaxBodyBytes bounds each response body.
	MaxBodyBytes int64
	// Verbose records every HTTP exchange in Report.Exchanges; Trace, if
	// set, also receives each one as it completes.
	Verbose bool
	Trace   func(Exchange)
	// LoginBrowser opens the authorization page of --login (default: the
	// system's browser); LoginPrompt receives the login URL and progress
	// (default os.Stderr); LoginTimeout bounds the wait for the user
	// (default DefaultLoginTimeout), on top of Timeout.
	LoginBrowser oauthclient.Browser
	LoginPrompt  io.Writer
	LoginTimeout time.Duration
	// Version is sent as the client version in MCP requests.
	Version string
	// Clients are the --client values (names, comma-separated lists or
	// "all"): the run replays each client's behaviour instead of doctor's
	// own checks of the OAuth set-up.
	Clients []string

	// DialContext and RootCAs replace the network dialer and the trusted
	// certificate authorities (tests point public names at local servers
	// with them); nil means the system's.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	RootCAs     *x509.CertPool
	// Now is the clock for token expiry; nil means time.Now.
	Now func() time.Time
}

// ErrUsage is returned (wrapped) by Run when the options make no run
// possible; the command exits with status 2 for it.
var ErrUsage = errors.New("usage")

// Run runs every check the options ask for and returns the report. It
// returns an error only when the options are unusable; everything that
// goes wrong with the server is a finding.
func Run(ctx context.Context, o Options) (*Report, error) {
	if o.URL == "" && o.ConfigPath == "" {
		return nil, fmt.Errorf("%w: give the MCP URL to check (atomcp doctor https://mcp.example.com/api/mcp), --config, or both", ErrUsage)
	}
	if o.Origin == "" {
		o.Origin = DefaultOrigin
	}
	if err := checkOrigin(o.Origin); err != nil {
		return nil, fmt.Errorf("%w: --origin %q: %v", ErrUsage, o.Origin, err)
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = DefaultRequestTimeout
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	o.Token = strings.TrimSpace(o.Token)
	if scheme, rest, ok := strings.Cut(o.Token, " "); ok && strings.EqualFold(scheme, "Bearer") {
		o.Token = strings.TrimSpace(rest)
	}
	if o.Version == "" {
		o.Version = "dev"
	}
	clients, err := lookupClients(o.Clients)
	if err != nil {
		return nil, fmt.Errorf("%w: --client: %v", ErrUsage, err)
	}
	if len(clients) > 0 && o.URL == "" {
		return nil, fmt.Errorf("%w: --client replays a client against an MCP URL: give the URL", ErrUsage)
	}
	timeout := o.Timeout
	if o.Login {
		if o.LoginTimeout <= 0 {
			o.LoginTimeout = DefaultLoginTimeout
		}
		timeout += o.LoginTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	r := newRun(o)
	r.clients = clients
	defer r.close()
	if o.ConfigPath != "" {
		r.loadConfig()
	}
	if o.URL != "" {
		r.checkServer(ctx)
	}
	if o.ConfigPath != "" {
		r.checkConfig(ctx)
	}
	r.mu.Lock()
	rep := &Report{URL: o.URL, Config: o.ConfigPath, Findings: r.findings, Exchanges: r.exchanges}
	if len(clients) > 0 {
		rep.Clients = r.verdicts()
	}
	r.mu.Unlock()
	for _, f := range rep.Findings {
		switch f.Status {
		case Pass:
			rep.Summary.Pass++
		case Warn:
			rep.Summary.Warn++
		case Fail:
			rep.Summary.Fail++
		case Skip:
			rep.Summary.Skip++
		}
	}
	return rep, nil
}

// checkOrigin accepts an origin as browsers send it.
func checkOrigin(o string) error {
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return errors.New("not an origin; accepted: scheme://host[:port] such as https://claude.ai")
	}
	return nil
}

// run is the state of one run: the HTTP client, what earlier checks
// found (later checks build on it) and the findings so far.
type run struct {
	opts      Options
	hc        *http.Client
	mu        sync.Mutex // guards exchanges and Trace: the login's clients run concurrently
	transport *http.Transport
	findings  []Finding
	exchanges []Exchange

	mcp       *url.URL   // the MCP endpoint after redirects
	probe     *response  // its answer to an initialize without a token
	needsAuth bool       // it answered 401
	challenge *challenge // parsed WWW-Authenticate of the 401
	prm       *prmDoc    // the protected-resource document clients use
	issuers   []*issuer  // the authorization servers it names

	corsMCP    *response // the MCP endpoint's answer to a POST with an Origin
	corsMCPErr error

	clients []ClientProfile // the clients to replay (--client)

	cfg              *config.Config // the --config configuration, once loaded
	cfgErr           error
	tokenScopes      []string // scopes of the --token JWT
	tokenScopesKnown bool
}

// add records a finding and returns it.
func (r *run) add(f Finding) Finding {
	r.findings = append(r.findings, f)
	return f
}

// skip is a finding for a check that could not run.
func skip(id string, area Area, why string) Finding {
	return Finding{ID: id, Area: area, Status: Skip, Title: why}
}

// checkServer runs the checks of an MCP URL, in the order clients meet
// the problems.
func (r *run) checkServer(ctx context.Context) {
	if len(r.clients) > 0 {
		r.checkServerAsClients(ctx)
		return
	}
	if !r.checkReach(ctx) {
		r.skipRest("the MCP endpoint could not be reached")
		return
	}
	r.checkChallenge(ctx)
	if r.needsAuth {
		r.checkResourceMetadata(ctx)
		r.checkAuthorizationServers(ctx)
		r.checkRegistration(ctx)
	} else {
		why := "the server answers without a token: no OAuth to check"
		r.add(skip(IDPRMFetch, AreaPRM, why))
		r.add(skip(IDASMetadata, AreaAS, why))
		r.add(skip(IDRegisterOptions, AreaRegister, why))
	}
	r.checkCORS(ctx)
	if r.needsAuth {
		r.checkJWKS(ctx)
	}
	r.checkToken(ctx)
	r.checkLogin(ctx)
}

// checkServerAsClients checks reachability, which every client shares,
// and then replays each client of --client.
func (r *run) checkServerAsClients(ctx context.Context) {
	if !r.checkReach(ctx) {
		for _, p := range r.clients {
			f := skip(IDClientInitialize, AreaClient, "the MCP endpoint could not be reached")
			f.Client = p.Name
			r.add(f)
		}
		return
	}
	r.checkClients(ctx)
}

// skipRest records skips for the areas after reachability.
func (r *run) skipRest(why string) {
	r.add(skip(IDChallengeStatus, AreaAuth, why))
	r.add(skip(IDPRMFetch, AreaPRM, why))
	r.add(skip(IDASMetadata, AreaAS, why))
	r.add(skip(IDRegisterOptions, AreaRegister, why))
	r.add(skip(IDCORSPreflight, AreaCORS, why))
	if r.opts.Token != "" {
		r.add(skip(IDTokenFormat, AreaToken, why))
	}
	if r.opts.Login {
		r.add(skip(IDLogin, AreaLogin, why))
	}
}
