// Package telemetry is atomcp's Prometheus metrics and OpenTelemetry
// tracing: one registry per server, whose label values all come from fixed
// lists (tool names, reasons, events), never from what a client sent.
package telemetry

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Namespace prefixes every atomcp metric name.
const Namespace = "atomcp"

// Other is the label value of anything outside a label's fixed list: an
// unknown tool name, method or reason.
const Other = "other"

// Outcomes of an MCP request (label outcome).
const (
	OutcomeOK        = "ok"         // a result
	OutcomeError     = "error"      // a JSON-RPC error
	OutcomeToolError = "tool_error" // a tools/call result with isError
)

// Results of an outbound fetch and a store operation (label outcome).
const (
	ResultOK    = "ok"
	ResultError = "error"
)

// Outbound fetch targets (label target of atomcp_outbound_fetches_total).
const (
	TargetJWKS       = "jwks"       // a remote issuer's signing keys
	TargetDiscovery  = "discovery"  // a remote issuer's metadata
	TargetCIMD       = "cimd"       // a client ID metadata document
	TargetEmbeddings = "embeddings" // the embeddings endpoint
	TargetUpstream   = "upstream"   // an upstream sign-in provider
)

var fetchTargets = []string{TargetJWKS, TargetDiscovery, TargetCIMD, TargetEmbeddings, TargetUpstream}

// mcpMethods are the MCP methods counted by name; any other is Other.
var mcpMethods = []string{
	"initialize", "ping", "tools/list", "tools/call", "prompts/list", "prompts/get",
	"resources/list", "resources/read", "resources/templates/list", "resources/subscribe",
	"resources/unsubscribe", "completion/complete", "logging/setLevel", "server/discover",
	"notifications/initialized", "notifications/cancelled", "notifications/progress",
	"notifications/roots/list_changed",
}

// Options are the fixed lists the metrics' labels are drawn from.
type Options struct {
	Version string
	// Tools are the registered tool names (ToolNames lists them).
	Tools []string
	// AuthReasons are the bearer check's outcomes (auth.Reasons).
	AuthReasons []string
	// ASEvents are the authorization server's events (authserver.Events).
	ASEvents []string
	// StoreOps are the store's operation names (the decorator's list).
	StoreOps []string
	// Runtime adds the Go runtime and process collectors; off in tests
	// that compare exact output.
	Runtime bool
}

// Metrics holds atomcp's metric families. A nil *Metrics records
// nothing, which is how metrics are switched off.
type Metrics struct {
	reg   *prometheus.Registry
	tools []string
	auth  []string
	as    []string
	ops   []string

	mcpRequests  *prometheus.CounterVec
	mcpDuration  *prometheus.HistogramVec
	httpRequests *prometheus.CounterVec
	authOutcomes *prometheus.CounterVec
	asEvents     *prometheus.CounterVec
	storeOps     *prometheus.HistogramVec
	storeFlight  prometheus.Gauge
	fetches      *prometheus.CounterVec
	fetchLastOK  *prometheus.GaugeVec
}

// Metric names, for the dashboard test and the docs.
const (
	NameMCPRequests     = Namespace + "_mcp_requests_total"
	NameMCPDuration     = Namespace + "_mcp_request_duration_seconds"
	NameHTTPRequests    = Namespace + "_http_requests_total"
	NameAuthRequests    = Namespace + "_auth_requests_total"
	NameASEvents        = Namespace + "_authserver_events_total"
	NameSessions        = Namespace + "_mcp_sessions_active"
	NameStoreDuration   = Namespace + "_store_operation_duration_seconds"
	NameStoreInFlight   = Namespace + "_store_operations_in_flight"
	NameStorePool       = Namespace + "_store_pool_connections"
	NameSQLitePageCache = Namespace + "_store_sqlite_page_cache_bytes"
	NameFetches         = Namespace + "_outbound_fetches_total"
	NameFetchLastOK     = Namespace + "_outbound_fetch_last_success_timestamp_seconds"
	NameJWKSKeys        = Namespace + "_jwks_keys"
	NameEmbeddingQueue  = Namespace + "_embedding_queue_length"
	NameBuildInfo       = Namespace + "_build_info"
)

// New registers atomcp's metric families in a registry of their own.
func New(o Options) *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		reg:  reg,
		auth: sortedCopy(o.AuthReasons),
		as:   sortedCopy(o.ASEvents),
		ops:  sortedCopy(o.StoreOps),
		mcpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: NameMCPRequests,
			Help: "MCP requests and notifications handled, by method, tool (tools/call only; \"\" otherwise) and outcome (ok, error, tool_error)."},
			[]string{"method", "tool", "outcome"}),
		mcpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: NameMCPDuration,
			Help:    "Time to handle an MCP request, by method and tool.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}},
			[]string{"method", "tool"}),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: NameHTTPRequests,
			Help: "HTTP requests served, by route (mcp, well_known, oauth, health, metrics, other) and status class (2xx…5xx)."},
			[]string{"route", "code"}),
		authOutcomes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: NameAuthRequests,
			Help: "Bearer-token checks at the MCP endpoint, by reason: ok, or why the request was refused."},
			[]string{"reason"}),
		asEvents: prometheus.NewCounterVec(prometheus.CounterOpts{Name: NameASEvents,
			Help: "Events of the embedded authorization server: registrations, sign-ins, tokens issued, refresh-token reuse."},
			[]string{"event"}),
		storeOps: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: NameStoreDuration,
			Help:    "Time of a store (database) operation, by operation and outcome.",
			Buckets: []float64{.0001, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 5}},
			[]string{"operation", "outcome"}),
		storeFlight: prometheus.NewGauge(prometheus.GaugeOpts{Name: NameStoreInFlight,
			Help: "Store operations in progress (a lower bound of the database connections in use)."}),
		fetches: prometheus.NewCounterVec(prometheus.CounterOpts{Name: NameFetches,
			Help: "Outbound HTTP fetches, by target (jwks, discovery, cimd, embeddings, upstream) and outcome."},
			[]string{"target", "outcome"}),
		fetchLastOK: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: NameFetchLastOK,
			Help: "Unix time of the last successful fetch of each target: time() minus it is the age of the cached copy."},
			[]string{"target"}),
	}
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: NameBuildInfo, Help: "Always 1; the version label is atomcp's version."}, []string{"version"})
	build.WithLabelValues(o.Version).Set(1)
	reg.MustRegister(m.mcpRequests, m.mcpDuration, m.httpRequests, m.authOutcomes, m.asEvents,
		m.storeOps, m.storeFlight, m.fetches, m.fetchLastOK, build)
	if o.Runtime {
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	// Series that rate() queries and alerts expect exist from the start,
	// at zero, rather than appearing with the first event.
	m.SetTools(o.Tools)
	for _, r := range m.auth {
		m.authOutcomes.WithLabelValues(r)
	}
	for _, e := range m.as {
		m.asEvents.WithLabelValues(e)
	}
	return m
}

// SetTools sets the tool names counted by name (ToolNames lists the
// registered ones); other names count as Other. Call it once, before the
// server serves: the list is read without a lock.
func (m *Metrics) SetTools(tools []string) {
	if m == nil {
		return
	}
	m.tools = sortedCopy(tools)
	for _, t := range m.tools {
		for _, oc := range []string{OutcomeOK, OutcomeError, OutcomeToolError} {
			m.mcpRequests.WithLabelValues("tools/call", t, oc)
		}
	}
}

func sortedCopy(l []string) []string {
	out := slices.Clone(l)
	slices.Sort(out)
	return slices.Compact(out)
}

// oneOf returns v if it is in the sorted list, else Other.
func oneOf(list []string, v string) string {
	if _, ok := slices.BinarySearch(list, v); ok {
		return v
	}
	return Other
}

// Registry is where the families are registered, for a test or an extra
// collector.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// MCPRequest records one MCP request: method, tool name (tools/call),
// outcome and duration. Unknown methods and tools count as Other.
func (m *Metrics) MCPRequest(method, tool, outcome string, d time.Duration) {
	if m == nil {
		return
	}
	method = oneOf(mcpMethodsSorted, method)
	if method == "tools/call" {
		tool = oneOf(m.tools, tool)
	} else {
		tool = ""
	}
	m.mcpRequests.WithLabelValues(method, tool, outcome).Inc()
	m.mcpDuration.WithLabelValues(method, tool).Observe(d.Seconds())
}

// HTTPRequest records one HTTP request by route class and status.
func (m *Metrics) HTTPRequest(route string, status int) {
	if m == nil {
		return
	}
	m.httpRequests.WithLabelValues(route, codeClass(status)).Inc()
}

func codeClass(status int) string {
	if status < 100 || status > 599 {
		return Other
	}
	return strconv.Itoa(status/100) + "xx"
}

// AuthOutcome records one bearer check: "ok" or a refusal reason.
func (m *Metrics) AuthOutcome(reason string) {
	if m == nil {
		return
	}
	m.authOutcomes.WithLabelValues(oneOf(m.auth, reason)).Inc()
}

// ASEvent records one event of the embedded authorization server.
func (m *Metrics) ASEvent(event string) {
	if m == nil {
		return
	}
	m.asEvents.WithLabelValues(oneOf(m.as, event)).Inc()
}

// StoreOp records one store operation; it returns the function to call
// when the operation ends.
func (m *Metrics) StoreOp(op string) func(err error) {
	if m == nil {
		return func(error) {}
	}
	start := time.Now()
	m.storeFlight.Inc()
	return func(err error) {
		m.storeFlight.Dec()
		outcome := ResultOK
		if err != nil {
			outcome = ResultError
		}
		m.storeOps.WithLabelValues(oneOf(m.ops, op), outcome).Observe(time.Since(start).Seconds())
	}
}

// Fetch records one outbound fetch of target.
func (m *Metrics) Fetch(target string, ok bool) {
	if m == nil {
		return
	}
	target = oneOf(fetchTargetsSorted, target)
	outcome := ResultError
	if ok {
		outcome = ResultOK
		m.fetchLastOK.WithLabelValues(target).SetToCurrentTime()
	}
	m.fetches.WithLabelValues(target, outcome).Inc()
}

// The lists above, sorted for oneOf; never modified.
var (
	fetchTargetsSorted = sortedCopy(fetchTargets)
	mcpMethodsSorted   = sortedCopy(mcpMethods)
)

// GaugeFunc registers a gauge whose value is read at each scrape: active
// sessions, the embedding queue, JWKS keys. name must be one of the Name*
// constants so that the dashboard and the docs know it.
func (m *Metrics) GaugeFunc(name, help string, f func() float64) {
	if m == nil {
		return
	}
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f))
}

// GaugeFuncCtx is GaugeFunc for a value that needs a query (the
// embedding queue): each scrape gets timeout to read it; a failure reads
// as -1, so that a broken query is visible rather than a flat zero.
func (m *Metrics) GaugeFuncCtx(name, help string, timeout time.Duration, f func(context.Context) (float64, error)) {
	m.GaugeFunc(name, help, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		v, err := f(ctx)
		if err != nil {
			return -1
		}
		return v
	})
}
