package telemetry

import (
	"context"
	"fmt"
	"os"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	sdkresource "go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// TracerName names atomcp's instrumentation scope.
const TracerName = "github.com/atomcp/atomcp"

// Tracing is the tracer atomcp's spans come from and the W3C Trace
// Context propagator that reads (and writes) traceparent. Its zero value
// and a nil *Tracing trace nothing at almost no cost.
type Tracing struct {
	tracer   trace.Tracer
	prop     propagation.TextMapPropagator
	shutdown func(context.Context) error
}

// TracingDisabled reports whether the standard OpenTelemetry variables
// switch traces off although an endpoint is set: OTEL_SDK_DISABLED=true
// or OTEL_TRACES_EXPORTER=none.
func TracingDisabled(getenv func(string) string) bool {
	return strings.EqualFold(getenv("OTEL_SDK_DISABLED"), "true") || strings.EqualFold(getenv("OTEL_TRACES_EXPORTER"), "none")
}

// NewOTLPTracing exports spans over OTLP/HTTP, configured by the standard
// OTEL_* variables (endpoint, headers, timeout, sampler, service name).
// endpoint, when not empty, is the traces endpoint URL as configured
// (it may come from .env, which the SDK does not read).
func NewOTLPTracing(ctx context.Context, endpoint, version string) (*Tracing, error) {
	var opts []otlptracehttp.Option
	if endpoint != "" {
		opts = append(opts, otlptracehttp.WithEndpointURL(tracesURL(endpoint)))
	}
	exp, err := otlptracehttp.New(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("OTLP trace exporter: %w", err)
	}
	res, err := sdkresource.Merge(sdkresource.Default(), sdkresource.NewSchemaless(
		attribute.String("service.name", serviceName()), attribute.String("service.version", version)))
	if err != nil {
		res = sdkresource.Default()
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	t := NewTracing(tp)
	t.shutdown = tp.Shutdown
	return t, nil
}

// tracesURL turns OTEL_EXPORTER_OTLP_ENDPOINT (a base URL) into the
// traces URL, as the specification says for the generic variable; a URL
// that already ends in /v1/traces is kept.
func tracesURL(endpoint string) string {
	endpoint = strings.TrimSuffix(endpoint, "/")
	if strings.HasSuffix(endpoint, "/v1/traces") {
		return endpoint
	}
	return endpoint + "/v1/traces"
}

// serviceName is OTEL_SERVICE_NAME, else atomcp (the resource detector
// reads OTEL_RESOURCE_ATTRIBUTES itself).
func serviceName() string {
	if n := os.Getenv("OTEL_SERVICE_NAME"); n != "" {
		return n
	}
	return "atomcp"
}

// NewTracing traces with the given provider: the SDK's in tests
// (tracetest), or any other.
func NewTracing(tp trace.TracerProvider) *Tracing {
	return &Tracing{
		tracer: tp.Tracer(TracerName),
		prop:   propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}),
	}
}

// Shutdown flushes the spans not yet exported.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if t == nil || t.shutdown == nil {
		return nil
	}
	return t.shutdown(ctx)
}

// Enabled reports whether spans are recorded at all.
func (t *Tracing) Enabled() bool { return t != nil && t.tracer != nil }

// Tracer returns the tracer, a no-op one when tracing is off.
func (t *Tracing) Tracer() trace.Tracer {
	if !t.Enabled() {
		return noop.NewTracerProvider().Tracer(TracerName)
	}
	return t.tracer
}

// Start starts a span when tracing is on; otherwise it returns ctx and a
// span that does nothing, without allocating.
func (t *Tracing) Start(ctx context.Context, name string, kind trace.SpanKind, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	if !t.Enabled() {
		return ctx, trace.SpanFromContext(ctx)
	}
	return t.tracer.Start(ctx, name, trace.WithSpanKind(kind), trace.WithAttributes(attrs...))
}

// Extract returns ctx with the remote span context carried by traceparent
// (and tracestate, baggage) in carrier, if any.
func (t *Tracing) Extract(ctx context.Context, carrier propagation.TextMapCarrier) context.Context {
	if !t.Enabled() {
		return ctx
	}
	return t.prop.Extract(ctx, carrier)
}

// Inject writes ctx's span context into carrier as traceparent.
func (t *Tracing) Inject(ctx context.Context, carrier propagation.TextMapCarrier) {
	if !t.Enabled() {
		return
	}
	t.prop.Inject(ctx, carrier)
}

// EndSpan ends span, marking it failed when err is set.
func EndSpan(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

// MapCarrier reads W3C Trace Context keys from an MCP request's _meta
// (SEP-414: the unprefixed keys traceparent, tracestate and baggage).
type MapCarrier map[string]any

// Get implements propagation.TextMapCarrier.
func (m MapCarrier) Get(key string) string {
	s, _ := m[key].(string)
	return s
}

// Set implements propagation.TextMapCarrier.
func (m MapCarrier) Set(key, value string) { m[key] = value }

// Keys implements propagation.TextMapCarrier.
func (m MapCarrier) Keys() []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// HeaderCarrier is propagation.HeaderCarrier, named here so that callers
// need not import the propagation package.
type HeaderCarrier = propagation.HeaderCarrier

var _ propagation.TextMapCarrier = MapCarrier(nil)
