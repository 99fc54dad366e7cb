package e2e

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/modelcontextprotocol/go-sdk/oauthex"

	"github.com/atomcp/atomcp/internal/auth/authtest"
)

// TestTokenMatrixAgainstTheBinary sends malformed, forged, expired,
// misdirected and under-scoped tokens (the table below) to the real server
// configured by the old .env and checks each refusal: status, RFC 6750
// error code, and a challenge that points at the metadata.
func TestTokenMatrixAgainstTheBinary(t *testing.T) {
	is, srv := authkitServer(t)
	valid := func() jwt.MapClaims { return is.Claims("user_m", srv.URL) }
	with := func(k string, v any) string {
		c := valid()
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return is.Mint(t, c)
	}
	good := is.Mint(t, valid())
	parts := strings.Split(good, ".")
	pubDER, _ := x509.MarshalPKIXPublicKey(&is.Key.PublicKey)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	forged := valid()
	forged["sub"] = "someone_else"
	forgedPayload, _ := json.Marshal(forged)
	hour := time.Hour
	b := func(tok string) string { return "Bearer " + tok }

	cases := []struct {
		name   string
		auth   string // Authorization header; "" for none
		query  string
		status int
		code   string
	}{
		{"no token", "", "", 401, ""},
		{"Bearer with nothing", "Bearer", "", 401, "invalid_token"},
		{"Bearer and a space", "Bearer ", "", 401, "invalid_token"},
		{"Basic credentials", "Basic dXNlcjpwYXNz", "", 401, ""},
		{"token in the query string", "", "?access_token=" + good, 400, "invalid_request"},
		{"alg none", b(authtest.Sign(t, jwt.SigningMethodNone, is.KID, jwt.UnsafeAllowNoneSignatureType, valid())), "", 401, "invalid_token"},
		{"HS256 signed with the issuer's public key", b(authtest.Sign(t, jwt.SigningMethodHS256, is.KID, pubPEM, valid())), "", 401, "invalid_token"},
		{"unknown kid", b(authtest.Sign(t, jwt.SigningMethodRS256, "unknown-kid", is.Key, valid())), "", 401, "invalid_token"},
		{"bad signature", b(parts[0] + "." + base64.RawURLEncoding.EncodeToString(forgedPayload) + "." + parts[2]), "", 401, "invalid_token"},
		{"second key pair, same kid", b(authtest.Sign(t, jwt.SigningMethodRS256, is.KID, authtest.NewKey(t), valid())), "", 401, "invalid_token"},
		{"expired", b(with("exp", time.Now().Add(-hour).Unix())), "", 401, "invalid_token"},
		{"not yet valid", b(with("nbf", time.Now().Add(hour).Unix())), "", 401, "invalid_token"},
		{"issued in the future", b(with("iat", time.Now().Add(hour).Unix())), "", 401, "invalid_token"},
		{"wrong iss", b(with("iss", "https://other.authkit.app")), "", 401, "invalid_token"},
		{"wrong aud", b(with("aud", "client_01EXAMPLE")), "", 401, "invalid_token"},
		{"aud of another MCP server", b(with("aud", "https://mcp.other.example/api/mcp")), "", 401, "invalid_token"},
		{"missing exp", b(with("exp", nil)), "", 401, "invalid_token"},
		{"missing sub", b(with("sub", nil)), "", 401, "invalid_token"},
		{"a required scope missing", b(with("scope", "openid profile")), "", 403, "insufficient_scope"},
		{"no scope at all", b(with("scope", nil)), "", 403, "insufficient_scope"},
		{"broken base64", b(parts[0] + ".!!!." + parts[2]), "", 401, "invalid_token"},
		{"JWE", b("eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.ZW5j.aXY.Y2lwaGVy.dGFn"), "", 401, "invalid_token"},
		{"opaque token", b("sk_live_0123456789"), "", 401, "invalid_token"},
		{"a JWT of 20 KB", b(parts[0] + "." + strings.Repeat("A", 20<<10) + "." + parts[2]), "", 401, "invalid_token"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			hdr := map[string]string{}
			if tc.auth != "" {
				hdr["Authorization"] = tc.auth
			}
			resp := rawPost(t, srv.URL+tc.query, hdr, initializeBody)
			if resp.StatusCode != tc.status {
				body, _ := io.ReadAll(resp.Body)
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			chs, err := oauthex.ParseWWWAuthenticate(resp.Header.Values("WWW-Authenticate"))
			if err != nil || len(chs) != 1 || chs[0].Scheme != "bearer" {
				t.Fatalf("challenge %q: %v", resp.Header.Get("WWW-Authenticate"), err)
			}
			p := chs[0].Params
			if p["error"] != tc.code {
				t.Errorf("error=%q, want %q", p["error"], tc.code)
			}
			if tc.code != "" && p["error_description"] == "" {
				t.Errorf("no error_description")
			}
			if p["resource_metadata"] != srv.Base+"/.well-known/oauth-protected-resource/api/mcp" {
				t.Errorf("resource_metadata=%q", p["resource_metadata"])
			}
			if p["scope"] != "openid profile email" {
				t.Errorf("scope=%q, want every required scope", p["scope"])
			}
		})
	}
	if len(cases) < 20 {
		t.Fatal("the matrix must have at least 20 tokens")
	}

	// A JWT of 1 MB never reaches a handler: the header limit answers 431.
	t.Run("a JWT of 1 MB", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(initializeBody))
		req.Header.Set("Authorization", "Bearer "+parts[0]+"."+strings.Repeat("A", 1<<20)+"."+parts[2])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("the server dropped the connection instead of answering: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("status %d, want 431", resp.StatusCode)
		}
	})

	// No refusal put a token in the log.
	srv.syncLog(t)
	logs := strings.Join(srv.stderr.all, "\n")
	if strings.Contains(logs, parts[2]) || strings.Contains(logs, "sk_live_0123456789") {
		t.Errorf("a token reached the log")
	}
}

// TestJWKSOutageAgainstTheBinary: when the AuthKit JWKS goes down, tokens
// signed with keys already fetched keep working, and a token with an
// unknown kid gets 401, not 500.
func TestJWKSOutageAgainstTheBinary(t *testing.T) {
	is, srv := authkitServer(t)
	cs, err := connectWithToken(t, srv.URL, is.Mint(t, is.Claims("user_o", srv.URL)))
	if err != nil {
		t.Fatal(err)
	}
	is.SetJWKSDown(true)
	if _, err := cs.ListTools(t.Context(), nil); err != nil {
		t.Fatalf("tools/list during the JWKS outage: %v", err)
	}
	if _, err := connectWithToken(t, srv.URL, is.Mint(t, is.Claims("user_p", srv.URL))); err != nil {
		t.Fatalf("a new session during the JWKS outage: %v", err)
	}
	unknown := authtest.Sign(t, jwt.SigningMethodRS256, "kid-after-rotation", is.Key, is.Claims("user_o", srv.URL))
	resp := rawPost(t, srv.URL, map[string]string{"Authorization": "Bearer " + unknown}, initializeBody)
	if resp.StatusCode != 401 || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Errorf("unknown kid during the outage: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
}

// TestLoopbackAliases: with no base URL configured, each client sees the
// URL it connected to as "resource", and a token issued for one loopback
// name of the server is good at the other.
func TestLoopbackAliases(t *testing.T) {
	is := authtest.NewIssuer(t)
	addr := freeAddr(t)
	_, port, _ := strings.Cut(addr, ":")
	startServerEnv(t, t.TempDir(), "http://"+addr, "ATOMCP_ADDR="+addr, "ATOMCP_AUTH=authkit", "ATOMCP_AUTHKIT_DOMAIN="+is.URL)
	for _, host := range []string{"localhost:" + port, "127.0.0.1:" + port} {
		u := "http://" + host + "/api/mcp"
		prm, err := oauthex.GetProtectedResourceMetadata(t.Context(), "http://"+host+"/.well-known/oauth-protected-resource/api/mcp", u, http.DefaultClient)
		if err != nil {
			t.Fatalf("%s: %v", host, err)
		}
		if prm.Resource != u {
			t.Errorf("resource %q at %s", prm.Resource, host)
		}
	}
	tok := is.Mint(t, is.Claims("user_l", "http://localhost:"+port+"/api/mcp"))
	cs, err := connectWithToken(t, "http://127.0.0.1:"+port+"/api/mcp", tok)
	if err != nil {
		t.Fatalf("a token for localhost at 127.0.0.1: %v", err)
	}
	if _, err := cs.ListTools(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
}
