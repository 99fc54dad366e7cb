package oauthclient

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
)

// DPoP (RFC 9449, the MCP DPoP extension SEP-1932): the client proves
// possession of a key with a signed proof on each token request and each
// request that presents the token, and the token is bound to that key.
//
// go-sdk's flow knows nothing of DPoP; it is added at the HTTP level: the
// OAuth client adds a proof to requests to the token endpoint, and
// [Handler.WrapTransport] turns the "Bearer" header go-sdk's MCP transport
// sets into "DPoP" with a proof. Both answer a use_dpop_nonce challenge by
// retrying once with the server's nonce (RFC 9449 §8, §9).

// dpopKey is the client's DPoP key pair (ES256) and the nonces servers gave.
type dpopKey struct {
	priv *ecdsa.PrivateKey
	jwk  map[string]string
	now  func() time.Time

	mu     sync.Mutex
	nonces map[string]string // origin → last DPoP-Nonce
}

func newDPoPKey(now func() time.Time) (*dpopKey, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	return dpopFromKey(priv, now), nil
}

func dpopFromKey(priv *ecdsa.PrivateKey, now func() time.Time) *dpopKey {
	pub, _ := priv.PublicKey.ECDH() // P-256 always converts
	raw := pub.Bytes()              // 0x04 || X || Y
	return &dpopKey{
		priv:   priv,
		jwk:    map[string]string{"kty": "EC", "crv": "P-256", "x": b64(raw[1:33]), "y": b64(raw[33:65])},
		now:    now,
		nonces: map[string]string{},
	}
}

// dpopFromPEM restores a key kept in the token cache.
func dpopFromPEM(s string, now func() time.Time) (*dpopKey, error) {
	block, _ := pem.Decode([]byte(s))
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	ec, ok := k.(*ecdsa.PrivateKey)
	if !ok || ec.Curve != elliptic.P256() {
		return nil, errors.New("not a P-256 key")
	}
	return dpopFromKey(ec, now), nil
}

func (k *dpopKey) pem() string {
	der, _ := x509.MarshalPKCS8PrivateKey(k.priv)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func origin(u *url.URL) string { return u.Scheme + "://" + u.Host }

// htu is the request URI without query and fragment (RFC 9449 §4.2).
func htu(u *url.URL) string {
	c := *u
	c.RawQuery, c.Fragment, c.RawFragment = "", "", ""
	return c.String()
}

// proof signs a DPoP proof for a request; accessToken, when set, is bound
// with ath.
func (k *dpopKey) proof(method string, u *url.URL, accessToken string) (string, error) {
	jti := make([]byte, 16)
	rand.Read(jti)
	claims := jwt.MapClaims{"jti": hex.EncodeToString(jti), "htm": method, "htu": htu(u), "iat": k.now().Unix()}
	k.mu.Lock()
	if n := k.nonces[origin(u)]; n != "" {
		claims["nonce"] = n
	}
	k.mu.Unlock()
	if accessToken != "" {
		sum := sha256.Sum256([]byte(accessToken))
		claims["ath"] = b64(sum[:])
	}
	t := jwt.NewWithClaims(jwt.SigningMethodES256, claims)
	t.Header["typ"] = "dpop+jwt"
	t.Header["jwk"] = k.jwk
	return t.SignedString(k.priv)
}

func (k *dpopKey) setNonce(u *url.URL, nonce string) {
	k.mu.Lock()
	k.nonces[origin(u)] = nonce
	k.mu.Unlock()
}

// dpopTokenTransport adds a proof to POST requests at the token endpoint
// while a DPoP login is in progress, and retries once on use_dpop_nonce.
type dpopTokenTransport struct {
	base http.RoundTripper

	mu       sync.Mutex
	key      *dpopKey
	tokenURL string
}

func (t *dpopTokenTransport) set(key *dpopKey, tokenURL string) {
	t.mu.Lock()
	t.key, t.tokenURL = key, tokenURL
	t.mu.Unlock()
}

func (t *dpopTokenTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.mu.Lock()
	key, tokenURL := t.key, t.tokenURL
	t.mu.Unlock()
	if key == nil || req.Method != http.MethodPost || htu(req.URL) != tokenURL {
		return t.base.RoundTrip(req)
	}
	return sendWithProof(t.base, key, req, "", isTokenNonceChallenge)
}

// sendWithProof sends req with a fresh proof, and once more with the
// server's nonce when challenged answers true.
func sendWithProof(base http.RoundTripper, key *dpopKey, req *http.Request, accessToken string, challenged func(*http.Response) bool) (*http.Response, error) {
	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
	}
	send := func() (*http.Response, error) {
		p, err := key.proof(req.Method, req.URL, accessToken)
		if err != nil {
			return nil, err
		}
		r := req.Clone(req.Context())
		if body != nil {
			r.Body = io.NopCloser(bytes.NewReader(body))
			r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
			r.ContentLength = int64(len(body))
		}
		r.Header.Set("DPoP", p)
		if accessToken != "" {
			r.Header.Set("Authorization", "DPoP "+accessToken)
		}
		return base.RoundTrip(r)
	}
	resp, err := send()
	if err != nil {
		return nil, err
	}
	if nonce := resp.Header.Get("DPoP-Nonce"); nonce != "" {
		key.setNonce(req.URL, nonce)
		if challenged(resp) {
			io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
			resp.Body.Close()
			return send()
		}
	}
	return resp, nil
}

// isTokenNonceChallenge: 400 {"error":"use_dpop_nonce"} (RFC 9449 §8). The
// body is read and put back.
func isTokenNonceChallenge(resp *http.Response) bool {
	if resp.StatusCode != http.StatusBadRequest {
		return false
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	var e struct {
		Error string `json:"error"`
	}
	return json.Unmarshal(b, &e) == nil && e.Error == "use_dpop_nonce"
}

// isResourceNonceChallenge: 401 with WWW-Authenticate: DPoP
// error="use_dpop_nonce" (RFC 9449 §9).
func isResourceNonceChallenge(resp *http.Response) bool {
	if resp.StatusCode != http.StatusUnauthorized {
		return false
	}
	chs, _ := oauthex.ParseWWWAuthenticate(resp.Header.Values("WWW-Authenticate"))
	for _, c := range chs {
		if c.Scheme == "dpop" && c.Params["error"] == "use_dpop_nonce" {
			return true
		}
	}
	return false
}

// WrapTransport returns rt with DPoP added to requests to the MCP server:
// when the current token is DPoP-bound, go-sdk's "Authorization: Bearer"
// becomes "Authorization: DPoP" with a fresh proof (htm, htu, ath), and a
// use_dpop_nonce challenge is answered once with the server's nonce. With
// a Bearer token it changes nothing.
func (h *Handler) WrapTransport(rt http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		tok, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer ")
		h.mu.Lock()
		key := h.dpop
		bound := h.ts != nil && strings.EqualFold(h.ts.record().TokenType, "DPoP") && h.ts.record().AccessToken == tok
		h.mu.Unlock()
		if !ok || key == nil || !bound {
			return rt.RoundTrip(req)
		}
		return sendWithProof(rt, key, req, tok, isResourceNonceChallenge)
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// useDPoP decides whether a login binds its token to a DPoP key: when the
// user asked, when the server's challenge uses the DPoP scheme, or when its
// protected-resource metadata requires DPoP-bound tokens (RFC 9449 §5.1,
// §7.1).
func useDPoP(asked bool, d *Discovery) bool {
	if asked || d.ChallengeScheme == "dpop" {
		return true
	}
	return d.ResourceMetadata != nil && d.ResourceMetadata.DPOPBoundAccessTokensRequired
}

func dpopError(err error) *Error {
	return errorf(KindOther, err, "cannot make a DPoP key: %v", err)
}
