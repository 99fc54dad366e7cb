package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/atomcp/atomcp/internal/auth"
	"github.com/atomcp/atomcp/internal/authserver"
	"github.com/atomcp/atomcp/internal/authserver/connector"
	"github.com/atomcp/atomcp/internal/config"
	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/fastcall"
	"github.com/atomcp/atomcp/internal/httpserver"
	"github.com/atomcp/atomcp/internal/store"
	"github.com/atomcp/atomcp/internal/telemetry"
	"github.com/atomcp/atomcp/internal/telemetry/telstore"
)

// observability is what serve measures with: metrics (nil when
// ATOMCP_METRICS_ADDR=off) and tracing (off unless an OTLP endpoint is
// configured).
type observability struct {
	metrics *telemetry.Metrics
	tracing *telemetry.Tracing
	// raw and measured: the one store wrapped, once (its gauges are
	// registered once).
	raw, measured store.Store
}

// newObservability builds the metrics registry and, when configured, the
// OTLP trace exporter; with tracing on, logger's lines carry trace_id.
func newObservability(ctx context.Context, cfg *config.Config, logger *slog.Logger) (*observability, *slog.Logger, error) {
	o := &observability{}
	if cfg.MetricsEnabled() {
		o.metrics = telemetry.New(telemetry.Options{
			Version: version, AuthReasons: auth.Reasons(), ASEvents: authserver.Events(),
			StoreOps: telstore.Operations(), Runtime: true,
		})
	}
	if cfg.OTLPEndpoint != "" && !telemetry.TracingDisabled(os.Getenv) {
		t, err := telemetry.NewOTLPTracing(ctx, cfg.OTLPEndpoint, version)
		if err != nil {
			return nil, nil, err
		}
		o.tracing = t
		logger = slog.New(telemetry.LogHandler(logger.Handler()))
	}
	return o, logger, nil
}

// wrapStore times and traces the store's operations; the same store
// gives the same wrapper.
func (o *observability) wrapStore(st store.Store) store.Store {
	if o.measured == nil || o.raw != st {
		o.raw, o.measured = st, telstore.Wrap(st, o.metrics, o.tracing)
	}
	return o.measured
}

// httpClient is an outbound client for target, counted and traced.
func (o *observability) httpClient(c *http.Client, target string) *http.Client {
	return telemetry.WrapClient(c, o.metrics, o.tracing, target)
}

// issuerClient is the auth package's client, counting key-set fetches
// and metadata fetches apart.
func (o *observability) issuerClient() *http.Client {
	c := auth.NewHTTPClient()
	c.Transport = telemetry.TransportFunc(o.metrics, o.tracing, func(r *http.Request) string {
		if strings.Contains(r.URL.Path, "/.well-known/") {
			return telemetry.TargetDiscovery
		}
		return telemetry.TargetJWKS
	}, c.Transport)
	return c
}

// observeAuth counts each bearer check and notes it on the auth span.
func (o *observability) observeAuth(ctx context.Context, reason string) {
	o.metrics.AuthOutcome(reason)
	if o.tracing.Enabled() {
		trace.SpanFromContext(ctx).SetAttributes(attribute.String("auth.reason", reason))
	}
}

// instrument adds the MCP middleware and the gauges read at each scrape
// to server. probe is a server built the same way, asked for the tool
// names (the tool label's fixed list) so that server's own log shows no
// session for it.
func (o *observability) instrument(ctx context.Context, server, probe *mcp.Server, raw store.Store, provider *auth.Provider, logger *slog.Logger) {
	if o.metrics == nil && !o.tracing.Enabled() {
		return
	}
	names, err := telemetry.ToolNames(ctx, probe)
	if err != nil {
		logger.Warn("telemetry: could not list the tools; tool calls are counted as other", "err", err)
	}
	if o.metrics != nil {
		o.metrics.SetTools(names)
		o.metrics.GaugeFunc(telemetry.NameSessions, "MCP sessions open now.", func() float64 {
			n := 0
			for range server.Sessions() {
				n++
			}
			return float64(n)
		})
		o.metrics.GaugeFuncCtx(telemetry.NameEmbeddingQueue, "Entities waiting for their embedding (counted up to 100000; -1 when the count failed).",
			2*time.Second, func(ctx context.Context) (float64, error) { return queuedEmbeddings(ctx, raw) })
		if provider != nil {
			o.metrics.GaugeFuncCtx(telemetry.NameJWKSKeys, "Signing keys of the issuer held now (fetched, or kept from the last fetch).",
				2*time.Second, func(ctx context.Context) (float64, error) {
					n, err := provider.KeyCount(ctx)
					return float64(n), err
				})
		}
	}
	fastcall.Use(server, telemetry.MCPMiddleware(o.metrics, o.tracing, names))
}

// queuedEmbeddings counts the embedding queue over every organization.
func queuedEmbeddings(ctx context.Context, st store.Store) (float64, error) {
	page, err := st.ListEntities(ctx, store.EntityQuery{Type: domain.Organization, AllOrganizations: true})
	if err != nil {
		return 0, err
	}
	if len(page.Items) == 0 {
		return 0, nil
	}
	ids := make([]string, len(page.Items))
	for i, e := range page.Items {
		ids[i] = e.ID
	}
	n, err := st.CountQueuedEmbeddings(ctx, ids, 100000)
	return float64(n), err
}

// readyChecks are /readyz's conditions beyond the database: migrations
// and the issuer's keys. upstream sign-in providers' discovery is checked
// here too once they exist (none are built yet).
func readyChecks(st store.Store, embedded *authserver.Server, provider *auth.Provider) []httpserver.ReadyCheck {
	checks := []httpserver.ReadyCheck{{Name: "migrations", Check: func(ctx context.Context) error {
		// openStore applied every migration this binary knows before
		// serving, or serve did not start. A backend that can tell whether
		// the schema is still the one this binary expects (another replica
		// may have migrated it on) implements SchemaCurrent, and is asked.
		if sc, ok := st.(interface{ SchemaCurrent(context.Context) error }); ok {
			return sc.SchemaCurrent(ctx)
		}
		return nil
	}}}
	switch {
	case embedded != nil:
		checks = append(checks, httpserver.ReadyCheck{Name: "keys", Check: func(ctx context.Context) error {
			set, err := embedded.Keys().JWKS(ctx)
			if err != nil {
				return fmt.Errorf("the authorization server's signing keys could not be read: %w", err)
			}
			if len(set["keys"]) == 0 {
				return errors.New("the authorization server has no signing key")
			}
			return nil
		}})
	case provider != nil:
		checks = append(checks, httpserver.ReadyCheck{Name: "keys", Check: func(ctx context.Context) error {
			if err := provider.KeysReady(ctx); err != nil {
				return fmt.Errorf("the issuer's signing keys (JWKS) are not loaded and none are cached: %w", err)
			}
			return nil
		}})
	}
	if embedded != nil && len(embedded.Connectors()) > 0 {
		checks = append(checks, httpserver.ReadyCheck{Name: "signin", Check: signinCheck(embedded.Connectors(), time.Minute)})
	}
	return checks
}

// signinCheck checks that every upstream sign-in provider's discovery
// (or API root) answers. A load balancer asks /readyz every few seconds;
// the providers are asked at most once per interval and the answer is
// kept meanwhile.
func signinCheck(conns []connector.Connector, interval time.Duration) func(context.Context) error {
	var mu sync.Mutex
	var checked time.Time
	var last error
	return func(ctx context.Context) error {
		mu.Lock()
		defer mu.Unlock()
		if !checked.IsZero() && time.Since(checked) < interval {
			return last
		}
		last = nil
		for _, c := range conns {
			if err := c.Check(ctx); err != nil {
				last = fmt.Errorf("sign-in provider %s does not answer: %w", c.ID(), err)
				break
			}
		}
		checked = time.Now()
		return last
	}
}

// serveMetrics serves /metrics on a listener of its own until ctx ends.
func serveMetrics(ctx context.Context, addr string, m *telemetry.Metrics, logger *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s (ATOMCP_METRICS_ADDR): %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("metrics listener stopped", "err", err)
		}
	}()
	logger.Log(ctx, startupLevel(ctx), "metrics", "url", "http://"+loopbackDisplay(ln.Addr())+"/metrics")
	return func() {
		c, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(c)
	}, nil
}
