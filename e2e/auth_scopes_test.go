package e2e

import (
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/oauthex"

	"github.com/atomcp/atomcp/internal/auth/authtest"
)

// TestToolScopesAgainstTheBinary: with ATOMCP_SCOPE_READ/WRITE set, a
// read-only token may call reading tools, and a writing call gets an HTTP
// 403 insufficient_scope naming the scopes to step up to.
func TestToolScopesAgainstTheBinary(t *testing.T) {
	is := authtest.NewIssuer(t)
	addr := freeAddr(t)
	srv := startServerEnv(t, t.TempDir(), "http://"+addr, "ATOMCP_ADDR="+addr, "ATOMCP_AUTH=authkit",
		"ATOMCP_AUTHKIT_DOMAIN="+is.URL, "ATOMCP_SCOPE_READ=atoms:read", "ATOMCP_SCOPE_WRITE=atoms:write")
	claims := is.Claims("reader", srv.URL)
	claims["scope"] = "atoms:read"
	auth := "Bearer " + is.Mint(t, claims)

	init := rawPost(t, srv.URL, map[string]string{"Authorization": auth}, initializeBody)
	session := init.Header.Get("Mcp-Session-Id")
	if init.StatusCode != 200 || session == "" {
		t.Fatalf("initialize: %d", init.StatusCode)
	}
	hdr := map[string]string{"Authorization": auth, "Mcp-Session-Id": session, "MCP-Protocol-Version": "2025-11-25"}
	call := func(args string) string {
		return `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"entity_tool","arguments":` + args + `}}`
	}
	if r := rawPost(t, srv.URL, hdr, call(`{"entity_type":"organization","operation":"list"}`)); r.StatusCode != 200 {
		t.Errorf("a read with the read scope: %d", r.StatusCode)
	}
	r := rawPost(t, srv.URL, hdr, call(`{"entity_type":"organization","operation":"create","data":{"name":"X"}}`))
	chs, err := oauthex.ParseWWWAuthenticate(r.Header.Values("WWW-Authenticate"))
	if r.StatusCode != 403 || err != nil || len(chs) != 1 {
		t.Fatalf("a write with the read scope: %d %q", r.StatusCode, r.Header.Get("WWW-Authenticate"))
	}
	p := chs[0].Params
	if p["error"] != "insufficient_scope" || p["scope"] != "atoms:read atoms:write" || !strings.Contains(p["error_description"], "entity_tool create") ||
		p["resource_metadata"] != srv.Base+"/.well-known/oauth-protected-resource/api/mcp" {
		t.Errorf("challenge %v", p)
	}
}
