// Package authtest is a fake OAuth authorization server for tests: an
// AuthKit-shaped issuer with its own RSA keys, JWKS, metadata documents and
// token minting, and switches to make its JWKS fail.
package authtest

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Issuer is a running fake authorization server.
type Issuer struct {
	URL    string // the issuer identifier: http://127.0.0.1:port
	Key    *rsa.PrivateKey
	KID    string
	server *httptest.Server

	mu        sync.Mutex
	published []jwkKey // the JWKS
	jwksDown  bool
	metaDown  bool

	// JWKSRequests counts requests to the JWKS endpoint.
	JWKSRequests atomic.Int64
	// MetadataRequests counts requests to the metadata documents.
	MetadataRequests atomic.Int64
}

type jwkKey struct {
	KID string
	Pub *rsa.PublicKey
}

// NewIssuer starts an issuer that publishes one RS256 key. It serves
// /oauth2/jwks (AuthKit's JWKS path), /.well-known/oauth-authorization-server
// and /.well-known/openid-configuration, and stops with the test.
func NewIssuer(t testing.TB) *Issuer {
	t.Helper()
	is := &Issuer{Key: NewKey(t), KID: "key-1"}
	is.published = []jwkKey{{is.KID, &is.Key.PublicKey}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /oauth2/jwks", is.serveJWKS)
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", is.serveMetadata)
	mux.HandleFunc("GET /.well-known/openid-configuration", is.serveMetadata)
	// The URL is set before the server starts: the handlers read it, and a
	// request from another process (the atomcp binary under test) brings
	// no happens-before edge with this goroutine's write.
	is.server = httptest.NewUnstartedServer(mux)
	is.URL = "http://" + is.server.Listener.Addr().String()
	is.server.Start()
	t.Cleanup(is.server.Close)
	return is
}

// NewKey returns a fresh RSA key (2048 bits).
func NewKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// SetJWKSDown makes the JWKS endpoint answer 503 (true) or work (false).
func (is *Issuer) SetJWKSDown(down bool) {
	is.mu.Lock()
	defer is.mu.Unlock()
	is.jwksDown = down
}

// SetMetadataDown makes the metadata documents answer 503 (true) or work.
func (is *Issuer) SetMetadataDown(down bool) {
	is.mu.Lock()
	defer is.mu.Unlock()
	is.metaDown = down
}

// Publish adds a key to the JWKS.
func (is *Issuer) Publish(kid string, pub *rsa.PublicKey) {
	is.mu.Lock()
	defer is.mu.Unlock()
	is.published = append(is.published, jwkKey{kid, pub})
}

func (is *Issuer) serveJWKS(w http.ResponseWriter, _ *http.Request) {
	is.JWKSRequests.Add(1)
	is.mu.Lock()
	down := is.jwksDown
	keys := make([]map[string]string, 0, len(is.published))
	for _, k := range is.published {
		keys = append(keys, map[string]string{
			"kty": "RSA", "use": "sig", "alg": "RS256", "kid": k.KID,
			"n": base64.RawURLEncoding.EncodeToString(k.Pub.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.Pub.E)).Bytes()),
		})
	}
	is.mu.Unlock()
	if down {
		http.Error(w, "JWKS is down", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"keys": keys})
}

func (is *Issuer) serveMetadata(w http.ResponseWriter, _ *http.Request) {
	is.MetadataRequests.Add(1)
	is.mu.Lock()
	down := is.metaDown
	is.mu.Unlock()
	if down {
		http.Error(w, "metadata is down", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"issuer":                                is.URL,
		"authorization_endpoint":                is.URL + "/oauth2/authorize",
		"token_endpoint":                        is.URL + "/oauth2/token",
		"registration_endpoint":                 is.URL + "/oauth2/register",
		"jwks_uri":                              is.URL + "/oauth2/jwks",
		"response_types_supported":              []string{"code"},
		"grant_types_supported":                 []string{"authorization_code", "refresh_token"},
		"code_challenge_methods_supported":      []string{"S256"},
		"token_endpoint_auth_methods_supported": []string{"none", "client_secret_post"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
	})
}

// Claims returns the claims of a valid access token for subject and
// audience, issued now and valid for an hour; tests change what they need.
func (is *Issuer) Claims(subject, audience string) jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{
		"iss":   is.URL,
		"sub":   subject,
		"aud":   audience,
		"iat":   now.Unix(),
		"nbf":   now.Unix(),
		"exp":   now.Add(time.Hour).Unix(),
		"scope": "openid profile email",
		"jti":   rand.Text(),
	}
}

// Mint signs claims with the issuer's key (RS256, kid KID).
func (is *Issuer) Mint(t testing.TB, claims jwt.MapClaims) string {
	t.Helper()
	return Sign(t, jwt.SigningMethodRS256, is.KID, is.Key, claims)
}

// Sign signs claims with any method, kid and key.
func Sign(t testing.TB, method jwt.SigningMethod, kid string, key any, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
