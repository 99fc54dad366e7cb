package oauthclient

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

func callWith(t *testing.T, url string, h *GrantHandler) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := mcp.NewClient(&mcp.Implementation{Name: "grant-test", Version: "1"}, nil)
	cs, err := c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url, OAuthHandler: h, MaxRetries: -1, DisableStandaloneSSE: true}, nil)
	if err != nil {
		return err
	}
	defer cs.Close()
	_, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "read", Arguments: map[string]any{}})
	return err
}

func grantMeta(grants ...string) func(a *fakeAS) {
	return func(a *fakeAS) {
		a.meta = map[string]any{"grant_types_supported": grants, "token_endpoint_auth_methods_supported": []string{"client_secret_basic", "private_key_jwt"}}
	}
}

func TestClientCredentialsWithSecret(t *testing.T) {
	e := newEnv(t)
	e.as.set(grantMeta("client_credentials"))
	e.as.set(func(a *fakeAS) { a.confidential = map[string]string{"svc": "svc-secret"} })
	h, err := NewGrantHandler(e.mcp.URL, GrantConfig{Grant: GrantClientCredentials, ClientID: "svc", ClientSecret: "svc-secret"})
	if err != nil {
		t.Fatal(err)
	}
	if err := callWith(t, e.mcp.URL, h); err != nil {
		t.Fatalf("call: %v", err)
	}
	e.as.mu.Lock()
	defer e.as.mu.Unlock()
	form, authz := e.as.tokens[0], e.as.tokenAuth[0]
	if form.Get("grant_type") != "client_credentials" || form.Get("resource") != e.mcp.URL || form.Get("scope") != "read" {
		t.Errorf("token request %v; want client_credentials with resource and the challenged scope", form)
	}
	if !strings.HasPrefix(authz, "Basic ") || form.Get("client_secret") != "" {
		t.Errorf("client authentication: header %q, body secret %q; want client_secret_basic", authz, form.Get("client_secret"))
	}
}

func TestClientCredentialsWithPrivateKeyJWT(t *testing.T) {
	e := newEnv(t)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	pemKey := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	e.as.set(grantMeta("client_credentials"))
	e.as.set(func(a *fakeAS) { a.assertionKey = &key.PublicKey })
	h, err := NewGrantHandler(e.mcp.URL, GrantConfig{Grant: GrantClientCredentials, ClientID: "svc-jwt", PrivateKeyPEM: pemKey})
	if err != nil {
		t.Fatal(err)
	}
	if err := callWith(t, e.mcp.URL, h); err != nil {
		t.Fatalf("call: %v", err)
	}
	e.as.mu.Lock()
	defer e.as.mu.Unlock()
	if len(e.as.assertions) != 1 {
		t.Fatalf("%d verified assertions; want 1", len(e.as.assertions))
	}
	c := e.as.assertions[0]
	aud, _ := c.GetAudience()
	if c["iss"] != "svc-jwt" || c["sub"] != "svc-jwt" || len(aud) != 1 || aud[0] != e.as.issuer() || c["jti"] == nil {
		t.Errorf("assertion claims %v; want iss = sub = the client, aud = the issuer, a jti", c)
	}
	if _, err := NewGrantHandler(e.mcp.URL, GrantConfig{Grant: GrantClientCredentials, ClientID: "x", PrivateKeyPEM: "not a key"}); err == nil {
		t.Error("a bad private key was accepted")
	}
}

func TestJWTBearerIsNotRetried(t *testing.T) {
	e := newEnv(t)
	e.as.set(grantMeta("urn:ietf:params:oauth:grant-type:jwt-bearer"))
	h, err := NewGrantHandler(e.mcp.URL, GrantConfig{Grant: GrantJWTBearer, ClientID: "workload", Assertion: "eyJ.workload.jwt"})
	if err != nil {
		t.Fatal(err)
	}
	if err := callWith(t, e.mcp.URL, h); err != nil {
		t.Fatalf("call: %v", err)
	}
	e.as.mu.Lock()
	form := e.as.tokens[0]
	e.as.mu.Unlock()
	if form.Get("assertion") != "eyJ.workload.jwt" || form.Get("client_id") != "workload" || form.Get("resource") != e.mcp.URL {
		t.Errorf("token request %v", form)
	}

	// Refused: one request, one sentence, and no second attempt.
	e2 := newEnv(t)
	e2.as.set(grantMeta("urn:ietf:params:oauth:grant-type:jwt-bearer"))
	e2.as.set(func(a *fakeAS) {
		a.tokenStatus, a.tokenBody = 400, `{"error":"invalid_grant","error_description":"expired"}`
	})
	h2, _ := NewGrantHandler(e2.mcp.URL, GrantConfig{Grant: GrantJWTBearer, ClientID: "workload", Assertion: "eyJ.old"})
	for range 2 {
		err = callWith(t, e2.mcp.URL, h2)
	}
	if oe, ok := errors.AsType[*Error](err); !ok || oe.Kind != KindTokenEndpoint || !strings.Contains(oe.Msg, "invalid_grant (expired)") {
		t.Fatalf("got %v", err)
	}
	if _, _, n := e2.as.counts(); n != 1 {
		t.Fatalf("%d token requests; a refused JWT-bearer grant must not be retried", n)
	}
}

func TestEnterpriseManagedAuthorization(t *testing.T) {
	e := newEnv(t)
	e.as.set(grantMeta("urn:ietf:params:oauth:grant-type:jwt-bearer"))
	e.as.set(func(a *fakeAS) { a.confidential = map[string]string{"mcp-client": "mcp-secret"} })
	var exchange map[string][]string
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		exchange = r.PostForm
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"access_token": "id-jag-1", "issued_token_type": "urn:ietf:params:oauth:token-type:id-jag", "token_type": "N_A"})
	}))
	defer idp.Close()
	h, err := NewGrantHandler(e.mcp.URL, GrantConfig{Grant: GrantEnterprise, ClientID: "mcp-client", ClientSecret: "mcp-secret",
		IDToken: "id-token-1", IdPTokenEndpoint: idp.URL + "/token", IdPClientID: "idp-client"})
	if err != nil {
		t.Fatal(err)
	}
	if err := callWith(t, e.mcp.URL, h); err != nil {
		t.Fatalf("call: %v", err)
	}
	get := func(k string) string {
		if v := exchange[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	if get("grant_type") != "urn:ietf:params:oauth:grant-type:token-exchange" || get("subject_token") != "id-token-1" ||
		get("audience") != e.as.issuer() || get("resource") != e.mcp.URL || get("requested_token_type") != "urn:ietf:params:oauth:token-type:id-jag" {
		t.Errorf("token exchange at the IdP: %v", exchange)
	}
	e.as.mu.Lock()
	defer e.as.mu.Unlock()
	form, authz := e.as.tokens[0], e.as.tokenAuth[0]
	if form.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" || form.Get("assertion") != "id-jag-1" || !strings.HasPrefix(authz, "Basic ") {
		t.Errorf("JWT-bearer grant %v with %q; want the ID-JAG and client_secret_basic", form, authz)
	}
}

func TestGrantNotListed(t *testing.T) {
	e := newEnv(t)
	h, _ := NewGrantHandler(e.mcp.URL, GrantConfig{Grant: GrantClientCredentials, ClientID: "svc", ClientSecret: "s"})
	err := callWith(t, e.mcp.URL, h)
	if oe, ok := errors.AsType[*Error](err); !ok || !strings.Contains(oe.Msg, "does not list the client_credentials grant") {
		t.Fatalf("got %v", err)
	}
}
