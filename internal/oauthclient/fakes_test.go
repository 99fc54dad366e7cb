package oauthclient

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// fakeAS is an OAuth authorization server for tests: metadata, dynamic
// registration, an authorization endpoint that approves at once (or as a
// test tells it), and a token endpoint with refresh. It records what
// clients sent.
type fakeAS struct {
	t   *testing.T
	srv *httptest.Server

	mu sync.Mutex
	// Behaviour, set by tests before use.
	meta         map[string]any // overrides of the metadata document
	noMetadata   bool           // metadata endpoints answer 404
	metaHTML     bool           // metadata is an HTML page
	deny         string         // authorize redirects with error=deny
	tamperState  bool           // authorize returns another state
	issParam     string         // "" none, "ok" the issuer, else this value
	tokenStatus  int            // token endpoint answers this status
	tokenBody    string         // … with this body
	expiresIn    int            // seconds (default 3600)
	grantScope   string         // scope in the token response ("" echoes the request)
	forgotten    map[string]bool
	dpopNonce    string            // the token endpoint requires this DPoP nonce
	confidential map[string]string // client_credentials clients: id → secret
	assertionKey *ecdsa.PublicKey  // verifies private_key_jwt client assertions
	// Records.
	clients       map[string]registered
	registrations []map[string]any
	authorizes    []url.Values
	tokens        []url.Values
	tokenAuth     []string // Authorization header of token requests
	dpopProofs    []jwt.MapClaims
	assertions    []jwt.MapClaims // verified client assertions
	codes         map[string]codeGrant
	issued        map[string]issuedToken // access token → grant
	refresh       map[string]issuedToken
	seq           int
}

type registered struct {
	redirect []string
}

type codeGrant struct {
	clientID, redirect, challenge, resource, scope string
}

type issuedToken struct {
	clientID, resource, scope string
	expires                   time.Time
	jkt                       string // DPoP key thumbprint the token is bound to
}

func newFakeAS(t *testing.T) *fakeAS {
	a := &fakeAS{t: t, clients: map[string]registered{}, codes: map[string]codeGrant{}, issued: map[string]issuedToken{}, refresh: map[string]issuedToken{}, forgotten: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/oauth-authorization-server", a.metadata)
	mux.HandleFunc("/register", a.register)
	mux.HandleFunc("/authorize", a.authorize)
	mux.HandleFunc("/token", a.token)
	a.srv = httptest.NewServer(mux)
	t.Cleanup(a.srv.Close)
	return a
}

func (a *fakeAS) issuer() string { return a.srv.URL }

func (a *fakeAS) set(f func(a *fakeAS)) {
	a.mu.Lock()
	defer a.mu.Unlock()
	f(a)
}

func (a *fakeAS) metadata(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.noMetadata {
		http.NotFound(w, r)
		return
	}
	if a.metaHTML {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "<html><body>Sign in</body></html>")
		return
	}
	m := map[string]any{
		"issuer":                                a.issuer(),
		"authorization_endpoint":                a.issuer() + "/authorize",
		"token_endpoint":                        a.issuer() + "/token",
		"registration_endpoint":                 a.issuer() + "/register",
		"response_types_supported":              []string{"code"},
		"grant_types_supported":                 []string{"authorization_code", "refresh_token"},
		"code_challenge_methods_supported":      []string{"S256"},
		"token_endpoint_auth_methods_supported": []string{"none", "client_secret_post", "client_secret_basic"},
		"scopes_supported":                      []string{"read", "write", "offline_access"},
	}
	for k, v := range a.meta {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(m)
}

func (a *fakeAS) register(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, "bad json", 400)
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.registrations = append(a.registrations, body)
	a.seq++
	id := fmt.Sprintf("client-%d-of-%s", a.seq, strings.TrimPrefix(a.issuer(), "http://127.0.0.1:"))
	var redirects []string
	for _, v := range body["redirect_uris"].([]any) {
		redirects = append(redirects, v.(string))
	}
	a.clients[id] = registered{redirect: redirects}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(map[string]any{
		"client_id":                  id,
		"redirect_uris":              redirects,
		"token_endpoint_auth_method": "none",
		"grant_types":                body["grant_types"],
	})
}

// loopbackMatch compares redirect URIs ignoring the loopback port (RFC 8252 §7.3).
func loopbackMatch(registered []string, got string) bool {
	gu, err := url.Parse(got)
	if err != nil {
		return false
	}
	for _, r := range registered {
		ru, err := url.Parse(r)
		if err == nil && ru.Scheme == gu.Scheme && ru.Hostname() == gu.Hostname() && ru.Path == gu.Path {
			return true
		}
	}
	return false
}

func (a *fakeAS) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	a.mu.Lock()
	defer a.mu.Unlock()
	a.authorizes = append(a.authorizes, q)
	redirect := q.Get("redirect_uri")
	c, ok := a.clients[q.Get("client_id")]
	if !ok && !strings.HasPrefix(q.Get("client_id"), "https://") && q.Get("client_id") != "pre-client" {
		http.Error(w, "unknown client", 400)
		return
	}
	if ok && !loopbackMatch(c.redirect, redirect) {
		http.Error(w, "redirect_uri not registered", 400)
		return
	}
	ru, _ := url.Parse(redirect)
	out := url.Values{}
	state := q.Get("state")
	if a.tamperState {
		state = "not-" + state
	}
	out.Set("state", state)
	switch a.issParam {
	case "":
	case "ok":
		out.Set("iss", a.issuer())
	default:
		out.Set("iss", a.issParam)
	}
	if a.deny != "" {
		out.Set("error", a.deny)
		out.Set("error_description", "The user said no")
	} else {
		a.seq++
		code := fmt.Sprintf("code-%d", a.seq)
		a.codes[code] = codeGrant{clientID: q.Get("client_id"), redirect: redirect, challenge: q.Get("code_challenge"), resource: q.Get("resource"), scope: q.Get("scope")}
		out.Set("code", code)
	}
	ru.RawQuery = out.Encode()
	http.Redirect(w, r, ru.String(), http.StatusFound)
}

func tokenError(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": "fake AS says " + code})
}

func (a *fakeAS) token(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	a.mu.Lock()
	defer a.mu.Unlock()
	a.tokens = append(a.tokens, r.PostForm)
	a.tokenAuth = append(a.tokenAuth, r.Header.Get("Authorization"))
	if a.tokenStatus != 0 {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(a.tokenStatus)
		io.WriteString(w, a.tokenBody)
		return
	}
	clientID := r.PostForm.Get("client_id")
	basicSecret := ""
	if u, p, ok := r.BasicAuth(); ok {
		clientID, basicSecret = u, p
	}
	if a.forgotten[clientID] {
		tokenError(w, 401, "invalid_client")
		return
	}
	jkt := ""
	if proof := r.Header.Get("DPoP"); proof != "" {
		claims, thumb, err := verifyProof(proof, "POST", a.issuer()+"/token", "")
		if err != nil {
			tokenError(w, 400, "invalid_dpop_proof")
			return
		}
		a.dpopProofs = append(a.dpopProofs, claims)
		if a.dpopNonce != "" && claims["nonce"] != a.dpopNonce {
			w.Header().Set("DPoP-Nonce", a.dpopNonce)
			tokenError(w, 400, "use_dpop_nonce")
			return
		}
		jkt = thumb
	}
	var g issuedToken
	switch r.PostForm.Get("grant_type") {
	case "client_credentials", "urn:ietf:params:oauth:grant-type:jwt-bearer":
		switch {
		case r.PostForm.Get("client_assertion") != "":
			claims, err := verifyAssertion(r.PostForm.Get("client_assertion"), a.assertionKey)
			if err != nil || r.PostForm.Get("client_assertion_type") != clientAssertionType {
				tokenError(w, 401, "invalid_client")
				return
			}
			a.assertions = append(a.assertions, claims)
			clientID, _ = claims.GetSubject()
		case basicSecret != "" || r.PostForm.Get("client_secret") != "":
			sec := basicSecret + r.PostForm.Get("client_secret")
			if want, ok := a.confidential[clientID]; !ok || want != sec {
				tokenError(w, 401, "invalid_client")
				return
			}
		case r.PostForm.Get("grant_type") == "client_credentials":
			tokenError(w, 401, "invalid_client")
			return
		}
		if r.PostForm.Get("grant_type") != "client_credentials" && r.PostForm.Get("assertion") == "" {
			tokenError(w, 400, "invalid_grant")
			return
		}
		g = issuedToken{clientID: clientID, resource: r.PostForm.Get("resource"), scope: r.PostForm.Get("scope")}
	case "authorization_code":
		c, ok := a.codes[r.PostForm.Get("code")]
		if !ok {
			tokenError(w, 400, "invalid_grant")
			return
		}
		delete(a.codes, r.PostForm.Get("code"))
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		if base64.RawURLEncoding.EncodeToString(sum[:]) != c.challenge {
			tokenError(w, 400, "invalid_grant")
			return
		}
		if c.clientID != clientID || c.redirect != r.PostForm.Get("redirect_uri") || c.resource != r.PostForm.Get("resource") {
			tokenError(w, 400, "invalid_grant")
			return
		}
		g = issuedToken{clientID: clientID, resource: c.resource, scope: c.scope}
	case "refresh_token":
		old, ok := a.refresh[r.PostForm.Get("refresh_token")]
		if !ok || old.clientID != clientID {
			tokenError(w, 400, "invalid_grant")
			return
		}
		delete(a.refresh, r.PostForm.Get("refresh_token"))
		g = old
	default:
		tokenError(w, 400, "unsupported_grant_type")
		return
	}
	if a.grantScope != "" {
		g.scope = a.grantScope
	}
	exp := a.expiresIn
	if exp == 0 {
		exp = 3600
	}
	g.expires = time.Now().Add(time.Duration(exp) * time.Second)
	g.jkt = jkt
	a.seq++
	at := fmt.Sprintf("at-%d-%s", a.seq, strings.ReplaceAll(g.scope, " ", "+"))
	rt := fmt.Sprintf("rt-%d", a.seq)
	a.issued[at] = g
	a.refresh[rt] = g
	typ := "Bearer"
	if jkt != "" {
		typ = "DPoP"
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"access_token": at, "token_type": typ, "expires_in": exp, "refresh_token": rt, "scope": g.scope})
}

// forgetClients makes the token endpoint refuse every client registered so far.
func (a *fakeAS) forgetClients() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for id := range a.clients {
		a.forgotten[id] = true
		delete(a.clients, id)
	}
}

func (a *fakeAS) lookup(token string) (issuedToken, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	g, ok := a.issued[token]
	return g, ok
}

func (a *fakeAS) counts() (registrations, authorizes, tokens int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.registrations), len(a.authorizes), len(a.tokens)
}

// fakeMCP is an MCP server protected by bearer tokens of one or more fake
// authorization servers, with protected-resource metadata.
type fakeMCP struct {
	t   *testing.T
	srv *httptest.Server
	URL string

	mu          sync.Mutex
	as          *fakeAS // the current authorization server
	scope       string  // scope asked for in the 401 challenge
	writeScope  string  // tools/call of "write" needs this scope (403 otherwise)
	forbidAll   bool    // tools/call of "write" always gets 403 insufficient_scope
	dpop        bool    // challenge with the DPoP scheme and accept only DPoP-bound tokens
	dpopNonce   string  // … with this nonce in the proof
	dpopSeen    []jwt.MapClaims
	prmOverride func(w http.ResponseWriter, r *http.Request) bool
	challenges  int
}

func newFakeMCP(t *testing.T, as *fakeAS) *fakeMCP {
	m := &fakeMCP{t: t, as: as, scope: "read"}
	server := mcp.NewServer(&mcp.Implementation{Name: "fake", Version: "1"}, nil)
	type none struct{}
	mcp.AddTool(server, &mcp.Tool{Name: "read", Description: "reads"}, func(ctx context.Context, req *mcp.CallToolRequest, _ none) (*mcp.CallToolResult, any, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "read ok"}}}, nil, nil
	})
	mcp.AddTool(server, &mcp.Tool{Name: "write", Description: "writes"}, func(ctx context.Context, req *mcp.CallToolRequest, _ none) (*mcp.CallToolResult, any, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "write ok"}}}, nil, nil
	})
	handler := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, &mcp.StreamableHTTPOptions{Stateless: true, JSONResponse: true})
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/oauth-protected-resource/mcp", m.prm)
	mux.Handle("/mcp", m.guard(handler))
	m.srv = httptest.NewServer(mux)
	m.URL = m.srv.URL + "/mcp"
	t.Cleanup(m.srv.Close)
	return m
}

func (m *fakeMCP) set(f func(m *fakeMCP)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f(m)
}

func (m *fakeMCP) prm(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	override, as, scope := m.prmOverride, m.as, m.scope
	m.mu.Unlock()
	if override != nil && override(w, r) {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"resource":              m.URL,
		"authorization_servers": []string{as.issuer()},
		"scopes_supported":      strings.Fields(scope),
	})
}

func (m *fakeMCP) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.mu.Lock()
		as, scope, writeScope, forbidAll, dpop, dpopNonce := m.as, m.scope, m.writeScope, m.forbidAll, m.dpop, m.dpopNonce
		m.mu.Unlock()
		meta := m.srv.URL + "/.well-known/oauth-protected-resource/mcp"
		scheme := "Bearer"
		if dpop {
			scheme = "DPoP"
		}
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), scheme+" ")
		g, known := as.lookup(tok)
		if ok && known && dpop {
			claims, jkt, err := verifyProof(r.Header.Get("DPoP"), r.Method, m.URL, tok)
			if err != nil || jkt != g.jkt {
				known = false
			} else {
				m.mu.Lock()
				m.dpopSeen = append(m.dpopSeen, claims)
				m.mu.Unlock()
				if dpopNonce != "" && claims["nonce"] != dpopNonce {
					w.Header().Set("DPoP-Nonce", dpopNonce)
					w.Header().Set("WWW-Authenticate", `DPoP error="use_dpop_nonce"`)
					http.Error(w, "nonce", http.StatusUnauthorized)
					return
				}
			}
		}
		if !ok || !known || time.Now().After(g.expires) || g.resource != m.URL {
			m.mu.Lock()
			m.challenges++
			m.mu.Unlock()
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`%s resource_metadata=%q, scope=%q`, scheme, meta, scope))
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		if writeScope != "" && r.Method == http.MethodPost {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(strings.NewReader(string(body)))
			var msg struct {
				Method string `json:"method"`
				Params struct {
					Name string `json:"name"`
				} `json:"params"`
			}
			json.Unmarshal(body, &msg)
			if msg.Method == "tools/call" && msg.Params.Name == "write" && (forbidAll || !slices.Contains(strings.Fields(g.scope), writeScope)) {
				w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer error="insufficient_scope", scope=%q, resource_metadata=%q`, writeScope, meta))
				http.Error(w, "forbidden", http.StatusForbidden)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// testBrowser follows the authorization redirect like a browser whose user
// approves at once. It works in the background, as a real browser does.
type testBrowser struct {
	mu     sync.Mutex
	opened []string
	errs   chan error
	// tamper, if set, changes the URL before it is followed.
	tamper func(string) string
	// ignore makes the browser do nothing (nobody logs in).
	ignore bool
}

func newTestBrowser() *testBrowser { return &testBrowser{errs: make(chan error, 16)} }

func (b *testBrowser) Open(ctx context.Context, u string) error {
	b.mu.Lock()
	b.opened = append(b.opened, u)
	tamper, ignore := b.tamper, b.ignore
	b.mu.Unlock()
	if ignore {
		return nil
	}
	if tamper != nil {
		u = tamper(u)
	}
	go func() {
		resp, err := http.Get(u)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		b.errs <- err
	}()
	return nil
}

func (b *testBrowser) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.opened)
}

// connect opens an MCP session through h.
func connect(t *testing.T, ctx context.Context, serverURL string, h *Handler) (*mcp.ClientSession, error) {
	t.Helper()
	c := mcp.NewClient(&mcp.Implementation{Name: "oauthclient-test", Version: "1"}, nil)
	return c.Connect(ctx, &mcp.StreamableClientTransport{
		Endpoint:             serverURL,
		OAuthHandler:         h,
		HTTPClient:           &http.Client{Transport: h.WrapTransport(http.DefaultTransport)},
		MaxRetries:           -1,
		DisableStandaloneSSE: true,
	}, nil)
}

// verifyProof checks a DPoP proof as an RFC 9449 server does and returns
// its claims and the SHA-256 thumbprint of its key.
func verifyProof(proof, method, uri, accessToken string) (jwt.MapClaims, string, error) {
	var jwk map[string]any
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(proof, claims, func(t *jwt.Token) (any, error) {
		if t.Header["typ"] != "dpop+jwt" {
			return nil, fmt.Errorf("typ %v", t.Header["typ"])
		}
		jwk, _ = t.Header["jwk"].(map[string]any)
		if jwk == nil || jwk["d"] != nil || jwk["kty"] != "EC" || jwk["crv"] != "P-256" {
			return nil, fmt.Errorf("bad jwk %v", jwk)
		}
		x, err1 := base64.RawURLEncoding.DecodeString(jwk["x"].(string))
		y, err2 := base64.RawURLEncoding.DecodeString(jwk["y"].(string))
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("bad jwk coordinates")
		}
		return ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
	}, jwt.WithValidMethods([]string{"ES256"}))
	if err != nil {
		return nil, "", err
	}
	if claims["htm"] != method || claims["htu"] != uri || claims["jti"] == nil || claims["iat"] == nil {
		return nil, "", fmt.Errorf("claims %v do not match %s %s", claims, method, uri)
	}
	if accessToken != "" {
		sum := sha256.Sum256([]byte(accessToken))
		if claims["ath"] != base64.RawURLEncoding.EncodeToString(sum[:]) {
			return nil, "", fmt.Errorf("ath does not match the token")
		}
	}
	thumbInput := fmt.Sprintf(`{"crv":"P-256","kty":"EC","x":%q,"y":%q}`, jwk["x"], jwk["y"])
	sum := sha256.Sum256([]byte(thumbInput))
	return claims, base64.RawURLEncoding.EncodeToString(sum[:]), nil
}

// verifyAssertion checks a private_key_jwt client assertion.
func verifyAssertion(assertion string, key *ecdsa.PublicKey) (jwt.MapClaims, error) {
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(assertion, claims, func(*jwt.Token) (any, error) { return key, nil },
		jwt.WithValidMethods([]string{"ES256"}), jwt.WithExpirationRequired(), jwt.WithIssuedAt())
	return claims, err
}
