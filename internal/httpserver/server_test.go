package httpserver

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

func newTestServer(opts Options) *Server {
	m := mcp.NewServer(&mcp.Implementation{Name: "t", Version: "1"}, nil)
	return New(m, opts)
}

func do(h http.Handler, method, target string, header map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, strings.NewReader(""))
	for k, v := range header {
		if k == "Host" {
			r.Host = v
			continue
		}
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestPreflightIsAnsweredBeforeEverything(t *testing.T) {
	s := newTestServer(Options{ListenLoopback: true, RequireOrigin: true, BaseURL: "http://127.0.0.1:8000"})
	for _, path := range []string{"/api/mcp", "/api/mcp/", "/.well-known/oauth-protected-resource/api/mcp", "/unknown"} {
		w := do(s, http.MethodOptions, "http://127.0.0.1:8000"+path, map[string]string{
			"Host":                           "127.0.0.1:8000",
			"Origin":                         "http://localhost:6274",
			"Access-Control-Request-Method":  "POST",
			"Access-Control-Request-Headers": "authorization, content-type, mcp-protocol-version, x-custom",
		})
		if w.Code != http.StatusNoContent {
			t.Fatalf("OPTIONS %s = %d, want 204", path, w.Code)
		}
		allow := strings.ToLower(w.Header().Get("Access-Control-Allow-Headers"))
		for _, h := range []string{"authorization", "content-type", "accept", "mcp-protocol-version", "mcp-session-id", "mcp-method", "mcp-name", "last-event-id", "x-custom"} {
			if !strings.Contains(allow, h) {
				t.Errorf("OPTIONS %s: Allow-Headers %q lacks %s", path, allow, h)
			}
		}
		wantOrigin := "http://localhost:6274"
		if strings.HasPrefix(path, "/.well-known/") {
			wantOrigin = "*" // public documents
		}
		if got := w.Header().Get("Access-Control-Allow-Origin"); got != wantOrigin {
			t.Errorf("OPTIONS %s: Allow-Origin = %q, want %q", path, got, wantOrigin)
		}
		if w.Header().Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("credentials must never be allowed")
		}
		if !strings.Contains(w.Header().Get("Access-Control-Expose-Headers"), "Mcp-Session-Id") {
			t.Errorf("Expose-Headers lacks Mcp-Session-Id")
		}
	}
}

func TestHostAndOriginGuard(t *testing.T) {
	s := newTestServer(Options{ListenLoopback: true, RequireOrigin: true, BaseURL: "http://127.0.0.1:8000", AllowedHosts: []string{"mcp.example.com"}, AllowedOrigins: []string{"https://app.example.com"}})
	for _, tc := range []struct {
		name   string
		header map[string]string
		want   int
	}{
		{"loopback host", map[string]string{"Host": "localhost:8000"}, 200},
		{"ipv6 loopback host", map[string]string{"Host": "[::1]:8000"}, 200},
		{"allowed proxy host", map[string]string{"Host": "mcp.example.com"}, 200},
		{"rebinding host", map[string]string{"Host": "evil.example.net:8000"}, 403},
		{"loopback origin", map[string]string{"Host": "127.0.0.1:8000", "Origin": "http://localhost:3000"}, 200},
		{"listed origin", map[string]string{"Host": "127.0.0.1:8000", "Origin": "https://app.example.com"}, 200},
		{"foreign origin", map[string]string{"Host": "127.0.0.1:8000", "Origin": "https://evil.example.net"}, 403},
	} {
		w := do(s, http.MethodGet, "http://127.0.0.1:8000/healthz", tc.header)
		if w.Code != tc.want {
			t.Errorf("%s: %d, want %d (%s)", tc.name, w.Code, tc.want, w.Body)
		}
	}
}

// TestOldHealthPath: GET /health answers as the Python Atoms server's
// route did, for the probes configured for it.
func TestOldHealthPath(t *testing.T) {
	s := newTestServer(Options{Ready: func(context.Context) error { return errors.New("db down") }})
	w := do(s, http.MethodGet, "/health", nil)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"status":"healthy"`) {
		t.Fatalf("GET /health = %d %s", w.Code, w.Body)
	}
	if w := do(s, http.MethodPost, "/health", nil); w.Code == http.StatusOK {
		t.Errorf("POST /health = %d; only GET is the probe", w.Code)
	}
}

func TestNotFoundAndReadiness(t *testing.T) {
	failing := newTestServer(Options{Ready: func(context.Context) error { return errors.New("db down") }})
	if w := do(failing, http.MethodGet, "/readyz", nil); w.Code != http.StatusServiceUnavailable {
		t.Errorf("readyz with a failing database = %d", w.Code)
	}
	w := do(failing, http.MethodGet, "/mcp", nil)
	if w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), "/api/mcp") {
		t.Errorf("GET /mcp = %d %s; want 404 naming the MCP endpoint", w.Code, w.Body)
	}
}

func TestPanicsBecomePlain500s(t *testing.T) {
	s := newTestServer(Options{})
	h := s.recoverPanics(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom at secret.go:12") }))
	w := do(h, http.MethodGet, "/", nil)
	if w.Code != 500 || strings.Contains(w.Body.String(), "secret.go") || strings.Contains(w.Body.String(), "goroutine") {
		t.Fatalf("panic answered %d %q", w.Code, w.Body)
	}
}

func TestWireVersionRouting(t *testing.T) {
	var got string
	h := byWireVersion(
		http.HandlerFunc(func(http.ResponseWriter, *http.Request) { got = "stateful" }),
		http.HandlerFunc(func(http.ResponseWriter, *http.Request) { got = "stateless" }),
	)
	for _, tc := range []struct {
		version, session, want string
	}{
		{"", "", "stateful"},
		{"2025-11-25", "", "stateful"},
		{"2026-07-28", "", "stateless"},
		{"2026-07-28", "abc", "stateful"},
	} {
		r := httptest.NewRequest(http.MethodPost, "/api/mcp", nil)
		if tc.version != "" {
			r.Header.Set("MCP-Protocol-Version", tc.version)
		}
		if tc.session != "" {
			r.Header.Set("Mcp-Session-Id", tc.session)
		}
		h.ServeHTTP(httptest.NewRecorder(), r)
		if got != tc.want {
			t.Errorf("version %q session %q → %s, want %s", tc.version, tc.session, got, tc.want)
		}
	}
}
