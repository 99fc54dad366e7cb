package connectortest

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"testing"

	"github.com/oauth2-proxy/mockoidc"
)

// AuthKit is an AuthKit domain for tests: mockoidc (a real OpenID
// provider) served at the root of its own host, as an AuthKit domain is
// (https://<phrase>.authkit.app, no path), with AuthKit's RFC 8414
// metadata offering neither Dynamic Client Registration nor Client ID
// Metadata Documents. Users are queued with Queue, which makes their ID
// tokens name the domain as issuer.
type AuthKit struct {
	*mockoidc.MockOIDC
	// Domain is the AuthKit domain: http://127.0.0.1:port.
	Domain string
}

// NewAuthKit starts the provider and its front; both stop with the test.
func NewAuthKit(t testing.TB) *AuthKit {
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	target, _ := url.Parse(m.Addr())
	a := &AuthKit{MockOIDC: m}
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(target)
		r.Out.URL.Path = mockoidc.IssuerBase + r.In.URL.Path
		r.Out.URL.RawPath = ""
		r.Out.Host = target.Host
	}}
	// Discovery names the mock's URLs; the front's are the same without
	// the /oidc prefix.
	proxy.ModifyResponse = func(resp *http.Response) error {
		if resp.Request.URL.Path != mockoidc.DiscoveryEndpoint {
			return nil
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		body = bytes.ReplaceAll(body, []byte(m.Issuer()), []byte(a.Domain))
		resp.Body = io.NopCloser(bytes.NewReader(body))
		resp.ContentLength = int64(len(body))
		resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
		return nil
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, map[string]any{"issuer": a.Domain, "authorization_endpoint": a.Domain + "/authorize", "token_endpoint": a.Domain + "/token",
			"jwks_uri": a.Domain + "/.well-known/jwks.json", "code_challenge_methods_supported": []string{"S256"}})
	})
	mux.Handle("/", proxy)
	// The domain is set before the server starts: the handlers read it,
	// and the atomcp binary's requests bring no happens-before edge.
	srv := httptest.NewUnstartedServer(mux)
	a.Domain = "http://" + srv.Listener.Addr().String()
	srv.Start()
	t.Cleanup(srv.Close)
	return a
}

// Queue makes u the next person to sign in, with the domain as the
// issuer of their ID token.
func (a *AuthKit) Queue(u *User) {
	if u.Override == nil {
		u.Override = map[string]string{}
	}
	if _, ok := u.Override["iss"]; !ok {
		u.Override["iss"] = a.Domain
	}
	a.QueueUser(u)
}
