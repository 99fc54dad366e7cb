package auth_test

import (
	"crypto/tls"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/atomcp/atomcp/internal/auth"
	"github.com/atomcp/atomcp/internal/auth/authtest"
)

// TestResourceMetadataPerRequest checks that "resource" is the URL the
// client used, byte for byte, on each of the ways a request can arrive.
func TestResourceMetadataPerRequest(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	for _, tc := range []struct {
		name     string
		public   *auth.PublicURL
		path     string
		host     string
		remote   string
		header   map[string]string
		tls      bool
		status   int
		resource string
	}{
		{name: "localhost", host: "localhost:8000", status: 200, resource: "http://localhost:8000/api/mcp"},
		{name: "127.0.0.1", host: "127.0.0.1:8000", status: 200, resource: "http://127.0.0.1:8000/api/mcp"},
		{name: "[::1]", host: "[::1]:8000", status: 200, resource: "http://[::1]:8000/api/mcp"},
		{name: "root document", path: auth.PathProtectedResource, host: "localhost:8000", status: 200, resource: "http://localhost:8000/api/mcp"},
		{name: "TLS", host: "localhost:8443", tls: true, status: 200, resource: "https://localhost:8443/api/mcp"},
		{name: "configured base URL wins", public: &auth.PublicURL{BaseURL: "https://mcp.example.com"}, host: "127.0.0.1:8000", status: 200, resource: "https://mcp.example.com/api/mcp"},
		{name: "http base URL behind a TLS proxy is advertised as https", public: &auth.PublicURL{BaseURL: "http://mcp.example.com", TrustedProxies: proxies}, remote: "10.1.2.3:5555", header: map[string]string{"X-Forwarded-Proto": "https"}, host: "mcp.example.com", status: 200, resource: "https://mcp.example.com/api/mcp"},
		{name: "trusted proxy", public: &auth.PublicURL{TrustedProxies: proxies, AllowedHosts: []string{"mcp.example.com"}}, remote: "10.1.2.3:5555", header: map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-Host": "mcp.example.com"}, host: "127.0.0.1:8000", status: 200, resource: "https://mcp.example.com/api/mcp"},
		{name: "untrusted proxy headers are ignored", public: &auth.PublicURL{TrustedProxies: proxies}, remote: "192.0.2.9:5555", header: map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example.net"}, host: "127.0.0.1:8000", status: 200, resource: "http://127.0.0.1:8000/api/mcp"},
		{name: "a trusted proxy's forwarded host must still be allowed", public: &auth.PublicURL{TrustedProxies: proxies}, remote: "10.1.2.3:5555", header: map[string]string{"X-Forwarded-Host": "evil.example.net"}, host: "127.0.0.1:8000", status: 400},
		{name: "non-loopback host without a base URL", host: "192.0.2.1:8000", status: 400},
		{name: "allowed host without a base URL", public: &auth.PublicURL{AllowedHosts: []string{"mcp.example.com"}}, host: "mcp.example.com", status: 200, resource: "http://mcp.example.com/api/mcp"},
		{name: "another path", path: auth.PathProtectedResource + "/other", host: "localhost:8000", status: 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pub := tc.public
			if pub == nil {
				pub = &auth.PublicURL{}
			}
			pub.MCPPath = "/api/mcp"
			h := &auth.ResourceMetadata{
				Public:               pub,
				AuthorizationServers: func(*http.Request) ([]string, error) { return []string{"https://example.authkit.app"}, nil },
				Scopes:               []string{"openid"},
				Name:                 "Atoms MCP server",
			}
			path := tc.path
			if path == "" {
				path = auth.PathProtectedResource + "/api/mcp"
			}
			r := httptest.NewRequest(http.MethodGet, path, nil)
			r.Host = tc.host
			if tc.remote != "" {
				r.RemoteAddr = tc.remote
			}
			for k, v := range tc.header {
				r.Header.Set(k, v)
			}
			if tc.tls {
				r.TLS = &tls.ConnectionState{}
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.status, w.Body)
			}
			if tc.status == 400 && !strings.Contains(w.Body.String(), "ATOMCP_BASE_URL") {
				t.Errorf("the refusal does not ask for ATOMCP_BASE_URL: %s", w.Body)
			}
			if tc.status != 200 {
				return
			}
			var doc map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil {
				t.Fatal(err)
			}
			if doc["resource"] != tc.resource {
				t.Errorf("resource %v, want %s", doc["resource"], tc.resource)
			}
			want := `{"authorization_servers":["https://example.authkit.app"],"bearer_methods_supported":["header"],"resource_name":"Atoms MCP server","scopes_supported":["openid"]}`
			delete(doc, "resource")
			if b, _ := json.Marshal(doc); string(b) != want {
				t.Errorf("document %s, want %s", b, want)
			}
		})
	}
}

// TestASMetadataForwarding: forwarded unchanged, cached, served stale
// when the upstream fails, 502 naming the upstream when nothing is cached.
func TestASMetadataForwarding(t *testing.T) {
	is := authtest.NewIssuer(t)
	p := auth.NewASMetadataProxy(is.URL, "/api/mcp", nil, 0, nil)
	get := func(path string) (int, map[string]any, string) {
		r := httptest.NewRequest(http.MethodGet, path, nil)
		w := httptest.NewRecorder()
		p.ServeHTTP(w, r)
		var doc map[string]any
		_ = json.Unmarshal(w.Body.Bytes(), &doc)
		return w.Code, doc, w.Body.String()
	}
	code, doc, _ := get(auth.PathAuthServer)
	if code != 200 || doc["issuer"] != is.URL || doc["registration_endpoint"] != is.URL+"/oauth2/register" {
		t.Fatalf("forwarded %d %v", code, doc)
	}
	if code, _, _ := get(auth.PathAuthServer + "/api/mcp"); code != 200 {
		t.Errorf("path-suffixed form: %d", code)
	}
	if n := is.MetadataRequests.Load(); n != 1 {
		t.Errorf("%d upstream fetches for two requests, want 1 (cached)", n)
	}
	if code, _, _ := get(auth.PathAuthServer + "/elsewhere"); code != 404 {
		t.Errorf("unknown suffix: %d", code)
	}

	is.SetMetadataDown(true)
	// openid-configuration was never fetched: nothing to fall back on.
	code, _, body := get(auth.PathOpenIDConfig)
	if code != 502 || !strings.Contains(body, is.URL+"/.well-known/openid-configuration") {
		t.Errorf("upstream down, nothing cached: %d %s", code, body)
	}

	// Stale copy: a proxy whose TTL has passed still serves what it has.
	p2 := auth.NewASMetadataProxy(is.URL, "/api/mcp", nil, 1, nil) // 1ns TTL
	is.SetMetadataDown(false)
	r := httptest.NewRequest(http.MethodGet, auth.PathAuthServer, nil)
	w := httptest.NewRecorder()
	p2.ServeHTTP(w, r)
	if w.Code != 200 {
		t.Fatalf("first fetch %d", w.Code)
	}
	is.SetMetadataDown(true)
	w = httptest.NewRecorder()
	p2.ServeHTTP(w, httptest.NewRequest(http.MethodGet, auth.PathAuthServer, nil))
	if w.Code != 200 || !strings.Contains(w.Body.String(), is.URL) {
		t.Errorf("stale copy not served: %d %s", w.Code, w.Body)
	}
}

func TestDiscoverJWKS(t *testing.T) {
	is := authtest.NewIssuer(t)
	got, err := auth.DiscoverJWKS(t.Context(), nil, is.URL)
	if err != nil || got != is.URL+"/oauth2/jwks" {
		t.Fatalf("DiscoverJWKS = %q, %v", got, err)
	}
	// The document names a different issuer: refused.
	if _, err := auth.DiscoverJWKS(t.Context(), nil, is.URL+"/tenant"); err == nil {
		t.Errorf("a document of another issuer was accepted")
	}
	if _, err := auth.DiscoverJWKS(t.Context(), nil, "http://example.com"); err == nil || !strings.Contains(err.Error(), "https") {
		t.Errorf("plain http to a public host was fetched: %v", err)
	}
}

// TestOIDCProvider builds the oidc provider, which finds its keys through
// discovery, and accepts a token.
func TestOIDCProvider(t *testing.T) {
	is := authtest.NewIssuer(t)
	p := newProvider(t, is, func(s *auth.Settings) { s.Provider = auth.ProviderOIDC })
	res := send(t, p.Middleware.Wrap(echo), http.MethodPost, "http://"+host+"/api/mcp", bearer(is.Mint(t, is.Claims("u", resource))), "{}")
	if res.status != 200 {
		t.Fatalf("oidc: %d %v", res.status, res.challenge)
	}
}

// TestFetchLimits: the client for identity-provider documents follows no
// redirect and reads at most 1 MiB.
func TestFetchLimits(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/redirect/.well-known/openid-configuration":
			http.Redirect(w, r, "http://169.254.169.254/latest", http.StatusFound)
		case "/huge/.well-known/openid-configuration":
			w.Write([]byte(`{"issuer":"` + strings.Repeat("x", 2<<20) + `"}`))
		}
	}))
	defer srv.Close()
	for _, path := range []string{"/redirect", "/huge"} {
		if _, err := auth.DiscoverJWKS(t.Context(), nil, srv.URL+path); err == nil {
			t.Errorf("%s: discovery succeeded", path)
		}
	}
}
