package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// An AuthKit without DCR and without CIMD: start-up gives both fixes.
func TestAuthKitRegistrationAdvice(t *testing.T) {
	meta := `{"issuer":"x","authorization_endpoint":"x/oauth2/authorize"}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/oauth-authorization-server" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(meta))
	}))
	defer srv.Close()
	advice := authKitRegistrationAdvice(t.Context(), srv.Client(), srv.URL)
	for _, want := range []string{"client_registration", "enable Dynamic Client Registration", "ATOMCP_AUTH=embedded", "WORKOS_CLIENT_ID", "/oauth/callback"} {
		if !strings.Contains(advice, want) {
			t.Errorf("advice does not say %q: %s", want, advice)
		}
	}
	meta = `{"issuer":"x","registration_endpoint":"x/oauth2/register"}`
	if a := authKitRegistrationAdvice(t.Context(), srv.Client(), srv.URL); a != "" {
		t.Errorf("advice with DCR on: %s", a)
	}
	meta = `{"issuer":"x","client_id_metadata_document_supported":true}`
	if a := authKitRegistrationAdvice(t.Context(), srv.Client(), srv.URL); a != "" {
		t.Errorf("advice with CIMD: %s", a)
	}
}
