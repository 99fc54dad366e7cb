package auth_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/atomcp/atomcp/internal/atoms/tools"
	"github.com/atomcp/atomcp/internal/auth"
	"github.com/atomcp/atomcp/internal/auth/authtest"
)

// BenchmarkWrapToolCall is the bearer check of one tools/call with a JWT
// and per-tool scopes: the token path of every tool call.
func BenchmarkWrapToolCall(b *testing.B) {
	is := authtest.NewIssuer(b)
	p := newProvider(b, is, func(s *auth.Settings) {
		s.RequiredScopes = nil
		s.Tools = toolScopes
	})
	h := p.Middleware.Wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	claims := is.Claims("u", resource)
	claims["scope"] = "atoms:read"
	header := "Bearer " + is.Mint(b, claims)
	body := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"entity_tool","arguments":{"operation":"read","entity_type":"project","entity_id":"Apollo"}}}`
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest(http.MethodPost, "http://"+host+"/api/mcp", strings.NewReader(body))
		r.Host = host
		r.Header.Set("Authorization", header)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 200 {
			b.Fatalf("status %d", w.Code)
		}
	}
}

var toolScopes = auth.ScopePolicy{Read: "atoms:read", Write: "atoms:write", Access: tools.CallAccess}
