package authserver

import (
	"net/http"
	"slices"
	"testing"
)

func TestMetadata(t *testing.T) {
	h := newHarness(t)
	for _, path := range []string{PathMetadata, PathOpenIDMetadata} {
		t.Run(path, func(t *testing.T) {
			r := h.get(h.ts.URL + path)
			if r.status != http.StatusOK || r.header.Get("Content-Type") != "application/json" {
				t.Fatalf("%d %s", r.status, r.header.Get("Content-Type"))
			}
			m := r.json(t)
			iss := h.ts.URL
			want := map[string]any{
				"issuer": iss, "authorization_endpoint": iss + PathAuthorize, "token_endpoint": iss + PathToken,
				"registration_endpoint": iss + PathRegister, "revocation_endpoint": iss + PathRevoke, "jwks_uri": iss + PathJWKS,
				"client_id_metadata_document_supported": true, "authorization_response_iss_parameter_supported": true,
			}
			for k, v := range want {
				if m[k] != v {
					t.Errorf("%s = %v; want %v", k, m[k], v)
				}
			}
			lists := map[string][]string{
				"code_challenge_methods_supported":      {"S256"},
				"response_types_supported":              {"code"},
				"grant_types_supported":                 {"authorization_code", "refresh_token"},
				"token_endpoint_auth_methods_supported": {"none", "client_secret_basic", "client_secret_post"},
				"scopes_supported":                      {"atoms:read", "atoms:write", "offline_access"},
			}
			for k, v := range lists {
				var got []string
				for _, x := range m[k].([]any) {
					got = append(got, x.(string))
				}
				if !slices.Equal(got, v) {
					t.Errorf("%s = %v; want %v", k, got, v)
				}
			}
		})
	}
}

func TestMetadataUnderIssuerPath(t *testing.T) {
	h := newHarness(t)
	srv, err := New(t.Context(), Options{Issuer: "https://example.com/atoms", Resource: "https://example.com/atoms/api/mcp", Store: h.st})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := srv.Routes()[PathMetadata+"/atoms"]; !ok {
		t.Errorf("routes %v lack the path-suffixed metadata URL (RFC 8414 §3.1)", srv.Routes())
	}
}

func TestNewRefusesBadIssuer(t *testing.T) {
	h := newHarness(t)
	for _, iss := range []string{"", "example.com", "https://example.com/", "https://example.com?x=1", "ftp://example.com"} {
		if _, err := New(t.Context(), Options{Issuer: iss, Resource: "https://example.com/api/mcp", Store: h.st}); err == nil {
			t.Errorf("New accepted issuer %q", iss)
		}
	}
}
