package authserver

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/atomcp/atomcp/internal/netaddr"
)

func TestRegister(t *testing.T) {
	h := newHarness(t)
	t.Run("public", func(t *testing.T) {
		r := h.postJSON(PathRegister, "application/json",
			`{"redirect_uris":["http://127.0.0.1/cb","cursor://anysphere.cursor-retrieval/oauth/cb"],"token_endpoint_auth_method":"none","client_name":"Cursor","unknown_field":1}`)
		if r.status != http.StatusCreated {
			t.Fatalf("%d %s", r.status, r.body)
		}
		m := r.json(t)
		if m["client_id"] == "" || m["client_secret"] != nil {
			t.Errorf("public client: id %v, secret %v; want an id and no secret", m["client_id"], m["client_secret"])
		}
		if m["application_type"] != "native" || m["token_endpoint_auth_method"] != "none" {
			t.Errorf("application_type %v, method %v", m["application_type"], m["token_endpoint_auth_method"])
		}
		if g := m["grant_types"].([]any); len(g) != 2 {
			t.Errorf("grant_types = %v; want both grants by default", g)
		}
		if r.header.Get("Cache-Control") != "no-store" {
			t.Error("registration response may be cached")
		}
		// Registrations persist.
		if _, err := h.st.GetOAuthClient(t.Context(), m["client_id"].(string)); err != nil {
			t.Error(err)
		}
	})
	t.Run("confidential by default", func(t *testing.T) {
		r := h.postJSON(PathRegister, "application/json; charset=utf-8", `{"redirect_uris":["https://app.example/cb"]}`)
		m := r.json(t)
		if r.status != http.StatusCreated || m["client_secret"] == nil || m["token_endpoint_auth_method"] != "client_secret_basic" {
			t.Fatalf("%d %v", r.status, m)
		}
		if v, ok := m["client_secret_expires_at"]; !ok || v != 0.0 {
			t.Errorf("client_secret_expires_at = %v; want 0 (never)", v)
		}
		c, _ := h.st.GetOAuthClient(t.Context(), m["client_id"].(string))
		if c.SecretHash == m["client_secret"] || c.SecretHash == "" {
			t.Error("the client secret is stored in the clear")
		}
	})
}

func TestRegisterBadInput(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		name, contentType, body string
		status                  int
		code                    string
		words                   []string
	}{
		{"not JSON", "application/json", `redirect_uris=x`, 400, "invalid_client_metadata", []string{"JSON"}},
		{"JSON array", "application/json", `[1,2]`, 400, "invalid_client_metadata", nil},
		{"wrong content type", "application/x-www-form-urlencoded", `{}`, 400, "invalid_request", []string{"application/json"}},
		{"too large", "application/json", `{"client_name":"` + strings.Repeat("x", 70<<10) + `"}`, 413, "invalid_client_metadata", []string{"64 KiB"}},
		{"no redirect URIs", "application/json", `{"client_name":"x"}`, 400, "invalid_redirect_uri", []string{"redirect_uris is required"}},
		{"fragment", "application/json", `{"redirect_uris":["https://a.example/cb#x"]}`, 400, "invalid_redirect_uri", []string{"fragment"}},
		{"wildcard", "application/json", `{"redirect_uris":["https://*.example/cb"]}`, 400, "invalid_redirect_uri", []string{"wildcard"}},
		{"javascript", "application/json", `{"redirect_uris":["javascript:alert(1)"]}`, 400, "invalid_redirect_uri", []string{"javascript"}},
		{"data", "application/json", `{"redirect_uris":["data:text/html,hi"]}`, 400, "invalid_redirect_uri", []string{"data"}},
		{"http not loopback", "application/json", `{"redirect_uris":["http://evil.example/cb"]}`, 400, "invalid_redirect_uri", []string{"loopback"}},
		{"relative", "application/json", `{"redirect_uris":["/cb"]}`, 400, "invalid_redirect_uri", []string{"not absolute"}},
		{"userinfo", "application/json", `{"redirect_uris":["https://u:p@a.example/cb"]}`, 400, "invalid_redirect_uri", []string{"user"}},
		{"web with private scheme", "application/json", `{"redirect_uris":["myapp:/cb"],"application_type":"web"}`, 400, "invalid_redirect_uri", []string{"native"}},
		{"auth method", "application/json", `{"redirect_uris":["https://a.example/cb"],"token_endpoint_auth_method":"private_key_jwt"}`, 400, "invalid_client_metadata", []string{"private_key_jwt"}},
		{"grant type", "application/json", `{"redirect_uris":["https://a.example/cb"],"grant_types":["client_credentials"]}`, 400, "invalid_client_metadata", []string{"client_credentials"}},
		{"response type", "application/json", `{"redirect_uris":["https://a.example/cb"],"response_types":["token"]}`, 400, "invalid_client_metadata", []string{"code"}},
		{"scope", "application/json", `{"redirect_uris":["https://a.example/cb"],"scope":"admin"}`, 400, "invalid_client_metadata", []string{"admin"}},
		{"client_uri", "application/json", `{"redirect_uris":["https://a.example/cb"],"client_uri":"javascript:x"}`, 400, "invalid_client_metadata", []string{"https"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := h.postJSON(PathRegister, tc.contentType, tc.body)
			r.oauthErr(t, tc.status, tc.code, tc.words...)
		})
	}
	clients, _ := h.st.ListOAuthClients(t.Context())
	if len(clients) != 0 {
		t.Errorf("%d clients stored from bad registrations", len(clients))
	}
}

func TestRegisterRateLimit(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.DCRBurst, o.DCRInterval = 3, 10*time.Second })
	body := `{"redirect_uris":["http://127.0.0.1/cb"],"token_endpoint_auth_method":"none"}`
	for i := range 3 {
		if r := h.postJSON(PathRegister, "application/json", body); r.status != http.StatusCreated {
			t.Fatalf("registration %d: %d", i, r.status)
		}
	}
	r := h.postJSON(PathRegister, "application/json", body)
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		t.Fatalf("fourth registration: %d, Retry-After %q; want 429 with Retry-After", r.status, r.header.Get("Retry-After"))
	}
	var e map[string]string
	_ = json.Unmarshal([]byte(r.body), &e)
	if !strings.Contains(e["error_description"], "try again") {
		t.Errorf("description %q", e["error_description"])
	}
	// The window is DCRBurst×DCRInterval (30 s here); the next one starts afresh.
	h.clock.Advance(30 * time.Second)
	if r := h.postJSON(PathRegister, "application/json", body); r.status != http.StatusCreated {
		t.Errorf("after waiting: %d; want 201", r.status)
	}
}

// TestRateLimitsAreSharedByReplicas: a second server on the same database
// (another replica) counts into the same budget, and the token endpoint has
// its own limit.
func TestRateLimitsAreSharedByReplicas(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.DCRBurst, o.DCRInterval = 2, 10*time.Second })
	other, err := New(t.Context(), h.opts) // another replica: same store, same options
	if err != nil {
		t.Fatal(err)
	}
	body := `{"redirect_uris":["http://127.0.0.1/cb"],"token_endpoint_auth_method":"none"}`
	for i := range 2 {
		if r := h.postJSON(PathRegister, "application/json", body); r.status != http.StatusCreated {
			t.Fatalf("registration %d: %d", i, r.status)
		}
	}
	req := httptest.NewRequest(http.MethodPost, PathRegister, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.RemoteAddr = "127.0.0.1:5555" // the harness's client address
	w := httptest.NewRecorder()
	other.ServeHTTP(w, req)
	if w.Code != http.StatusTooManyRequests {
		t.Fatalf("third registration through another replica: %d; want 429", w.Code)
	}

	var last int
	for range tokenRequestsPerMinute + 1 {
		last = h.postForm(PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"nope"}, "client_id": {"nope"}}).status
	}
	if last != http.StatusTooManyRequests {
		t.Fatalf("token request %d in a minute: %d; want 429", tokenRequestsPerMinute+1, last)
	}
}

// TestRateLimitIsKeyedByTheClientAddress: the budget belongs to the client
// address the HTTP server found (netaddr.WithClient, set from a trusted
// proxy's X-Forwarded-For), not to the socket's peer, which behind a
// proxy is the proxy for everyone.
func TestRateLimitIsKeyedByTheClientAddress(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.DCRBurst, o.DCRInterval = 1, 10*time.Second })
	body := `{"redirect_uris":["http://127.0.0.1/cb"],"token_endpoint_auth_method":"none"}`
	register := func(client string) int {
		req := httptest.NewRequest(http.MethodPost, PathRegister, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.RemoteAddr = "10.0.0.1:5555" // the proxy
		req = req.WithContext(netaddr.WithClient(req.Context(), netip.MustParseAddr(client)))
		w := httptest.NewRecorder()
		h.srv.ServeHTTP(w, req)
		return w.Code
	}
	if c := register("198.51.100.1"); c != http.StatusCreated {
		t.Fatalf("first client: %d", c)
	}
	if c := register("198.51.100.1"); c != http.StatusTooManyRequests {
		t.Fatalf("first client again: %d; want 429", c)
	}
	if c := register("198.51.100.2"); c != http.StatusCreated {
		t.Fatalf("second client behind the same proxy: %d; want 201 (its own budget)", c)
	}
}
