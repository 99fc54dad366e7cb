package httpserver

import (
	"net/http"
	"testing"
)

// formRoutes stands in for the embedded authorization server: it owns the
// forms posted to /oauth/login, and /oauth/token is an API endpoint.
type formRoutes struct{}

func (formRoutes) ServeHTTP(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) }
func (formRoutes) OwnsForm(path string) bool                        { return path == "/oauth/login" }

// The server's own sign-in, consent and setup forms are judged by their
// own origin rule, the same under every origin setting: Origin null (what
// browsers send for the server's no-referrer pages) and the server's own
// origin are accepted, a foreign real origin is refused, and
// ATOMCP_ALLOWED_ORIGINS neither opens nor closes them. Everything else,
// and GET on the form paths, keeps the CORS origin rule.
func TestOwnFormsOrigin(t *testing.T) {
	settings := map[string]Options{
		"default (auth, any origin)": {BaseURL: "https://mcp.example.com", AllowedHosts: []string{"mcp.example.com"}},
		"ATOMCP_ALLOWED_ORIGINS set": {BaseURL: "https://mcp.example.com", AllowedHosts: []string{"mcp.example.com"}, RequireOrigin: true, AllowedOrigins: []string{"https://app.example.com"}},
		"auth none on loopback":      {BaseURL: "https://mcp.example.com", AllowedHosts: []string{"mcp.example.com"}, RequireOrigin: true, ListenLoopback: true},
	}
	for name, opts := range settings {
		opts.Routes = map[string]http.Handler{"/oauth/": formRoutes{}}
		s := newTestServer(opts)
		restricted := opts.RequireOrigin
		for _, tc := range []struct {
			name, method, path, origin string
			want                       int
		}{
			{"form, Origin null", http.MethodPost, "/oauth/login", "null", 200},
			{"form, no Origin", http.MethodPost, "/oauth/login", "", 200},
			{"form, own origin", http.MethodPost, "/oauth/login", "https://mcp.example.com", 200},
			{"form, own origin by Host", http.MethodPost, "/oauth/login", "https://MCP.example.com", 200},
			{"form, foreign origin", http.MethodPost, "/oauth/login", "https://evil.example.net", 403},
			{"form, allowed client origin", http.MethodPost, "/oauth/login", "https://app.example.com", 403},
			{"form, malformed origin", http.MethodPost, "/oauth/login", "evil", 403},
			{"token endpoint, Origin null", http.MethodPost, "/oauth/token", "null", pick(restricted, 403, 200)},
			{"token endpoint, foreign origin", http.MethodPost, "/oauth/token", "https://evil.example.net", pick(restricted, 403, 200)},
			{"token endpoint, allowed client origin", http.MethodPost, "/oauth/token", "https://app.example.com", pick(opts.AllowedOrigins != nil || !restricted, 200, 403)},
			{"form path, GET with Origin null", http.MethodGet, "/oauth/login", "null", pick(restricted, 403, 200)},
		} {
			h := map[string]string{"Host": "mcp.example.com"}
			if tc.origin != "" {
				h["Origin"] = tc.origin
			}
			w := do(s, tc.method, "https://mcp.example.com"+tc.path, h)
			if w.Code != tc.want {
				t.Errorf("%s: %s: %d, want %d (%s)", name, tc.name, w.Code, tc.want, w.Body)
			}
			if w.Code == 403 && w.Header().Get("Content-Type") != "application/json" {
				t.Errorf("%s: %s: refusal is %q; want JSON", name, tc.name, w.Header().Get("Content-Type"))
			}
		}
	}
}

func pick(cond bool, a, b int) int {
	if cond {
		return a
	}
	return b
}

// The pages a FormOwner owns get no CORS headers, whatever the origin
// settings: they are reached with the server's cookie, and no page of
// another origin may read them. The API endpoints beside them keep CORS.
func TestOwnPagesHaveNoCORS(t *testing.T) {
	opts := Options{BaseURL: "https://mcp.example.com", AllowedHosts: []string{"mcp.example.com"}, AllowedOrigins: []string{"*"}}
	opts.Routes = map[string]http.Handler{"/oauth/": formRoutes{}}
	s := newTestServer(opts)
	h := map[string]string{"Host": "mcp.example.com", "Origin": "https://app.example.com"}
	if w := do(s, http.MethodGet, "https://mcp.example.com/oauth/login", h); w.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("own page answered with Access-Control-Allow-Origin %q", w.Header().Get("Access-Control-Allow-Origin"))
	}
	pre := map[string]string{"Host": "mcp.example.com", "Origin": "https://app.example.com", "Access-Control-Request-Method": "POST"}
	if w := do(s, http.MethodOptions, "https://mcp.example.com/oauth/login", pre); w.Header().Get("Access-Control-Allow-Methods") != "" {
		t.Errorf("own page answered a preflight: %d %v", w.Code, w.Header())
	}
	if w := do(s, http.MethodPost, "https://mcp.example.com/oauth/token", h); w.Header().Get("Access-Control-Allow-Origin") == "" {
		t.Error("the token endpoint lost its CORS header")
	}
}
