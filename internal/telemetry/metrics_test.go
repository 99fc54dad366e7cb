package telemetry

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestLabelsAreBounded: names outside the fixed lists count as other.
func TestLabelsAreBounded(t *testing.T) {
	m := New(Options{Tools: []string{"entity_tool"}, AuthReasons: []string{"ok", "expired"}, ASEvents: []string{"sign_in_ok"}, StoreOps: []string{"GetEntity"}})
	m.MCPRequest("tools/call", "entity_tool", OutcomeOK, time.Millisecond)
	m.MCPRequest("tools/call", "alice@example.com", OutcomeOK, time.Millisecond)
	m.MCPRequest("x/made-up", "entity_tool", OutcomeError, time.Millisecond)
	m.AuthOutcome("eyJhbGciOi.token")
	m.ASEvent("free text")
	m.StoreOp("DROP TABLE")(errors.New("x"))
	m.Fetch("https://evil.example", true)
	w := httptest.NewRecorder()
	m.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	out := w.Body.String()
	for _, want := range []string{
		`atomcp_mcp_requests_total{method="tools/call",outcome="ok",tool="entity_tool"} 1`,
		`atomcp_mcp_requests_total{method="tools/call",outcome="ok",tool="other"} 1`,
		`atomcp_mcp_requests_total{method="other",outcome="error",tool=""} 1`,
		`atomcp_auth_requests_total{reason="other"} 1`,
		`atomcp_auth_requests_total{reason="expired"} 0`,
		`atomcp_authserver_events_total{event="other"} 1`,
		`atomcp_store_operation_duration_seconds_count{operation="other",outcome="error"} 1`,
		`atomcp_outbound_fetches_total{outcome="ok",target="other"} 1`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %s", want)
		}
	}
	for _, bad := range []string{"alice", "eyJ", "free text", "DROP", "evil", "made-up"} {
		if strings.Contains(out, bad) {
			t.Errorf("/metrics carries %q", bad)
		}
	}
}

// TestNilMetricsRecordNothing: metrics off is a nil *Metrics.
func TestNilMetricsRecordNothing(t *testing.T) {
	var m *Metrics
	m.MCPRequest("tools/call", "x", OutcomeOK, 0)
	m.AuthOutcome("ok")
	m.ASEvent("x")
	m.HTTPRequest("mcp", 200)
	m.Fetch(TargetJWKS, true)
	m.StoreOp("GetEntity")(nil)
	m.SetTools([]string{"x"})
	m.GaugeFunc(NameSessions, "h", func() float64 { return 0 })
}

// BenchmarkRecordOneRequest is what metrics record for one tool call:
// the HTTP counter, the bearer check, the MCP counter and histogram and
// six store operations. Divided by BenchmarkHTTP's ns/op it is the CPU
// share metrics take, a figure that a loaded machine disturbs less than
// req/s.
func BenchmarkRecordOneRequest(b *testing.B) {
	m := New(Options{Tools: []string{"entity_tool", "workspace_tool"}, AuthReasons: []string{"ok"}, StoreOps: []string{"GetEntity", "GetUserBySubject", "ListMemberships", "AccessTokenDenied"}})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.HTTPRequest("mcp", 200)
			m.AuthOutcome("ok")
			for _, op := range []string{"AccessTokenDenied", "GetUserBySubject", "ListMemberships", "GetEntity", "GetEntity", "ListMemberships"} {
				m.StoreOp(op)(nil)
			}
			m.MCPRequest("tools/call", "entity_tool", OutcomeOK, time.Millisecond)
		}
	})
}
