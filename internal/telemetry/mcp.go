package telemetry

import (
	"context"
	"reflect"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// MCPMiddleware counts and times every MCP request the server receives
// (m may be nil) and, with tracing on, handles it in a span: "tools/call
// NAME" for a tool call, the method otherwise. The span's parent is the
// traceparent in the request's params._meta (SEP-414, the 2026-07-28
// specification's tracing convention), else the one in its HTTP request's
// header, which HTTPMiddleware sets to the HTTP span. tools are the
// registered tool names (ToolNames) a span may be named after; any other
// name is Other.
func MCPMiddleware(m *Metrics, t *Tracing, tools []string) mcp.Middleware {
	known := sortedCopy(tools)
	return func(next mcp.MethodHandler) mcp.MethodHandler {
		if m == nil && !t.Enabled() {
			return next
		}
		return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
			tool := ""
			if p, ok := req.GetParams().(*mcp.CallToolParamsRaw); ok && p != nil {
				tool = p.Name
			}
			var span trace.Span
			if t.Enabled() {
				ctx = t.parentOf(ctx, req)
				name := method
				attrs := []attribute.KeyValue{attribute.String("mcp.method.name", method)}
				if tool != "" {
					// The span name and attribute are the registered tool's
					// name or Other: never free text from the client.
					tool := oneOf(known, tool)
					name += " " + tool
					attrs = append(attrs, attribute.String("gen_ai.tool.name", tool))
				}
				ctx, span = t.Start(ctx, name, trace.SpanKindServer, attrs...)
			}
			start := time.Now()
			res, err := next(ctx, method, req)
			outcome := OutcomeOK
			if err != nil {
				outcome = OutcomeError
			} else if r, ok := res.(*mcp.CallToolResult); ok && r != nil && r.IsError {
				outcome = OutcomeToolError
			}
			m.MCPRequest(method, tool, outcome, time.Since(start))
			if span != nil {
				span.SetAttributes(attribute.String("mcp.outcome", outcome))
				EndSpan(span, err)
			}
			return res, err
		}
	}
}

// parentOf returns ctx with the remote parent of an MCP request: its
// _meta traceparent, else its HTTP header's.
func (t *Tracing) parentOf(ctx context.Context, req mcp.Request) context.Context {
	if p := req.GetParams(); p != nil && !reflect.ValueOf(p).IsNil() {
		if meta := p.GetMeta(); meta != nil {
			if _, ok := meta["traceparent"].(string); ok {
				return t.Extract(ctx, MapCarrier(meta))
			}
		}
	}
	if extra := req.GetExtra(); extra != nil && extra.Header != nil && extra.Header.Get("traceparent") != "" {
		return t.Extract(ctx, HeaderCarrier(extra.Header))
	}
	return ctx
}

// ToolNames lists the tools registered on s, by asking it over an
// in-memory connection as a client would: the fixed list of the tool
// label.
func ToolNames(ctx context.Context, s *mcp.Server) ([]string, error) {
	ct, st := mcp.NewInMemoryTransports()
	ss, err := s.Connect(ctx, st, nil)
	if err != nil {
		return nil, err
	}
	defer ss.Close()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "atomcp-telemetry", Version: "1"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		return nil, err
	}
	defer cs.Close()
	var names []string
	for tool, err := range cs.Tools(ctx, nil) {
		if err != nil {
			return nil, err
		}
		names = append(names, tool.Name)
	}
	return names, nil
}
