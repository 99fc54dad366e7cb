// Package httpserver is atomcp's HTTP front: routes, CORS, the host and
// origin guard, request logging, health checks and graceful shutdown around
// the MCP Streamable HTTP handler.
package httpserver

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/atomcp/atomcp/internal/eventstore"
	"github.com/atomcp/atomcp/internal/telemetry"
)

// Options configures the HTTP server.
type Options struct {
	MCPPath      string
	BaseURL      string // public base URL; its host and origin are always allowed
	Stateless    bool
	MaxBodyBytes int64
	// SessionTimeout closes a stateful session with no request in
	// progress for this long (0: never). The session book keeps it, not
	// go-sdk (sessionbook.go).
	SessionTimeout time.Duration
	// DisableFastCalls sends every request through go-sdk's transport,
	// the fast path for read-only tool calls (fastcall.go) off: for
	// comparing the two in tests and benchmarks.
	DisableFastCalls bool
	// EventStoreBytes bounds the response events kept for resumable
	// streams (all sessions together): 0 means DefaultEventStoreBytes, a
	// negative value keeps none (ATOMCP_EVENT_STORE_BYTES=0).
	EventStoreBytes int64
	// ListenLoopback reports that the server listens on a loopback address
	// only; then Host headers are checked against DNS rebinding.
	ListenLoopback bool
	AllowedHosts   []string
	AllowedOrigins []string
	// RequireOrigin refuses browser requests from origins that are not
	// allowed. It is on when requests carry no credentials (ATOMCP_AUTH=none),
	// where a web page could otherwise drive the server through the browser.
	RequireOrigin bool
	// Ready reports whether the server can serve (the database answers).
	Ready func(ctx context.Context) error
	// Checks are further conditions of readiness (migrations, the
	// issuer's keys), each named in the /readyz body.
	Checks []ReadyCheck
	// Metrics, when set, counts requests; MetricsPath, when also set,
	// serves the registry there on this listener (ATOMCP_METRICS_ADDR
	// unset). A nil Metrics counts nothing.
	Metrics     *telemetry.Metrics
	MetricsPath string
	// Tracing, when on, serves each request in a span (and the bearer
	// check in a child span); nil traces nothing.
	Tracing *telemetry.Tracing
	// Auth, when set, wraps the MCP endpoint: the bearer-token check. It
	// never sees preflights, which are answered before routing.
	Auth func(http.Handler) http.Handler
	// Routes are further handlers by ServeMux pattern: the discovery
	// documents under /.well-known/ and an embedded authorization server.
	Routes map[string]http.Handler
	Logger *slog.Logger
	// Limits bound connections, request bodies and each user's MCP
	// requests (timeouts.go, connlimit.go, toollimit.go).
	Limits Limits
	// TrustedProxies are the peers whose X-Forwarded-For or Forwarded
	// header names the client (clientaddr.go).
	TrustedProxies []netip.Prefix
}

// DefaultEventStoreBytes is the size of the resumable-stream event store
// when Options.EventStoreBytes is zero: about the last 2,000 responses of
// all sessions, enough to resume a stream cut seconds ago; go-sdk's own
// default of 10 MiB held 3 MB more live heap under load for no resume a
// client would make (docs/performance.md).
const DefaultEventStoreBytes = 1 << 20

// Server is the HTTP handler of atomcp plus what graceful shutdown needs.
type Server struct {
	opts Options
	mcp  *mcp.Server
	book *sessionBook // nil when stateless
	// fastServed counts the calls the fast path answered (for tests).
	fastServed atomic.Int64
	handler    http.Handler
	inflight   inflight // MCP POSTs being served: tool calls to let finish
	// formOwners are the Routes handlers with HTML forms of their own.
	formOwners []FormOwner
}

// New builds the handler around an MCP server.
func New(m *mcp.Server, opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MCPPath == "" {
		opts.MCPPath = "/api/mcp"
	}
	s := &Server{opts: opts, mcp: m}
	newHandler := func(stateless bool) http.Handler {
		ho := &mcp.StreamableHTTPOptions{
			Stateless: stateless,
			Logger:    opts.Logger,
			// No SessionTimeout: the session book closes idle sessions,
			// counting the fast path's calls, which go-sdk does not see.
			// The guard below does this job with ATOMCP_ALLOWED_HOSTS taken
			// into account, which the SDK's built-in check cannot know about.
			DisableLocalhostProtection: true,
			MaxRequestBodyBytes:        opts.MaxBodyBytes,
		}
		if !stateless {
			// Resumable streams (2025-11-25, SEP-1699): without an event
			// store, a response stream cut mid-call (a proxy's idle
			// timeout, a network change) loses the call's result for good.
			// The store keeps the events of live sessions, at most
			// EventStoreBytes in all, and lets the client resume with
			// Last-Event-ID.
			// internal/eventstore keeps less per session than go-sdk's
			// MemoryEventStore (docs/performance.md).
			if n := opts.EventStoreBytes; n >= 0 {
				es, _ := eventstore.New(int(min(cmp.Or(n, DefaultEventStoreBytes), math.MaxInt))) // positive: no error
				ho.EventStore = es
			}
		}
		return mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return m }, ho)
	}
	var streamable http.Handler
	if opts.Stateless {
		streamable = newHandler(true)
	} else {
		s.book = newSessionBook(m, opts.SessionTimeout)
		streamable = byWireVersion(s.book.observe(newHandler(false)), newHandler(true))
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.HandleFunc("GET /health", s.health) // the old Atoms server's path
	if opts.Metrics != nil && opts.MetricsPath != "" {
		mux.Handle("GET "+opts.MetricsPath, opts.Metrics.Handler())
	}
	// Clients that accept JSON only (or say nothing) get JSON, not the
	// SDK's plain-text 400; so does a request for an unknown method.
	// Single read-only tool calls take the fast path, past go-sdk's
	// transport but through the same middleware (fastcall.go).
	mcpHandler := s.limitTools(s.fastToolCalls(acceptJSON(answerUnknownMethods(streamable)), opts.Stateless, s.book))
	if opts.Auth != nil {
		mcpHandler = telemetry.AuthSpan(opts.Tracing, opts.Auth, mcpHandler)
	}
	mcpHandler = s.trackInflight(mcpHandler)
	for pattern, h := range opts.Routes {
		mux.Handle(pattern, h)
		if f, ok := h.(FormOwner); ok { // a handler mounted twice is listed twice: harmless
			s.formOwners = append(s.formOwners, f)
		}
	}
	mux.Handle(opts.MCPPath, mcpHandler)
	// A trailing slash is a common typo in client configs; serve it rather
	// than redirect, since a redirected POST or preflight breaks clients.
	mux.Handle(opts.MCPPath+"/", exactSlash(opts.MCPPath, mcpHandler, s.notFound))
	mux.HandleFunc("/", s.notFound)

	var h http.Handler = mux
	h = limitBody(h, opts.MaxBodyBytes, opts.MCPPath)
	h = s.guard(h)
	h = s.cors(h)
	// Outside the request log, so that its lines carry the trace id.
	h = s.logRequests(h)
	h = telemetry.HTTPMiddleware(opts.Metrics, opts.Tracing, s.route, h)
	h = s.recoverPanics(h)
	h = s.bodyDeadline(h)
	h = s.clientAddr(h)
	s.handler = h
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Routes of the request counter and span names: a fixed set, never the
// path a client sent.
const (
	RouteMCP       = "mcp"
	RouteWellKnown = "well_known"
	RouteOAuth     = "oauth"
	RouteHealth    = "health"
	RouteMetrics   = "metrics"
	RouteOther     = "other"
)

// route classifies a request for the metrics and spans.
func (s *Server) route(r *http.Request) string {
	p := r.URL.Path
	switch {
	case p == s.opts.MCPPath || p == s.opts.MCPPath+"/":
		return RouteMCP
	case p == "/healthz" || p == "/readyz":
		return RouteHealth
	case s.opts.MetricsPath != "" && p == s.opts.MetricsPath:
		return RouteMetrics
	case strings.HasPrefix(p, "/.well-known/"):
		return RouteWellKnown
	case strings.HasPrefix(p, "/oauth/"): // the embedded authorization server
		return RouteOAuth
	}
	return RouteOther
}

// byWireVersion answers both protocol generations at one URL. go-sdk's
// stateful handler refuses 2026-07-28 requests and its stateless handler
// has no sessions, so a request that carries no session and announces
// 2026-07-28 or later (which has no initialize and no sessions) goes to the
// stateless handler, and everything else to the stateful one.
func byWireVersion(stateful, stateless http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Mcp-Session-Id") == "" && r.Header.Get("MCP-Protocol-Version") >= statelessProtocol {
			stateless.ServeHTTP(w, r)
			return
		}
		stateful.ServeHTTP(w, r)
	})
}

// maxHeaderBytes bounds request headers (net/http allows 4 KiB more).
const maxHeaderBytes = 64 << 10

// statelessProtocol is the first protocol revision without sessions.
// Revisions are dates, so they compare as strings.
const statelessProtocol = "2026-07-28"

// exactSlash serves path+"/" with h and everything else below it as not found.
func exactSlash(path string, h http.Handler, notFound http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == path+"/" {
			h.ServeHTTP(w, r)
			return
		}
		notFound(w, r)
	})
}

func (s *Server) trackInflight(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			s.inflight.add()
			defer s.inflight.done()
		}
		h.ServeHTTP(w, r)
	})
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusNotFound, map[string]string{
		"error":   "not_found",
		"message": "no such path " + r.URL.Path + "; the MCP endpoint is " + s.opts.MCPPath,
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Serve serves on ln until ctx is cancelled, then shuts down gracefully:
// it stops accepting, lets MCP POSTs in flight (tool calls) finish for up to
// timeout, then closes the MCP sessions (which ends their event streams) and
// the remaining connections.
func (s *Server) Serve(ctx context.Context, ln net.Listener, timeout time.Duration) error {
	srv := &http.Server{
		Handler: s,
		// Real requests, bearer token included, need a few KiB; a 1 MB
		// "token" gets 431 before any handler runs.
		MaxHeaderBytes:    maxHeaderBytes,
		ReadHeaderTimeout: s.opts.Limits.ReadHeaderTimeout,
		IdleTimeout:       s.opts.Limits.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(s.opts.Logger.Handler(), slog.LevelWarn),
	}
	ln = limitConns(ln, s.opts.Limits.MaxConnsPerClient, s.opts.TrustedProxies)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.opts.Logger.Info("shutting down", "timeout", timeout.String())
	deadline, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()

	shutdownDone := make(chan error, 1)
	go func() { shutdownDone <- srv.Shutdown(deadline) }()

	select {
	case <-s.inflight.drained():
	case <-deadline.Done():
		s.opts.Logger.Warn("shutdown timeout reached with tool calls still running; they are cancelled")
	}
	if s.book != nil {
		s.book.close()
	}
	for ss := range s.mcp.Sessions() {
		_ = ss.Close()
	}
	err := <-shutdownDone
	if errors.Is(err, context.DeadlineExceeded) {
		_ = srv.Close()
		err = nil
	}
	if e := <-errc; e != nil && !errors.Is(e, http.ErrServerClosed) {
		return e
	}
	return err
}

// inflight counts requests in progress. (A sync.WaitGroup cannot do this:
// requests keep arriving while shutdown waits, and WaitGroup forbids Add
// concurrent with Wait at zero.)
type inflight struct {
	mu   sync.Mutex
	n    int
	zero chan struct{} // closed when n drops to zero, once drained was called
}

func (f *inflight) add() {
	f.mu.Lock()
	f.n++
	f.mu.Unlock()
}

func (f *inflight) done() {
	f.mu.Lock()
	f.n--
	if f.n == 0 && f.zero != nil {
		close(f.zero)
		f.zero = nil
	}
	f.mu.Unlock()
}

// drained returns a channel closed when no request is in progress.
func (f *inflight) drained() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := make(chan struct{})
	if f.n == 0 {
		close(ch)
	} else {
		f.zero = ch
	}
	return ch
}
