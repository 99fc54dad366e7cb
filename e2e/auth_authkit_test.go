package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/oauthex"

	"github.com/atomcp/atomcp/internal/auth/authtest"
)

// oldDotenv is a .env exactly in the shape of the Python server's, with
// the fake AuthKit's domain and this test's port filled in.
const oldDotenv = `# Authentication: WorkOS AuthKit
FASTMCP_SERVER_AUTH=fastmcp.server.auth.providers.workos.AuthKitProvider
FASTMCP_SERVER_AUTH_AUTHKITPROVIDER_AUTHKIT_DOMAIN={{domain}}
FASTMCP_SERVER_AUTH_AUTHKITPROVIDER_BASE_URL={{base}}
FASTMCP_SERVER_AUTH_AUTHKITPROVIDER_REQUIRED_SCOPES=["openid","profile","email"]
WORKOS_CLIENT_ID=client_01EXAMPLE
WORKOS_API_KEY=sk_test_example

# Server
ATOMS_FASTMCP_HOST=127.0.0.1
ATOMS_FASTMCP_PORT={{port}}
ATOMS_FASTMCP_HTTP_PATH=/api/mcp
ATOMS_FASTMCP_BASE_URL={{base}}
ATOMS_INTERNAL_TOKEN="internal-example-token"
LOG_LEVEL=INFO

# Supabase: the Go server keeps its own database
NEXT_PUBLIC_SUPABASE_URL=https://xyz.supabase.co
SUPABASE_SERVICE_ROLE_KEY=example
`

// authkitServer starts a fake AuthKit and atomcp with the old .env.
func authkitServer(t *testing.T) (*authtest.Issuer, *server) {
	t.Helper()
	is := authtest.NewIssuer(t)
	addr := freeAddr(t)
	base := "http://" + addr
	_, port, _ := strings.Cut(addr, ":")
	dir := t.TempDir()
	env := strings.NewReplacer("{{domain}}", is.URL, "{{base}}", base, "{{port}}", port).Replace(oldDotenv)
	if err := os.WriteFile(filepath.Join(dir, ".env"), []byte(env), 0o600); err != nil {
		t.Fatal(err)
	}
	return is, startServerEnv(t, dir, base)
}

// TestOldDotenvWithFakeAuthKit is the acceptance test of the old .env: the
// Python server's .env, unchanged, configures AuthKit; a client without a
// token is pointed at the right documents; a go-sdk client with an
// AuthKit token, and one with the internal token, initialize and list
// tools.
func TestOldDotenvWithFakeAuthKit(t *testing.T) {
	is, srv := authkitServer(t)

	// 401 with the challenge a client needs to start OAuth.
	resp := rawPost(t, srv.URL, nil, initializeBody)
	challenge := resp.Header.Get("WWW-Authenticate")
	chs, err := oauthex.ParseWWWAuthenticate([]string{challenge})
	if resp.StatusCode != 401 || err != nil || len(chs) != 1 {
		t.Fatalf("no token: %d %q", resp.StatusCode, challenge)
	}
	metaURL := srv.Base + "/.well-known/oauth-protected-resource/api/mcp"
	if chs[0].Params["resource_metadata"] != metaURL || chs[0].Params["scope"] != "openid profile email" || chs[0].Params["error"] != "" {
		t.Errorf("challenge %q", challenge)
	}

	// RFC 9728 document at both places, with this server as resource and
	// AuthKit as authorization server; go-sdk's client-side checks pass.
	for _, u := range []string{metaURL, srv.Base + "/.well-known/oauth-protected-resource"} {
		prm, err := oauthex.GetProtectedResourceMetadata(t.Context(), u, srv.URL, http.DefaultClient)
		if err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		if !slices.Equal(prm.AuthorizationServers, []string{is.URL}) || !slices.Equal(prm.BearerMethodsSupported, []string{"header"}) ||
			!slices.Equal(prm.ScopesSupported, []string{"openid", "profile", "email"}) || prm.ResourceName == "" {
			t.Errorf("%s: %+v", u, prm)
		}
	}

	// The AuthKit metadata, forwarded for 2025-03-26 clients, issuer unchanged.
	for _, path := range []string{"/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"} {
		r, err := http.Get(srv.Base + path)
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		_ = json.NewDecoder(r.Body).Decode(&doc)
		r.Body.Close()
		if r.StatusCode != 200 || doc["issuer"] != is.URL || doc["registration_endpoint"] != is.URL+"/oauth2/register" {
			t.Errorf("%s: %d %v", path, r.StatusCode, doc)
		}
	}

	// A go-sdk client with an AuthKit token.
	claims := is.Claims("user_01ADA", srv.URL)
	claims["email"], claims["email_verified"], claims["name"] = "ada@example.com", true, "Ada Lovelace"
	cs, err := connectWithToken(t, srv.URL, is.Mint(t, claims))
	if err != nil {
		t.Fatalf("connect with an AuthKit token: %v", err)
	}
	tools, err := cs.ListTools(t.Context(), nil)
	if err != nil || len(tools.Tools) < 2 {
		t.Fatalf("tools/list: %v %v", tools, err)
	}
	// The verified subject became an Atoms user with a personal organization.
	ws := mustCall(t, cs, "workspace_tool", map[string]any{"operation": "list_workspaces"})
	if b, _ := json.Marshal(ws); !strings.Contains(string(b), "personal") {
		t.Errorf("list_workspaces of a new AuthKit user: %s", b)
	}

	// The internal token of the old .env works beside AuthKit.
	ics, err := connectWithToken(t, srv.URL, "internal-example-token")
	if err != nil {
		t.Fatalf("connect with ATOMS_INTERNAL_TOKEN: %v", err)
	}
	if _, err := ics.ListTools(t.Context(), nil); err != nil {
		t.Fatalf("tools/list with the internal token: %v", err)
	}

	// No secret is in the log.
	srv.syncLog(t)
	logs := strings.Join(srv.stderr.all, "\n")
	for _, secret := range []string{"internal-example-token", "sk_test_example"} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log contains the secret %q", secret)
		}
	}
}

// TestSessionsAreBoundToTheirUser: a session opened with one user's token
// cannot be used with another's (go-sdk checks TokenInfo.UserID).
func TestSessionsAreBoundToTheirUser(t *testing.T) {
	is, srv := authkitServer(t)
	alice := "Bearer " + is.Mint(t, is.Claims("alice", srv.URL))
	bob := "Bearer " + is.Mint(t, is.Claims("bob", srv.URL))
	resp := rawPost(t, srv.URL, map[string]string{"Authorization": alice}, initializeBody)
	session := resp.Header.Get("Mcp-Session-Id")
	if resp.StatusCode != 200 || session == "" {
		t.Fatalf("initialize: %d, session %q", resp.StatusCode, session)
	}
	list := `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`
	hdr := func(auth string) map[string]string {
		return map[string]string{"Authorization": auth, "Mcp-Session-Id": session, "MCP-Protocol-Version": "2025-11-25"}
	}
	if r := rawPost(t, srv.URL, hdr(bob), list); r.StatusCode != http.StatusForbidden {
		t.Errorf("bob used alice's session: %d", r.StatusCode)
	}
	if r := rawPost(t, srv.URL, hdr(alice), list); r.StatusCode != 200 {
		t.Errorf("alice's own session: %d", r.StatusCode)
	}
}
