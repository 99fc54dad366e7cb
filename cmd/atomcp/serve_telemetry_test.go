package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/atomcp/atomcp/internal/auth"
	"github.com/atomcp/atomcp/internal/auth/authtest"
	"github.com/atomcp/atomcp/internal/authserver/connector"
	"github.com/atomcp/atomcp/internal/httpserver"
	"github.com/atomcp/atomcp/internal/store/storeopen"
)

// readyz returns /readyz's status and body for a front with these checks.
func readyz(t *testing.T, opts httpserver.Options) (int, map[string]any) {
	t.Helper()
	front := httpserver.New(mcp.NewServer(&mcp.Implementation{Name: "t", Version: "1"}, nil), opts)
	for _, path := range []string{"/healthz", "/readyz"} {
		w := httptest.NewRecorder()
		front.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "http://127.0.0.1"+path, nil))
		if path == "/healthz" {
			if w.Code != http.StatusOK {
				t.Errorf("/healthz = %d; liveness must not depend on readiness", w.Code)
			}
			continue
		}
		var body map[string]any
		_ = json.Unmarshal(w.Body.Bytes(), &body)
		return w.Code, body
	}
	return 0, nil
}

func oidcProvider(t *testing.T, issuer string) *auth.Provider {
	t.Helper()
	p, err := auth.New(t.Context(), auth.Settings{Provider: auth.ProviderOIDC, Issuer: issuer, Algorithms: []string{"RS256"},
		Public: &auth.PublicURL{BaseURL: "http://127.0.0.1:8000", MCPPath: "/api/mcp"}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestReadyz: ready with the database up and the issuer's keys fetched;
// still ready when the issuer goes down afterwards (the keys are
// cached); 503 naming the reason when the keys were never fetched or the
// database is closed.
func TestReadyz(t *testing.T) {
	st, err := storeopen.Open(t.Context(), "sqlite://"+filepath.Join(t.TempDir(), "r.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}

	is := authtest.NewIssuer(t)
	up := oidcProvider(t, is.URL)
	if code, body := readyz(t, httpserver.Options{Ready: st.Ping, Checks: readyChecks(st, nil, up)}); code != 200 {
		t.Fatalf("issuer up: %d %v", code, body)
	}
	is.SetJWKSDown(true)
	is.SetMetadataDown(true)
	if code, body := readyz(t, httpserver.Options{Ready: st.Ping, Checks: readyChecks(st, nil, up)}); code != 200 {
		t.Fatalf("issuer down after the keys were fetched: %d %v; the cached keys should do", code, body)
	}

	down := oidcProvider(t, is.URL) // discovery fails: nothing cached
	code, body := readyz(t, httpserver.Options{Ready: st.Ping, Checks: readyChecks(st, nil, down)})
	if reason, _ := body["reason"].(string); code != http.StatusServiceUnavailable || !strings.HasPrefix(reason, "keys: ") || !strings.Contains(reason, "JWKS") {
		t.Fatalf("keys never fetched: %d %v; want 503 with a keys reason", code, body)
	}

	st.Close()
	code, body = readyz(t, httpserver.Options{Ready: st.Ping, Checks: readyChecks(st, nil, up)})
	if code != http.StatusServiceUnavailable || body["reason"] != "database did not answer" {
		t.Fatalf("database closed: %d %v", code, body)
	}
	if checks, _ := body["checks"].(map[string]any); checks["migrations"] != "ok" || checks["keys"] != "ok" || checks["database"] != "database did not answer" {
		t.Errorf("checks = %v", body["checks"])
	}
}

// fakeConnector is a sign-in provider whose Check fails while down.
type fakeConnector struct {
	connector.Connector
	down   bool
	checks int
}

func (f *fakeConnector) ID() string { return "fake" }
func (f *fakeConnector) Check(context.Context) error {
	f.checks++
	if f.down {
		return errors.New("discovery: connection refused")
	}
	return nil
}

// TestSigninCheck: an upstream provider that does not answer fails the
// check, and the provider is asked at most once per interval.
func TestSigninCheck(t *testing.T) {
	c := &fakeConnector{down: true}
	check := signinCheck([]connector.Connector{c}, time.Hour)
	for range 3 {
		if err := check(t.Context()); err == nil || !strings.Contains(err.Error(), "sign-in provider fake does not answer") {
			t.Fatalf("provider down: %v", err)
		}
	}
	if c.checks != 1 {
		t.Errorf("the provider was asked %d times within the interval; want 1", c.checks)
	}
	c.down = false
	if err := signinCheck([]connector.Connector{c}, time.Hour)(t.Context()); err != nil {
		t.Errorf("provider up: %v", err)
	}
}
