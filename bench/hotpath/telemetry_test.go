package hotpath

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/atomcp/atomcp/internal/atoms"
	"github.com/atomcp/atomcp/internal/auth"
	"github.com/atomcp/atomcp/internal/authserver"
	"github.com/atomcp/atomcp/internal/httpserver"
	"github.com/atomcp/atomcp/internal/mcpserver"
	"github.com/atomcp/atomcp/internal/telemetry"
	"github.com/atomcp/atomcp/internal/telemetry/telstore"
)

// BenchmarkTelemetry is BenchmarkHTTP's stateless authenticated
// entity_tool read with metrics and tracing off, metrics on (every
// family serve records: HTTP, auth, MCP, store), and both on (every span
// sampled, exported in batches to an exporter that drops them), for the
// cost figures of docs/performance.md:
//
//	go test -run xxx -bench Telemetry -count 6 ./bench/hotpath/
func BenchmarkTelemetry(b *testing.B) {
	for _, mode := range []string{"off", "metrics", "metrics+tracing"} {
		b.Run(mode, func(b *testing.B) {
			f := newFixture(b)
			ctx := context.Background()
			var m *telemetry.Metrics
			var tr *telemetry.Tracing
			if mode != "off" {
				m = telemetry.New(telemetry.Options{AuthReasons: auth.Reasons(), ASEvents: authserver.Events(), StoreOps: telstore.Operations(), Runtime: true})
			}
			if mode == "metrics+tracing" {
				tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter()))
				b.Cleanup(func() { _ = tp.Shutdown(ctx) })
				tr = telemetry.NewTracing(tp)
			}
			st := telstore.Wrap(f.st, m, tr)
			server := mcpserver.New(atoms.New(st), mcpserver.Options{Caller: mcpserver.TokenIdentity})
			names, err := telemetry.ToolNames(ctx, mcpserver.New(f.svc, mcpserver.Options{}))
			if err != nil {
				b.Fatal(err)
			}
			m.SetTools(names)
			server.AddReceivingMiddleware(telemetry.MCPMiddleware(m, tr, names))
			provider, err := auth.New(ctx, auth.Settings{
				Provider: auth.ProviderEmbedded, Issuer: issuer, Keys: auth.LocalKeys(f.as.AccessKeyfunc(ctx)),
				IssuerAlias: authserver.EmbeddedIssuer, Revoked: f.as.TokenRevoked,
				Algorithms: []string{"ES256"}, Public: &auth.PublicURL{MCPPath: mcpPath},
				Observe: func(_ context.Context, reason string) { m.AuthOutcome(reason) },
			})
			if err != nil {
				b.Fatal(err)
			}
			front := httpserver.New(server, httpserver.Options{
				MCPPath: mcpPath, BaseURL: issuer, Stateless: true, ListenLoopback: true,
				Auth: provider.Middleware.Wrap, Logger: slog.New(slog.DiscardHandler), Metrics: m, Tracing: tr,
			})
			var ids atomic.Int64
			do := func() *httptest.ResponseRecorder {
				body := `{"jsonrpc":"2.0","id":` + strconv.FormatInt(ids.Add(1), 10) + `,"method":"tools/call","params":` + f.readParams() + `}`
				req := httptest.NewRequest(http.MethodPost, issuer+mcpPath, strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Accept", "application/json, text/event-stream")
				req.Header.Set("MCP-Protocol-Version", "2025-11-25")
				req.Header.Set("Authorization", "Bearer "+f.token)
				rec := httptest.NewRecorder()
				front.ServeHTTP(rec, req)
				return rec
			}
			if rec := do(); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), f.reqID) {
				b.Fatalf("%d %s", rec.Code, rec.Body)
			}
			// CPU time per request (every thread of the process, the GC's
			// too) is the figure to compare on a shared machine, where
			// req/s follows the other load more than the code.
			cpu0 := cpuTime()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if rec := do(); rec.Code != http.StatusOK {
						b.Errorf("%d %s", rec.Code, rec.Body)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-us/req")
		})
	}
}

// cpuTime is the process's user plus system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
