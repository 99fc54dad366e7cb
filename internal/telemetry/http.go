package telemetry

import (
	"context"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// statusWriter remembers the status written, for the span and the
// counter; Unwrap keeps http.ResponseController (Flush) working.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		if w.status == 0 {
			w.status = http.StatusOK
		}
		f.Flush()
	}
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// HTTPMiddleware counts each request by route and status class (m may be
// nil) and, with tracing on, serves it in a server span that continues
// the caller's traceparent header. route maps a request to one of a fixed
// set of names (it also names the span). The span's own context is
// written into the request's traceparent header, so that MCP requests
// handled on a session's goroutine (which do not see this request's
// context) still find their parent (see MCPMiddleware).
func HTTPMiddleware(m *Metrics, t *Tracing, route func(*http.Request) string, next http.Handler) http.Handler {
	if m == nil && !t.Enabled() {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rt := route(r)
		sw := &statusWriter{ResponseWriter: w}
		var span trace.Span
		if t.Enabled() {
			ctx := t.Extract(r.Context(), HeaderCarrier(r.Header))
			ctx, span = t.Start(ctx, "HTTP "+r.Method+" "+rt, trace.SpanKindServer,
				attribute.String("http.request.method", r.Method), attribute.String("http.route", rt),
				attribute.String("url.path", r.URL.Path))
			r = r.WithContext(ctx)
			r.Header = r.Header.Clone()
			t.Inject(ctx, HeaderCarrier(r.Header))
		}
		next.ServeHTTP(sw, r)
		status := sw.status
		if status == 0 {
			status = http.StatusOK
		}
		m.HTTPRequest(rt, status)
		if span != nil {
			span.SetAttributes(attribute.Int("http.response.status_code", status))
			if status >= 500 {
				span.SetStatus(codes.Error, http.StatusText(status))
			}
			span.End()
		}
	})
}

// AuthSpan wraps the bearer check in a child span "auth", ended when the
// check hands the request on (ok) or returns without doing so (refused).
// The handler after the check runs with the request span as the active
// one again, so the auth span is the tool calls' sibling, not their
// parent.
func AuthSpan(t *Tracing, check func(http.Handler) http.Handler, next http.Handler) http.Handler {
	if !t.Enabled() {
		return check(next)
	}
	type key struct{}
	type state struct {
		span   trace.Span
		parent trace.Span
		passed bool
	}
	inner := check(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st, _ := r.Context().Value(key{}).(*state)
		if st != nil && !st.passed {
			st.passed = true
			st.span.SetAttributes(attribute.String("auth.outcome", "ok"))
			st.span.End()
			r = r.WithContext(trace.ContextWithSpan(r.Context(), st.parent))
		}
		next.ServeHTTP(w, r)
	}))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		parent := trace.SpanFromContext(r.Context())
		ctx, span := t.Start(r.Context(), "auth", trace.SpanKindInternal)
		st := &state{span: span, parent: parent}
		ctx = context.WithValue(ctx, key{}, st)
		start := time.Now()
		inner.ServeHTTP(w, r.WithContext(ctx))
		if !st.passed {
			span.SetAttributes(attribute.String("auth.outcome", "refused"), attribute.Int64("auth.duration_us", time.Since(start).Microseconds()))
			span.End()
		}
	})
}
