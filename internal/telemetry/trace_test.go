package telemetry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/atomcp/atomcp/internal/atoms"
	"github.com/atomcp/atomcp/internal/auth"
	"github.com/atomcp/atomcp/internal/httpserver"
	"github.com/atomcp/atomcp/internal/mcpserver"
	"github.com/atomcp/atomcp/internal/store/storeopen"
	"github.com/atomcp/atomcp/internal/telemetry"
	"github.com/atomcp/atomcp/internal/telemetry/telstore"
)

const (
	incomingTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	traceparent   = "00-" + incomingTrace + "-00f067aa0ba902b7-01"
	metaTrace     = "0af7651916cd43dd8448eb211c80319c"
	metaParent    = "00-" + metaTrace + "-b7ad6b7169203331-01"
)

// headerTransport adds headers to every request.
type headerTransport map[string]string

func (h headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for k, v := range h {
		r.Header.Set(k, v)
	}
	return http.DefaultTransport.RoundTrip(r)
}

// tracedServer is the HTTP front, bearer check, MCP server, service and
// SQLite store wired as serve wires them, tracing into an in-memory
// exporter.
func tracedServer(t *testing.T) (*httptest.Server, *tracetest.InMemoryExporter) {
	t.Helper()
	ctx := t.Context()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	tr := telemetry.NewTracing(tp)

	raw, err := storeopen.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	if _, err := raw.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	st := telstore.Wrap(raw, nil, tr)
	server := mcpserver.New(atoms.New(st), mcpserver.Options{Caller: mcpserver.TokenIdentity})
	tools, err := telemetry.ToolNames(ctx, server)
	if err != nil {
		t.Fatal(err)
	}
	server.AddReceivingMiddleware(telemetry.MCPMiddleware(nil, tr, tools))

	var front *httpserver.Server
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { front.ServeHTTP(w, r) }))
	ts.Start()
	t.Cleanup(ts.Close)
	p, err := auth.New(ctx, auth.Settings{
		Provider: auth.ProviderStatic, StaticTokens: map[string]string{"ci": "secret-token"},
		Public: &auth.PublicURL{BaseURL: ts.URL, MCPPath: "/api/mcp"},
	})
	if err != nil {
		t.Fatal(err)
	}
	front = httpserver.New(server, httpserver.Options{BaseURL: ts.URL, ListenLoopback: true, Auth: p.Middleware.Wrap, Tracing: tr})
	return ts, exp
}

// TestTraceFromHTTPToStore calls a tool with an incoming traceparent
// header and finds the HTTP request, bearer check, tool call and store
// spans in that trace, each under the right parent; a traceparent in the
// call's params._meta (SEP-414) parents the tool span instead.
func TestTraceFromHTTPToStore(t *testing.T) {
	ts, exp := tracedServer(t)
	client := mcp.NewClient(&mcp.Implementation{Name: "trace-test", Version: "1"}, nil)
	cs, err := client.Connect(t.Context(), &mcp.StreamableClientTransport{Endpoint: ts.URL + "/api/mcp", MaxRetries: -1,
		HTTPClient: &http.Client{Transport: headerTransport{"Authorization": "Bearer secret-token", "traceparent": traceparent}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "entity_tool", Arguments: map[string]any{
		"entity_type": "organization", "operation": "create", "data": map[string]any{"name": "Traced"}}})
	if err != nil || res.IsError {
		t.Fatalf("call: %v %+v", err, res)
	}

	// The HTTP span ends once the handler returns, a moment after the
	// client has its result.
	var spans tracetest.SpanStubs
	byID := map[string]tracetest.SpanStub{}
	for i := 0; i < 100; i++ {
		spans = exp.GetSpans()
		clear(byID)
		for _, s := range spans {
			byID[s.SpanContext.SpanID().String()] = s
		}
		http := 0
		for _, s := range spans {
			if strings.HasPrefix(s.Name, "HTTP POST") {
				http++
			}
		}
		if http >= 2 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	parentName := func(s tracetest.SpanStub) string { return byID[s.Parent.SpanID().String()].Name }
	var tool *tracetest.SpanStub
	var sawAuth, sawHTTP bool
	for i, s := range spans {
		switch {
		case s.Name == "tools/call entity_tool":
			tool = &spans[i]
		case s.Name == "auth" && s.SpanContext.TraceID().String() == incomingTrace:
			sawAuth = sawAuth || strings.HasPrefix(parentName(s), "HTTP POST mcp")
		case s.Name == "HTTP POST mcp" && s.SpanContext.TraceID().String() == incomingTrace:
			sawHTTP = s.Parent.SpanID().String() == "00f067aa0ba902b7" && s.Parent.IsRemote()
		}
	}
	if !sawHTTP || !sawAuth || tool == nil {
		t.Fatalf("HTTP span under the incoming parent %v, auth under it %v, tool span %v; spans: %v", sawHTTP, sawAuth, tool != nil, names(spans))
	}
	if tool.SpanContext.TraceID().String() != incomingTrace || !strings.HasPrefix(parentName(*tool), "HTTP POST mcp") {
		t.Fatalf("tool span in trace %s under %q; want %s under the HTTP span", tool.SpanContext.TraceID(), parentName(*tool), incomingTrace)
	}
	stores := 0
	for _, s := range spans {
		if strings.HasPrefix(s.Name, "store.") && s.Parent.SpanID() == tool.SpanContext.SpanID() {
			stores++
			if s.SpanContext.TraceID().String() != incomingTrace {
				t.Errorf("store span %s in trace %s", s.Name, s.SpanContext.TraceID())
			}
		}
	}
	if stores == 0 {
		t.Fatalf("no store span under the tool span; spans: %v", names(spans))
	}

	exp.Reset()
	if _, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Meta: mcp.Meta{"traceparent": metaParent}, Name: "workspace_tool",
		Arguments: map[string]any{"operation": "list_workspaces"}}); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, s := range exp.GetSpans() {
		if s.Name == "tools/call workspace_tool" {
			found = true
			if s.SpanContext.TraceID().String() != metaTrace || s.Parent.SpanID().String() != "b7ad6b7169203331" {
				t.Errorf("tool span with a _meta traceparent: trace %s parent %s; want %s under b7ad6b7169203331",
					s.SpanContext.TraceID(), s.Parent.SpanID(), metaTrace)
			}
		}
	}
	if !found {
		t.Fatalf("no tool span; spans: %v", names(exp.GetSpans()))
	}
}

func names(spans tracetest.SpanStubs) []string {
	out := make([]string, len(spans))
	for i, s := range spans {
		out[i] = s.Name + "@" + s.SpanContext.TraceID().String()[:8]
	}
	return out
}

// TestLogHandlerAddsTraceID checks that a line logged inside a span
// carries its trace_id and span_id, and one outside carries none.
func TestLogHandlerAddsTraceID(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	tr := telemetry.NewTracing(tp)
	var buf bytes.Buffer
	logger := slog.New(telemetry.LogHandler(slog.NewJSONHandler(&buf, nil))).With("k", "v")
	ctx, span := tr.Start(context.Background(), "x", 0)
	logger.InfoContext(ctx, "inside")
	span.End()
	logger.InfoContext(context.Background(), "outside")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	var in, out map[string]any
	_ = json.Unmarshal([]byte(lines[0]), &in)
	_ = json.Unmarshal([]byte(lines[1]), &out)
	if in["trace_id"] != span.SpanContext().TraceID().String() || in["span_id"] != span.SpanContext().SpanID().String() || in["k"] != "v" {
		t.Errorf("inside a span: %v", in)
	}
	if _, ok := out["trace_id"]; ok {
		t.Errorf("outside a span: %v", out)
	}
}
