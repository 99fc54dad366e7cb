package httpserver

import (
	"net/http"
	"strings"
	"testing"
)

// authServer is a server with a stand-in bearer check (any token "ok")
// and a stand-in metadata document, as serve wires the real ones.
func authServer(opts Options) *Server {
	opts.Auth = func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer ok" {
				w.Header().Set("WWW-Authenticate", `Bearer resource_metadata="x"`)
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	opts.Routes = map[string]http.Handler{
		"/.well-known/oauth-protected-resource/": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusOK, map[string]string{"resource": "x"})
		}),
	}
	return newTestServer(opts)
}

// TestCORSWithAuth: with a bearer check, any origin may call the MCP
// endpoint unless ATOMCP_CORS_ORIGINS narrows it; the metadata documents
// allow any origin always; preflights are answered on every path and the
// bearer check never sees them.
func TestCORSWithAuth(t *testing.T) {
	open := authServer(Options{ListenLoopback: true})
	narrowed := authServer(Options{RequireOrigin: true, AllowedOrigins: []string{"https://app.example.com"}, BaseURL: "https://mcp.example.com"})
	for _, tc := range []struct {
		name       string
		s          *Server
		method     string
		path       string
		header     map[string]string
		status     int
		allowOrign string
	}{
		{"open: foreign origin without token", open, "POST", "/api/mcp", map[string]string{"Origin": "https://claude.ai"}, 401, "https://claude.ai"},
		// 415: past the bearer check, the MCP handler wants a JSON body.
		{"open: foreign origin with token", open, "POST", "/api/mcp", map[string]string{"Origin": "https://claude.ai", "Authorization": "Bearer ok"}, 415, "https://claude.ai"},
		{"open: metadata", open, "GET", "/.well-known/oauth-protected-resource/api/mcp", map[string]string{"Origin": "https://claude.ai"}, 200, "*"},
		{"open: preflight of the MCP endpoint", open, "OPTIONS", "/api/mcp", map[string]string{"Origin": "https://claude.ai", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, mcp-protocol-version"}, 204, "https://claude.ai"},
		{"open: preflight of an unknown well-known path", open, "OPTIONS", "/.well-known/unknown", map[string]string{"Origin": "https://claude.ai", "Access-Control-Request-Method": "GET"}, 204, "*"},
		{"narrowed: listed origin", narrowed, "POST", "/api/mcp", map[string]string{"Host": "mcp.example.com", "Origin": "https://app.example.com"}, 401, "https://app.example.com"},
		{"narrowed: loopback origin (MCP Inspector)", narrowed, "POST", "/api/mcp", map[string]string{"Host": "mcp.example.com", "Origin": "http://localhost:6274"}, 401, "http://localhost:6274"},
		{"narrowed: foreign origin", narrowed, "POST", "/api/mcp", map[string]string{"Host": "mcp.example.com", "Origin": "https://evil.example.net"}, 403, ""},
		{"narrowed: foreign origin reads metadata", narrowed, "GET", "/.well-known/oauth-protected-resource/api/mcp", map[string]string{"Host": "mcp.example.com", "Origin": "https://evil.example.net"}, 200, "*"},
		{"narrowed: preflight from a listed origin", narrowed, "OPTIONS", "/api/mcp", map[string]string{"Host": "mcp.example.com", "Origin": "https://app.example.com", "Access-Control-Request-Method": "POST"}, 204, "https://app.example.com"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := map[string]string{"Host": "127.0.0.1:8000"}
			for k, v := range tc.header {
				h[k] = v
			}
			w := do(tc.s, tc.method, "http://127.0.0.1:8000"+tc.path, h)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.status, w.Body)
			}
			if got := w.Header().Get("Access-Control-Allow-Origin"); got != tc.allowOrign {
				t.Errorf("Allow-Origin %q, want %q", got, tc.allowOrign)
			}
			if w.Header().Get("Access-Control-Allow-Credentials") != "" {
				t.Errorf("credentials allowed")
			}
			if tc.header["Origin"] != "" && !strings.Contains(w.Header().Get("Access-Control-Expose-Headers"), "WWW-Authenticate") {
				t.Errorf("WWW-Authenticate not exposed")
			}
		})
	}
}
