package doctor

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/atomcp/atomcp/internal/auth/authtest"
	"github.com/atomcp/atomcp/internal/netaddr"
)

// fake is a small MCP server with an authorization server, correct by
// default; tests change one thing to reproduce one mistake. The
// authorization server speaks TLS with a certificate for 127.0.0.1 and
// *.authkit.app, and the fake's dialer sends every *.authkit.app name to
// it, so that AuthKit-specific fixes can be tested locally.
type fake struct {
	t      *testing.T
	mcpSrv *httptest.Server
	asSrv  *httptest.Server
	pool   *x509.CertPool
	cert   tls.Certificate
	key    *rsa.PrivateKey
	kid    string

	// Knobs, set by the configure functions of newFake before the
	// servers start.
	mcpTLS       bool   // serve the MCP server over TLS
	asName       string // host name of the authorization server (port 443); "" = 127.0.0.1:port
	allowHeaders string // Access-Control-Allow-Headers of the MCP endpoint's preflight
	exposeHeads  string // Access-Control-Expose-Headers of the MCP endpoint
	scope        string // scope of the challenge
	resource     func() string
	metadataURL  func() string
	authServers  func() []string
	dcrStatus    int    // status of registrations (0: 201)
	authMethod   string // token_endpoint_auth_method of registrations
	cimd         bool
	asScopes     []string // scopes_supported of the authorization server
	wrapMCP      func(http.Handler) http.Handler
	wrapAS       func(http.Handler) http.Handler
}

func newFake(t *testing.T, configure ...func(*fake)) *fake {
	t.Helper()
	f := &fake{
		t: t, key: authtest.NewKey(t), kid: "key-1",
		allowHeaders: "Authorization, Content-Type, Accept, Mcp-Session-Id, MCP-Protocol-Version, Last-Event-ID",
		exposeHeads:  "Mcp-Session-Id, MCP-Protocol-Version, WWW-Authenticate",
		scope:        "atoms:read",
		authMethod:   "none",
		cimd:         true,
		asScopes:     []string{"openid", "profile", "email", "atoms:read"},
	}
	f.cert, f.pool = testCert(t)
	f.mcpSrv = httptest.NewUnstartedServer(http.HandlerFunc(f.serveMCP))
	f.asSrv = httptest.NewUnstartedServer(http.HandlerFunc(f.serveAS))
	for _, c := range configure {
		c(f)
	}
	var mcp, as http.Handler = http.HandlerFunc(f.serveMCP), http.HandlerFunc(f.serveAS)
	if f.wrapMCP != nil {
		mcp = f.wrapMCP(mcp)
	}
	if f.wrapAS != nil {
		as = f.wrapAS(as)
	}
	f.mcpSrv.Config.Handler, f.asSrv.Config.Handler = mcp, as
	f.mcpSrv.Config.ErrorLog = log.New(io.Discard, "", 0)
	f.asSrv.Config.ErrorLog = log.New(io.Discard, "", 0)
	if f.mcpTLS {
		f.mcpSrv.TLS = &tls.Config{Certificates: []tls.Certificate{f.cert}}
		f.mcpSrv.StartTLS()
	} else {
		f.mcpSrv.Start()
	}
	f.asSrv.TLS = &tls.Config{Certificates: []tls.Certificate{f.cert}}
	f.asSrv.StartTLS()
	t.Cleanup(f.mcpSrv.Close)
	t.Cleanup(f.asSrv.Close)
	return f
}

// testCert makes a self-signed certificate for the fake's servers.
func testCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "atomcp doctor test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(365 * 24 * time.Hour),
		DNSNames:              []string{"*.authkit.app", "localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(c)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

// mcpBase is the MCP server's origin; mcpURL its MCP endpoint.
func (f *fake) mcpBase() string {
	if f.mcpTLS {
		return "https://" + f.mcpSrv.Listener.Addr().String()
	}
	return "http://" + f.mcpSrv.Listener.Addr().String()
}

func (f *fake) mcpURL() string { return f.mcpBase() + "/api/mcp" }

// issuer is the authorization server's issuer identifier.
func (f *fake) issuer() string {
	if f.asName != "" {
		return "https://" + f.asName
	}
	return "https://" + f.asSrv.Listener.Addr().String()
}

// dial sends *.authkit.app to the fake authorization server and refuses
// every other name that is not local: tests never leave the machine.
func (f *fake) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	switch {
	case err != nil:
		return nil, err
	case strings.HasSuffix(host, ".authkit.app"):
		addr = f.asSrv.Listener.Addr().String()
	case !netaddr.IsLoopbackHost(host):
		return nil, fmt.Errorf("test dialer: %s is not a local address", host)
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

// options are doctor options for the fake's MCP URL.
func (f *fake) options() Options {
	return Options{URL: f.mcpURL(), DialContext: f.dial, RootCAs: f.pool, RequestTimeout: 5 * time.Second, Timeout: 30 * time.Second}
}

// token mints an access token; change changes its claims.
func (f *fake) token(change func(jwt.MapClaims)) string {
	now := time.Now()
	c := jwt.MapClaims{
		"iss": f.issuer(), "sub": "user_1", "aud": f.mcpURL(), "scope": "openid atoms:read",
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	}
	if change != nil {
		change(c)
	}
	return authtest.Sign(f.t, jwt.SigningMethodRS256, f.kid, f.key, c)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// serveMCP is the MCP server: CORS first, then the protected-resource
// document, then the MCP endpoint behind a bearer check.
func (f *fake) serveMCP(w http.ResponseWriter, r *http.Request) {
	if o := r.Header.Get("Origin"); o != "" {
		w.Header().Set("Access-Control-Allow-Origin", o)
		w.Header().Set("Access-Control-Expose-Headers", f.exposeHeads)
		if r.Method == http.MethodOptions {
			w.Header().Set("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS")
			allow := f.allowHeaders
			if strings.HasPrefix(r.URL.Path, "/.well-known/") {
				allow = "*"
			}
			w.Header().Set("Access-Control-Allow-Headers", allow)
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	switch r.URL.Path {
	case "/.well-known/oauth-protected-resource/api/mcp", "/.well-known/oauth-protected-resource":
		res := f.mcpURL()
		if f.resource != nil {
			res = f.resource()
		}
		servers := []string{f.issuer()}
		if f.authServers != nil {
			servers = f.authServers()
		}
		writeJSON(w, 200, map[string]any{"resource": res, "authorization_servers": servers, "scopes_supported": []string{"atoms:read"}, "bearer_methods_supported": []string{"header"}})
	case "/api/mcp":
		f.serveRPC(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (f *fake) challenge(w http.ResponseWriter, status int, params string) {
	meta := f.mcpBase() + "/.well-known/oauth-protected-resource/api/mcp"
	if f.metadataURL != nil {
		meta = f.metadataURL()
	}
	h := `Bearer resource_metadata="` + meta + `", scope="` + f.scope + `"`
	if params != "" {
		h = "Bearer " + params + `, resource_metadata="` + meta + `", scope="` + f.scope + `"`
	}
	w.Header().Set("WWW-Authenticate", h)
	writeJSON(w, status, map[string]string{"error": "unauthorized"})
}

// serveRPC answers initialize with JSON and tools/list with an event
// stream, for a token signed by the fake's key for this MCP URL.
func (f *fake) serveRPC(w http.ResponseWriter, r *http.Request) {
	bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		f.challenge(w, http.StatusUnauthorized, "")
		return
	}
	claims := jwt.MapClaims{}
	if _, err := jwt.NewParser(jwt.WithValidMethods([]string{"RS256"})).ParseWithClaims(bearer, claims, func(*jwt.Token) (any, error) { return &f.key.PublicKey, nil }); err != nil {
		f.challenge(w, http.StatusUnauthorized, `error="invalid_token", error_description="`+strings.ReplaceAll(err.Error(), `"`, "'")+`"`)
		return
	}
	if aud, _ := claims.GetAudience(); !slices.Contains(aud, f.mcpURL()) {
		f.challenge(w, http.StatusUnauthorized, `error="invalid_token", error_description="the token's audience '`+strings.Join(aud, ",")+`' is not this server (`+f.mcpURL()+`)"`)
		return
	}
	switch r.Method {
	case http.MethodDelete:
		w.WriteHeader(http.StatusNoContent)
		return
	case http.MethodGet: // no standalone event stream
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	var req struct {
		ID     json.RawMessage `json:"id"`
		Method string          `json:"method"`
	}
	body, _ := io.ReadAll(r.Body)
	_ = json.Unmarshal(body, &req)
	switch req.Method {
	case "initialize":
		w.Header().Set("Mcp-Session-Id", "session-1")
		res := map[string]any{"jsonrpc": "2.0", "id": req.ID, "result": map[string]any{
			"protocolVersion": "2025-11-25", "capabilities": map[string]any{"tools": map[string]any{}},
			"serverInfo": map[string]any{"name": "fake", "version": "1"},
		}}
		if accept := r.Header.Get("Accept"); strings.Contains(accept, "text/event-stream") && !strings.Contains(accept, "application/json") {
			// A client that reads only event streams gets one.
			w.Header().Set("Content-Type", "text/event-stream")
			b, _ := json.Marshal(res)
			_, _ = io.WriteString(w, "event: message\ndata: "+string(b)+"\n\n")
			return
		}
		writeJSON(w, 200, res)
	case "tools/list":
		if r.Header.Get("Mcp-Session-Id") != "session-1" {
			writeJSON(w, 400, map[string]any{"jsonrpc": "2.0", "id": req.ID, "error": map[string]any{"code": -32600, "message": "Bad Request: No valid session ID"}})
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		res, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": req.ID, "result": map[string]any{"tools": []map[string]any{{"name": "echo"}, {"name": "entity_tool"}}}})
		_, _ = io.WriteString(w, "event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{}}\n\nevent: message\ndata: "+string(res)+"\n\n")
	default:
		if len(req.ID) == 0 { // a notification
			w.WriteHeader(http.StatusAccepted)
			return
		}
		writeJSON(w, 200, map[string]any{"jsonrpc": "2.0", "id": req.ID, "error": map[string]any{"code": -32601, "message": "Method not found"}})
	}
}

// serveAS is the authorization server: metadata at both well-known
// names, JWKS, registration and a token endpoint that refuses every code.
func (f *fake) serveAS(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Origin") != "" {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		if r.Method == http.MethodOptions {
			w.Header().Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
			w.Header().Set("Access-Control-Allow-Headers", r.Header.Get("Access-Control-Request-Headers"))
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	iss := f.issuer()
	switch r.URL.Path {
	case "/.well-known/oauth-authorization-server", "/.well-known/openid-configuration":
		writeJSON(w, 200, map[string]any{
			"issuer":                                iss,
			"authorization_endpoint":                iss + "/oauth2/authorize",
			"token_endpoint":                        iss + "/oauth2/token",
			"registration_endpoint":                 iss + "/oauth2/register",
			"jwks_uri":                              iss + "/oauth2/jwks",
			"response_types_supported":              []string{"code"},
			"code_challenge_methods_supported":      []string{"S256"},
			"scopes_supported":                      f.asScopes,
			"grant_types_supported":                 []string{"authorization_code", "refresh_token"},
			"token_endpoint_auth_methods_supported": []string{"none", "client_secret_basic"},
			"client_id_metadata_document_supported": f.cimd,
		})
	case "/oauth2/jwks":
		pub := f.key.PublicKey
		writeJSON(w, 200, map[string]any{"keys": []map[string]string{{
			"kty": "RSA", "use": "sig", "alg": "RS256", "kid": f.kid,
			"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
		}}})
	case "/oauth2/register":
		if f.dcrStatus != 0 {
			writeJSON(w, f.dcrStatus, map[string]string{"error": "forbidden", "message": "Dynamic client registration is not enabled"})
			return
		}
		var req struct {
			RedirectURIs []string `json:"redirect_uris"`
		}
		_ = json.NewDecoder(r.Body).Decode(&req)
		ans := map[string]any{"client_id": "client_01TESTCLIENT", "redirect_uris": req.RedirectURIs, "token_endpoint_auth_method": f.authMethod}
		if f.authMethod != "none" {
			ans["client_secret"] = "secret-that-must-not-be-printed"
		}
		writeJSON(w, http.StatusCreated, ans)
	case "/oauth2/authorize":
		// The user approves at once.
		q := r.URL.Query()
		http.Redirect(w, r, q.Get("redirect_uri")+"?code=doctor-login-code&state="+url.QueryEscape(q.Get("state")), http.StatusFound)
	case "/oauth2/token":
		if r.PostFormValue("grant_type") != "authorization_code" || r.PostFormValue("code") != "doctor-login-code" {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant"})
			return
		}
		writeJSON(w, 200, map[string]any{"access_token": f.token(nil), "token_type": "Bearer", "expires_in": 3600, "scope": "atoms:read"})
	default:
		http.NotFound(w, r)
	}
}

// knownIDs are the finding IDs declared in ids.go.
func knownIDs(t *testing.T) []string {
	t.Helper()
	file, err := parser.ParseFile(token.NewFileSet(), "ids.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	ast.Inspect(file, func(n ast.Node) bool {
		if vs, ok := n.(*ast.ValueSpec); ok {
			for i, name := range vs.Names {
				if strings.HasPrefix(name.Name, "ID") {
					if lit, ok := vs.Values[i].(*ast.BasicLit); ok {
						s, _ := strconv.Unquote(lit.Value)
						ids = append(ids, s)
					}
				}
			}
		}
		return true
	})
	if len(ids) < 40 {
		t.Fatalf("found only %d IDs in ids.go", len(ids))
	}
	return ids
}

// run runs doctor and checks what every report must satisfy: known IDs,
// a fix on every warning and failure, and the summary.
func runDoctor(t *testing.T, o Options) *Report {
	t.Helper()
	rep, err := Run(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	ids := knownIDs(t)
	var s Summary
	for _, f := range rep.Findings {
		if !slices.Contains(ids, f.ID) {
			t.Errorf("finding with undeclared ID %q: %s", f.ID, f.Title)
		}
		if (f.Status == Warn || f.Status == Fail) && f.Fix == "" {
			t.Errorf("%s %s without a fix: %s", f.Status, f.ID, f.Title)
		}
		switch f.Status {
		case Pass:
			s.Pass++
		case Warn:
			s.Warn++
		case Fail:
			s.Fail++
		case Skip:
			s.Skip++
		}
	}
	if s != rep.Summary {
		t.Errorf("summary %+v, counted %+v", rep.Summary, s)
	}
	return rep
}

// expectFail checks that the finding id failed with a fix containing
// every one of wantFix, and that every other failure is one of the
// consequences named.
func expectFail(t *testing.T, rep *Report, id string, wantFix []string, consequences ...string) Finding {
	t.Helper()
	var got *Finding
	for i, f := range rep.Findings {
		switch {
		case f.Status != Fail:
		case f.ID == id && got == nil:
			got = &rep.Findings[i]
		case f.ID != id && !slices.Contains(consequences, f.ID):
			t.Errorf("unexpected failure %s: %s (fix: %s)", f.ID, f.Title, f.Fix)
		}
	}
	if got == nil {
		t.Fatalf("no failure %s; report:\n%s", id, textOf(t, rep))
	}
	for _, w := range wantFix {
		if !strings.Contains(got.Fix, w) {
			t.Errorf("%s: the fix does not mention %q:\n%s", id, w, got.Fix)
		}
	}
	return *got
}

// expectClean checks that nothing warned or failed.
func expectClean(t *testing.T, rep *Report) {
	t.Helper()
	for _, f := range rep.Findings {
		if f.Status == Warn || f.Status == Fail {
			t.Errorf("%s %s: %s\n  observed: %s\n  fix: %s", f.Status, f.ID, f.Title, f.Observed.String(), f.Fix)
		}
	}
}

func textOf(t *testing.T, rep *Report) string {
	var b strings.Builder
	if err := WriteText(&b, rep); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// autoBrowser is a browser whose user approves at once: it follows the
// authorization URL to the loopback callback, in the background.
type autoBrowser struct {
	f      *fake
	opened chan string
}

func (b *autoBrowser) Open(_ context.Context, u string) error {
	b.opened <- u
	client := &http.Client{Transport: &http.Transport{DialContext: b.f.dial, TLSClientConfig: &tls.Config{RootCAs: b.f.pool}}}
	go func() {
		resp, err := client.Get(u)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}()
	return nil
}
