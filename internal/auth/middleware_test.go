package auth_test

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	sdkauth "github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/oauthex"

	"github.com/atomcp/atomcp/internal/auth"
	"github.com/atomcp/atomcp/internal/auth/authtest"
	"github.com/atomcp/atomcp/internal/domain"
)

const (
	host        = "127.0.0.1:8000"
	resource    = "http://127.0.0.1:8000/api/mcp"
	metadataURL = "http://127.0.0.1:8000/.well-known/oauth-protected-resource/api/mcp"
	staticToken = "static-secret-token"
)

// newProvider builds an authkit provider against the fake issuer, with a
// static token beside it and openid required, as the old .env did.
func newProvider(t testing.TB, is *authtest.Issuer, mod func(*auth.Settings)) *auth.Provider {
	t.Helper()
	s := auth.Settings{
		Provider:       auth.ProviderAuthKit,
		Issuer:         is.URL,
		RequiredScopes: []string{"openid"},
		StaticTokens:   map[string]string{"ci": staticToken},
		Public:         &auth.PublicURL{MCPPath: "/api/mcp"},
	}
	if mod != nil {
		mod(&s)
	}
	p, err := auth.New(t.Context(), s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// echo answers 200 with go-sdk's TokenInfo as JSON, proving the
// middleware installed it where go-sdk's handler looks.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	info := sdkauth.TokenInfoFromContext(r.Context())
	_ = json.NewEncoder(w).Encode(map[string]any{"info": info, "body": string(body),
		"authorization": r.Header.Values("Authorization"), "accept": r.Header.Get("Accept")})
})

type response struct {
	status    int
	challenge map[string]string // parsed WWW-Authenticate params; "" key for scheme
	body      map[string]any
}

func send(t *testing.T, h http.Handler, method, target string, header http.Header, body string) response {
	t.Helper()
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	r.Host = host
	for k, vs := range header {
		for _, v := range vs {
			r.Header.Add(k, v)
		}
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	res := response{status: w.Code}
	if c := w.Header().Get("WWW-Authenticate"); c != "" {
		chs, err := oauthex.ParseWWWAuthenticate([]string{c})
		if err != nil || len(chs) != 1 {
			t.Fatalf("unparsable WWW-Authenticate %q: %v", c, err)
		}
		res.challenge = chs[0].Params
		if res.challenge == nil {
			res.challenge = map[string]string{}
		}
		res.challenge[""] = chs[0].Scheme
	}
	_ = json.Unmarshal(w.Body.Bytes(), &res.body)
	return res
}

func bearer(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }

// TestTokenMatrix sends every kind of bad token the issue lists (and a
// few more) and checks status, error code and challenge of each.
func TestTokenMatrix(t *testing.T) {
	is := authtest.NewIssuer(t)
	h := newProvider(t, is, nil).Middleware.Wrap(echo)

	valid := func() jwt.MapClaims { return is.Claims("user_01", resource) }
	with := func(k string, v any) string {
		c := valid()
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return is.Mint(t, c)
	}
	otherKey := authtest.NewKey(t)
	pubDER, err := x509.MarshalPKIXPublicKey(&is.Key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	good := is.Mint(t, valid())
	parts := strings.Split(good, ".")
	tamperedClaims := valid()
	tamperedClaims["sub"] = "admin"
	tamperedPayload, _ := json.Marshal(tamperedClaims)
	hour := time.Hour

	cases := []struct {
		name   string
		header http.Header
		target string
		status int
		code   string // expected error= ("" for none)
		desc   string // substring of error_description
	}{
		{"no token", nil, "", 401, "", ""},
		{"Basic scheme", http.Header{"Authorization": {"Basic dXNlcjpwYXNz"}}, "", 401, "", ""},
		{"Bearer with nothing", http.Header{"Authorization": {"Bearer "}}, "", 401, "invalid_token", "no token"},
		{"token in the query string", nil, "?access_token=" + good, 400, "invalid_request", "query"},
		{"two Authorization headers", http.Header{"Authorization": {"Bearer " + good, "Bearer " + good}}, "", 400, "invalid_request", "more than one"},
		{"alg none", bearer(authtest.Sign(t, jwt.SigningMethodNone, is.KID, jwt.UnsafeAllowNoneSignatureType, valid())), "", 401, "invalid_token", "alg none"},
		{"HS256 keyed with the issuer's public key", bearer(authtest.Sign(t, jwt.SigningMethodHS256, is.KID, pubPEM, valid())), "", 401, "invalid_token", "HMAC"},
		{"RS384 not in the allow-list", bearer(authtest.Sign(t, jwt.SigningMethodRS384, is.KID, is.Key, valid())), "", 401, "invalid_token", "RS384 is not accepted"},
		{"unknown kid", bearer(authtest.Sign(t, jwt.SigningMethodRS256, "no-such-kid", is.Key, valid())), "", 401, "invalid_token", "signing key"},
		{"bad signature", bearer(parts[0] + "." + base64.RawURLEncoding.EncodeToString(tamperedPayload) + "." + parts[2]), "", 401, "invalid_token", "signature"},
		{"second key pair with the same kid", bearer(authtest.Sign(t, jwt.SigningMethodRS256, is.KID, otherKey, valid())), "", 401, "invalid_token", "signature"},
		{"expired", bearer(with("exp", time.Now().Add(-hour).Unix())), "", 401, "invalid_token", "expired"},
		{"not yet valid", bearer(with("nbf", time.Now().Add(hour).Unix())), "", 401, "invalid_token", "not valid before"},
		{"issued in the future", bearer(with("iat", time.Now().Add(hour).Unix())), "", 401, "invalid_token", "future"},
		{"missing exp", bearer(with("exp", nil)), "", 401, "invalid_token", "no expiry"},
		{"missing sub", bearer(with("sub", nil)), "", 401, "invalid_token", "subject"},
		{"wrong iss", bearer(with("iss", "https://evil.example.com")), "", 401, "invalid_token", "evil.example.com"},
		{"wrong aud", bearer(with("aud", "api://something-else")), "", 401, "invalid_token", "api://something-else"},
		{"aud of another MCP server", bearer(with("aud", "https://other.example.com/api/mcp")), "", 401, "invalid_token", "not this server"},
		{"aud on another port", bearer(with("aud", "http://127.0.0.1:9000/api/mcp")), "", 401, "invalid_token", "not this server"},
		{"required scope missing", bearer(with("scope", "profile email")), "", 403, "insufficient_scope", "openid"},
		{"malformed scope claim", bearer(with("scope", 42)), "", 401, "invalid_token", "scope"},
		{"1 MB JWT", bearer(parts[0] + "." + strings.Repeat("A", 1<<20) + "." + parts[2]), "", 401, "invalid_token", "longer than"},
		{"broken base64", bearer(parts[0] + ".%%%not-base64%%%." + parts[2]), "", 401, "invalid_token", "malformed"},
		{"JWE", bearer("eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.a.b.c.d"), "", 401, "invalid_token", "encrypted"},
		{"opaque token", bearer("not-a-jwt-at-all"), "", 401, "invalid_token", "not a JWT"},
		{"token with a space", http.Header{"Authorization": {"Bearer abc def"}}, "", 401, "invalid_token", "spaces"},
	}
	if len(cases) < 20 {
		t.Fatalf("the matrix must have at least 20 tokens")
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := send(t, h, http.MethodPost, "http://"+host+"/api/mcp"+tc.target, tc.header, `{}`)
			if res.status != tc.status {
				t.Fatalf("status %d, want %d (body %v)", res.status, tc.status, res.body)
			}
			c := res.challenge
			if c == nil || c[""] != "bearer" {
				t.Fatalf("no Bearer challenge: %v", c)
			}
			if c["error"] != tc.code {
				t.Errorf("error=%q, want %q", c["error"], tc.code)
			}
			if !strings.Contains(c["error_description"], tc.desc) {
				t.Errorf("error_description %q lacks %q", c["error_description"], tc.desc)
			}
			if c["resource_metadata"] != metadataURL {
				t.Errorf("resource_metadata=%q, want %q", c["resource_metadata"], metadataURL)
			}
			if c["scope"] != "openid" {
				t.Errorf("scope=%q, want openid", c["scope"])
			}
			if strings.Contains(res.body["error_description"].(string), good[:40]) {
				t.Errorf("the description repeats the token")
			}
		})
	}
}

// TestAcceptedTokens checks what a good token yields: go-sdk's TokenInfo
// with the user key and the identity claims.
func TestAcceptedTokens(t *testing.T) {
	is := authtest.NewIssuer(t)
	h := newProvider(t, is, nil).Middleware.Wrap(echo)
	claims := is.Claims("user_01", resource)
	claims["email"], claims["email_verified"], claims["name"] = "ada@example.com", true, "Ada"
	cases := []struct {
		name     string
		token    string
		userID   string
		hasEmail bool
	}{
		{"JWT", is.Mint(t, claims), is.URL + "#user_01", true},
		{"JWT for the localhost alias", is.Mint(t, is.Claims("user_02", "http://localhost:8000/api/mcp")), is.URL + "#user_02", false},
		{"JWT with an upper-case, slashed aud", is.Mint(t, is.Claims("user_03", "HTTP://127.0.0.1:8000/api/mcp/")), is.URL + "#user_03", false},
		{"JWT with aud as a list", is.Mint(t, func() jwt.MapClaims {
			c := is.Claims("user_04", "")
			c["aud"] = []string{"other", resource}
			return c
		}()), is.URL + "#user_04", false},
		{"JWT expired within the leeway", is.Mint(t, func() jwt.MapClaims {
			c := is.Claims("user_05", resource)
			c["exp"] = time.Now().Add(-10 * time.Second).Unix()
			return c
		}()), is.URL + "#user_05", false},
		{"static token", staticToken, auth.StaticIssuer + "#ci", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			header := bearer(tc.token)
			header.Set("Accept", "application/json, text/event-stream")
			res := send(t, h, http.MethodPost, "http://"+host+"/api/mcp", header, `{"x":1}`)
			if res.status != 200 {
				t.Fatalf("status %d: %v %v", res.status, res.challenge, res.body)
			}
			// The token stops at the bearer check (go-sdk keeps the
			// initialize request's headers for the session's life); the
			// other headers go on.
			if res.body["authorization"] != nil || res.body["accept"] != "application/json, text/event-stream" {
				t.Errorf("the handler got Authorization %v, Accept %v", res.body["authorization"], res.body["accept"])
			}
			info, _ := res.body["info"].(map[string]any)
			if info["UserID"] != tc.userID {
				t.Errorf("UserID %v, want %s", info["UserID"], tc.userID)
			}
			extra, _ := info["Extra"].(map[string]any)
			id, _ := extra[auth.ExtraIdentity].(map[string]any)
			if tc.hasEmail && (id["email"] != "ada@example.com" || id["email_verified"] != true || id["name"] != "Ada") {
				t.Errorf("identity claims missing: %v", extra)
			}
			if res.body["body"] != `{"x":1}` {
				t.Errorf("body reached the handler as %q", res.body["body"])
			}
		})
	}
}

// TestToolScopes checks the per-tool scope table through the middleware:
// a read-only token may read and set its context but not write, and the
// 403 names the scopes to step up to, keeping the one already granted.
func TestToolScopes(t *testing.T) {
	is := authtest.NewIssuer(t)
	h := newProvider(t, is, func(s *auth.Settings) {
		s.RequiredScopes = nil
		s.Tools = toolScopes
	}).Middleware.Wrap(echo)
	readOnly := is.Claims("u", resource)
	readOnly["scope"] = "atoms:read"
	reader := bearer(is.Mint(t, readOnly))
	call := func(tool, op string) string {
		return `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"` + tool + `","arguments":{"operation":"` + op + `"}}}`
	}
	args := func(tool, arguments string) string {
		return `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"` + tool + `","arguments":` + arguments + `}}`
	}
	for _, tc := range []struct {
		name   string
		body   string
		status int
	}{
		{"tools/list", `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, 200},
		{"entity read", call("entity_tool", "read"), 200},
		{"entity search", call("entity_tool", "search"), 200},
		{"workspace set_context", call("workspace_tool", "set_context"), 200},
		{"query", call("query_tool", "aggregate"), 200},
		{"relationship list", call("relationship_tool", "list"), 200},
		{"entity create", call("entity_tool", "create"), 403},
		{"entity batch_create", call("entity_tool", "batch_create"), 403},
		{"relationship link", call("relationship_tool", "link"), 403},
		{"workflow", call("workflow_tool", "setup_project"), 403},
		{"unknown tool", call("new_tool", "read"), 403},
		{"a batch with one write", "[" + call("entity_tool", "read") + "," + call("entity_tool", "delete") + "]", 403},
		{"not JSON", `{{{`, 200},
		// Old clients (the Python Atoms server's): the access is that of
		// the call as the tools normalise it.
		{"inferred read", args("entity_tool", `{"entity_type":"project","entity_id":"P"}`), 200},
		{"inferred list", args("entity_tool", `{"entity_type":"project"}`), 200},
		{"inferred search", args("entity_tool", `{"entity_type":"requirement","search_term":"battery"}`), 200},
		{"inferred create", args("entity_tool", `{"entity_type":"project","data":{"name":"x"}}`), 403},
		{"inferred update", args("entity_tool", `{"entity_type":"project","entity_id":"P","data":{"name":"x"}}`), 403},
		{"create with batch", args("entity_tool", `{"entity_type":"document","operation":"create","batch":[{"name":"x"}]}`), 403},
		{"old archive", call("entity_tool", "archive"), 403},
		{"old bulk_create", call("entity_tool", "bulk_create"), 403},
		{"entity rag_search is a query", args("entity_tool", `{"entity_type":"requirement","operation":"rag_search","content":"x"}`), 200},
		{"context_tool", call("context_tool", "set_context"), 200},
		{"health_check", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"health_check"}}`, 200},
		{"workflow_execute", args("workflow_execute", `{"workflow_name":"setup_new_project"}`), 403},
		{"arguments not an object", args("entity_tool", `[1]`), 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := send(t, h, http.MethodPost, "http://"+host+"/api/mcp", reader, tc.body)
			if res.status != tc.status {
				t.Fatalf("status %d, want %d: %v", res.status, tc.status, res.body)
			}
			if tc.status == 403 {
				if res.challenge["error"] != "insufficient_scope" || res.challenge["scope"] != "atoms:read atoms:write" {
					t.Errorf("challenge %v", res.challenge)
				}
				// Built from the request, not kept in its context.
				if res.challenge["resource_metadata"] != metadataURL {
					t.Errorf("resource_metadata=%q, want %q", res.challenge["resource_metadata"], metadataURL)
				}
				return
			}
			if res.body["body"] != tc.body {
				t.Errorf("the handler got the body %q", res.body["body"])
			}
		})
	}
	// The 401 asks for both scopes, so one login serves every tool.
	if res := send(t, h, http.MethodPost, "http://"+host+"/api/mcp", nil, "{}"); res.challenge["scope"] != "atoms:read atoms:write" {
		t.Errorf("401 scope=%q", res.challenge["scope"])
	}
	// A writer may write.
	rw := is.Claims("u", resource)
	rw["scope"] = "atoms:read atoms:write"
	if res := send(t, h, http.MethodPost, "http://"+host+"/api/mcp", bearer(is.Mint(t, rw)), call("entity_tool", "create")); res.status != 200 {
		t.Errorf("writer got %d", res.status)
	}
	// A static (internal) token is trusted with every scope.
	if res := send(t, h, http.MethodPost, "http://"+host+"/api/mcp", bearer(staticToken), call("workflow_tool", "x")); res.status != 200 {
		t.Errorf("static token got %d", res.status)
	}
}

// TestJWKSOutage: an identity provider whose JWKS goes down must not turn
// tokens signed with known keys into failures, and an unknown kid during
// the outage is a 401, never a 500.
func TestJWKSOutage(t *testing.T) {
	is := authtest.NewIssuer(t)
	h := newProvider(t, is, nil).Middleware.Wrap(echo)
	good := bearer(is.Mint(t, is.Claims("u", resource)))
	if res := send(t, h, http.MethodPost, "http://"+host+"/api/mcp", good, "{}"); res.status != 200 {
		t.Fatalf("before the outage: %d", res.status)
	}
	is.SetJWKSDown(true)
	if res := send(t, h, http.MethodPost, "http://"+host+"/api/mcp", good, "{}"); res.status != 200 {
		t.Fatalf("cached key during the outage: %d %v", res.status, res.body)
	}
	before := is.JWKSRequests.Load()
	unknown := bearer(authtest.Sign(t, jwt.SigningMethodRS256, "rotated-kid", is.Key, is.Claims("u", resource)))
	for i := range 3 {
		res := send(t, h, http.MethodPost, "http://"+host+"/api/mcp", unknown, "{}")
		if res.status != 401 || res.challenge["error"] != "invalid_token" {
			t.Fatalf("unknown kid during the outage, try %d: %d %v", i, res.status, res.challenge)
		}
	}
	// One refetch for the unknown kid, then the rate limit holds.
	if got := is.JWKSRequests.Load() - before; got != 1 {
		t.Errorf("%d JWKS fetches for three unknown-kid tokens, want 1", got)
	}
}

// TestKeyRotation: a token signed with a key published after start-up is
// accepted after one refetch of the JWKS.
func TestKeyRotation(t *testing.T) {
	is := authtest.NewIssuer(t)
	h := newProvider(t, is, nil).Middleware.Wrap(echo)
	newKey := authtest.NewKey(t)
	is.Publish("key-2", &newKey.PublicKey)
	tok := authtest.Sign(t, jwt.SigningMethodRS256, "key-2", newKey, is.Claims("u", resource))
	if res := send(t, h, http.MethodPost, "http://"+host+"/api/mcp", bearer(tok), "{}"); res.status != 200 {
		t.Fatalf("rotated key: %d %v", res.status, res.challenge)
	}
}

// TestVerifierErrorsAreNever500 hands go-sdk's own middleware a Verifier
// through TokenVerifier: refusals must come out as 401.
func TestVerifierErrorsAreNever500(t *testing.T) {
	is := authtest.NewIssuer(t)
	p := newProvider(t, is, nil)
	h := sdkauth.RequireBearerToken(auth.TokenVerifier(p.Verifier), nil)(echo)
	for _, tok := range []string{"garbage", authtest.Sign(t, jwt.SigningMethodRS256, "nope", is.Key, is.Claims("u", resource))} {
		if res := send(t, h, http.MethodPost, "http://"+host+"/api/mcp", bearer(tok), "{}"); res.status != 401 {
			t.Errorf("go-sdk middleware answered %d", res.status)
		}
	}
}

func TestConfiguredAudience(t *testing.T) {
	is := authtest.NewIssuer(t)
	h := newProvider(t, is, func(s *auth.Settings) { s.Audience = "api://atoms" }).Middleware.Wrap(echo)
	if res := send(t, h, http.MethodPost, "http://"+host+"/api/mcp", bearer(is.Mint(t, is.Claims("u", "api://atoms"))), "{}"); res.status != 200 {
		t.Errorf("configured audience refused: %d", res.status)
	}
	res := send(t, h, http.MethodPost, "http://"+host+"/api/mcp", bearer(is.Mint(t, is.Claims("u", resource))), "{}")
	if res.status != 401 || !strings.Contains(res.challenge["error_description"], "api://atoms") {
		t.Errorf("resource URL accepted despite ATOMCP_AUTH_AUDIENCE: %d %v", res.status, res.challenge)
	}
}

// TestEmbeddedWithLocalKeys: the embedded authorization server's tokens
// are checked by the same verifier with keys handed over in process.
func TestEmbeddedWithLocalKeys(t *testing.T) {
	key := authtest.NewKey(t)
	keys := auth.LocalKeys(func(tok *jwt.Token) (any, error) {
		if tok.Header["kid"] != "local-1" {
			return nil, jwt.ErrTokenUnverifiable
		}
		return &key.PublicKey, nil
	})
	p, err := auth.New(t.Context(), auth.Settings{
		Provider: auth.ProviderEmbedded, Issuer: "http://127.0.0.1:8000", Keys: keys,
		Tools:  toolScopes,
		Public: &auth.PublicURL{MCPPath: "/api/mcp"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if p.AuthServerMetadata != nil {
		t.Error("embedded must serve its own metadata, not forward")
	}
	claims := jwt.MapClaims{"iss": "http://127.0.0.1:8000", "sub": "u1", "aud": resource, "exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix(), "scope": "atoms:read atoms:write"}
	tok := authtest.Sign(t, jwt.SigningMethodRS256, "local-1", key, claims)
	if res := send(t, p.Middleware.Wrap(echo), http.MethodPost, "http://"+host+"/api/mcp", bearer(tok), "{}"); res.status != 200 {
		t.Fatalf("embedded token: %d %v", res.status, res.challenge)
	}
	if _, err := auth.New(t.Context(), auth.Settings{Provider: auth.ProviderEmbedded, Public: &auth.PublicURL{MCPPath: "/api/mcp"}}); err == nil {
		t.Error("embedded without keys was accepted")
	}
}

// TestAudienceMismatchSaysWhatToFix: AuthKit's refusal names the audience
// that came, the one expected, and the dashboard setting.
func TestAudienceMismatchSaysWhatToFix(t *testing.T) {
	is := authtest.NewIssuer(t)
	h := newProvider(t, is, nil).Middleware.Wrap(echo)
	res := send(t, h, http.MethodPost, "http://"+host+"/api/mcp", bearer(is.Mint(t, is.Claims("u", "client_01X"))), "{}")
	d := res.challenge["error_description"]
	for _, want := range []string{"client_01X", resource, "MCP resource indicator", "WorkOS"} {
		if !strings.Contains(d, want) {
			t.Errorf("error_description %q lacks %q", d, want)
		}
	}
}

// TestToolScopesWithoutAccessFailClosed: a policy that does not say what
// tools do treats every tool call as a write.
func TestToolScopesWithoutAccessFailClosed(t *testing.T) {
	is := authtest.NewIssuer(t)
	h := newProvider(t, is, func(s *auth.Settings) {
		s.RequiredScopes = nil
		s.Tools = auth.ScopePolicy{Read: "atoms:read", Write: "atoms:write"}
	}).Middleware.Wrap(echo)
	readOnly := is.Claims("u", resource)
	readOnly["scope"] = "atoms:read"
	body := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"entity_tool","arguments":{"operation":"read"}}}`
	if res := send(t, h, http.MethodPost, "http://"+host+"/api/mcp", bearer(is.Mint(t, readOnly)), body); res.status != 403 || res.challenge["scope"] != "atoms:read atoms:write" {
		t.Fatalf("status %d, challenge %v; want 403 asking for atoms:write", res.status, res.challenge)
	}
}

// TestRevokedAndAliasedTokens: with a Revoked hook a revoked token is
// refused as revoked (an expired one as expired, whatever the hook says),
// and IssuerAlias is the issuer of the identity the verifier emits.
func TestRevokedAndAliasedTokens(t *testing.T) {
	key := authtest.NewKey(t)
	keys := auth.LocalKeys(func(*jwt.Token) (any, error) { return &key.PublicKey, nil })
	asked := 0
	p, err := auth.New(t.Context(), auth.Settings{
		Provider: auth.ProviderEmbedded, Issuer: "http://127.0.0.1:8000", Keys: keys,
		IssuerAlias: "atomcp:embedded",
		Revoked: func(_ context.Context, jti, sub string) (bool, error) {
			asked++
			if sub == "disabled-user" {
				return true, fmt.Errorf("account %s: %w", sub, auth.ErrAccountDisabled)
			}
			if jti == "broken" {
				return false, errors.New("store down")
			}
			if jti == "db-down" {
				return false, fmt.Errorf("look up token: %w", domain.ErrUnavailable)
			}
			return jti == "revoked-1", nil
		},
		Public: &auth.PublicURL{MCPPath: "/api/mcp"},
	})
	if err != nil {
		t.Fatal(err)
	}
	h := p.Middleware.Wrap(echo)
	mintAs := func(sub, jti string, exp time.Time) http.Header {
		claims := jwt.MapClaims{"iss": "http://127.0.0.1:8000", "sub": sub, "aud": resource, "exp": exp.Unix(), "iat": time.Now().Add(-2 * time.Hour).Unix()}
		if jti != "" {
			claims["jti"] = jti
		}
		return bearer(authtest.Sign(t, jwt.SigningMethodRS256, "k", key, claims))
	}
	mint := func(jti string, exp time.Time) http.Header { return mintAs("u1", jti, exp) }
	later := time.Now().Add(time.Hour)
	for _, tc := range []struct {
		name, jti string
		exp       time.Time
		want      string // in error_description
	}{
		{"revoked", "revoked-1", later, "was revoked"},
		{"expired and revoked", "revoked-1", time.Now().Add(-time.Hour), "expired"},
		{"without jti", "", later, "no id (jti)"},
		{"revocation unknown", "broken", later, "could not be checked"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := send(t, h, http.MethodPost, "http://"+host+"/api/mcp", mint(tc.jti, tc.exp), "{}")
			d := res.challenge["error_description"]
			if res.status != 401 || res.challenge["error"] != "invalid_token" || !strings.Contains(d, tc.want) || strings.Contains(d, "signing key") {
				t.Fatalf("%d %v; want 401 invalid_token saying %q", res.status, res.challenge, tc.want)
			}
		})
	}
	// With the database down the token is neither accepted nor called
	// invalid: a 503 to retry, without a challenge that would send the
	// client to sign in again.
	res := send(t, h, http.MethodPost, "http://"+host+"/api/mcp", mint("db-down", later), "{}")
	if res.status != http.StatusServiceUnavailable || res.challenge != nil || res.body["error"] != "temporarily_unavailable" ||
		!strings.Contains(fmt.Sprint(res.body["error_description"]), "retry") {
		t.Errorf("revocation check with the database down: %d %v %v; want 503 temporarily_unavailable, no challenge", res.status, res.challenge, res.body)
	}
	// A disabled account's token is refused as such, on every request
	// (the verified-token cache asks the hook too).
	for i := range 2 {
		res := send(t, h, http.MethodPost, "http://"+host+"/api/mcp", mintAs("disabled-user", "d-1", later), "{}")
		if d := res.challenge["error_description"]; res.status != 401 || res.challenge["error"] != "invalid_token" || d != "the account is disabled" {
			t.Fatalf("request %d of a disabled account: %d %v; want 401 invalid_token \"the account is disabled\"", i, res.status, res.challenge)
		}
	}
	asked = 0
	res = send(t, h, http.MethodPost, "http://"+host+"/api/mcp", mint("good-1", later), "{}")
	if res.status != 200 || asked != 1 {
		t.Fatalf("good token: %d %v, Revoked asked %d times", res.status, res.challenge, asked)
	}
	info, _ := res.body["info"].(map[string]any)
	extra, _ := info["Extra"].(map[string]any)
	id, _ := extra[auth.ExtraIdentity].(map[string]any)
	if info["UserID"] != "atomcp:embedded#u1" || id["iss"] != "atomcp:embedded" || id["sub"] != "u1" {
		t.Errorf("identity %v, UserID %v; want the alias issuer", id, info["UserID"])
	}
}
