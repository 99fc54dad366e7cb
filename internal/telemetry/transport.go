package telemetry

import (
	"net/http"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// Transport counts the fetches made through base as target (one of the
// Target* constants) and, with tracing on, makes each a client span that
// sends its traceparent. m and t may be nil; base nil means
// http.DefaultTransport.
func Transport(m *Metrics, t *Tracing, target string, base http.RoundTripper) http.RoundTripper {
	return TransportFunc(m, t, func(*http.Request) string { return target }, base)
}

// TransportFunc is Transport for a client that fetches several kinds of
// document (an issuer's metadata and its keys): target names each
// request's kind, one of the Target* constants.
func TransportFunc(m *Metrics, t *Tracing, target func(*http.Request) string, base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	if m == nil && !t.Enabled() {
		return base
	}
	return &transport{m: m, t: t, target: target, base: base}
}

type transport struct {
	m      *Metrics
	t      *Tracing
	target func(*http.Request) string
	base   http.RoundTripper
}

func (tr *transport) RoundTrip(r *http.Request) (*http.Response, error) {
	target := tr.target(r)
	var span trace.Span
	if tr.t.Enabled() {
		ctx, s := tr.t.Start(r.Context(), "fetch "+target, trace.SpanKindClient,
			attribute.String("http.request.method", r.Method), attribute.String("server.address", r.URL.Host))
		span = s
		r = r.Clone(ctx) // RoundTrip must not change the caller's request
		tr.t.Inject(ctx, HeaderCarrier(r.Header))
	}
	resp, err := tr.base.RoundTrip(r)
	ok := err == nil && resp.StatusCode < 400
	tr.m.Fetch(target, ok)
	if span != nil {
		if resp != nil {
			span.SetAttributes(attribute.Int("http.response.status_code", resp.StatusCode))
		}
		EndSpan(span, err)
	}
	return resp, err
}

// WrapClient returns a copy of c (nil: a new client) whose transport is
// Transport(m, t, target, c.Transport).
func WrapClient(c *http.Client, m *Metrics, t *Tracing, target string) *http.Client {
	out := &http.Client{}
	if c != nil {
		*out = *c
	}
	out.Transport = Transport(m, t, target, out.Transport)
	return out
}
