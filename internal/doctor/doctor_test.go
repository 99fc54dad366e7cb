package doctor

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TestCorrectServer: against a correct server with a correct token,
// every check passes, the test registration included.
func TestCorrectServer(t *testing.T) {
	f := newFake(t)
	o := f.options()
	o.Register = true
	o.Token = f.token(nil)
	rep := runDoctor(t, o)
	expectClean(t, rep)
	for _, id := range []string{IDReachConnect, IDChallengeHeader, IDChallengeMetadata, IDChallengeExpose, IDPRMFetch, IDPRMResource,
		IDASMetadata, IDASIssuer, IDASPKCE, IDRegisterOptions, IDRegisterDCR, IDRegisterAuthMethod, IDCORSPreflight, IDCORSAllowOrigin,
		IDCORSAllowHeaders, IDCORSExposeHeaders, IDJWKSFetch, IDJWKSKeys, IDJWKSAlgorithms, IDTokenFormat, IDTokenSignature,
		IDTokenIssuer, IDTokenAudience, IDTokenExpiry, IDTokenScopes, IDTokenInitialize, IDTokenToolsList} {
		fs := rep.Find(id)
		if len(fs) == 0 || fs[0].Status != Pass {
			t.Errorf("%s: %+v", id, fs)
		}
	}
	if rep.Failed() {
		t.Error("Failed() on a clean report")
	}
	if got := rep.Find(IDTokenToolsList)[0].Title; !strings.Contains(got, "2 tools") {
		t.Errorf("tools/list over an event stream: %q", got)
	}
	text := textOf(t, rep)
	if strings.Contains(text, o.Token) || strings.Contains(text, "secret-that-must-not-be-printed") {
		t.Error("the report contains a secret")
	}
}

// The mistakes of the "Done when", one server each.

func TestMissingProtocolVersionHeader(t *testing.T) {
	f := newFake(t, func(f *fake) { f.allowHeaders = "Authorization, Content-Type, Mcp-Session-Id" })
	rep := runDoctor(t, f.options())
	got := expectFail(t, rep, IDCORSAllowHeaders, []string{"mcp-protocol-version", "Access-Control-Allow-Headers", "Request header field mcp-protocol-version is not allowed"})
	if !strings.Contains(got.Title, "MCP endpoint") || !strings.Contains(got.Title, "mcp-protocol-version") {
		t.Errorf("title %q", got.Title)
	}
}

func TestPreflightRedirectedToHTTPS(t *testing.T) {
	f := newFake(t, func(f *fake) {
		f.wrapMCP = func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodOptions {
					http.Redirect(w, r, "https://"+r.Host+r.URL.Path, http.StatusMovedPermanently)
					return
				}
				next.ServeHTTP(w, r)
			})
		}
	})
	rep := runDoctor(t, f.options())
	got := expectFail(t, rep, IDCORSPreflight, []string{"Redirect is not allowed for a preflight request", "Full (strict)", "https://"})
	if !strings.Contains(got.Title, "MCP endpoint") || got.Observed.Status != http.StatusMovedPermanently {
		t.Errorf("finding %+v", got)
	}
}

func TestRedirectLoop(t *testing.T) {
	f := newFake(t, func(f *fake) {
		f.wrapMCP = func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch r.URL.Path {
				case "/api/mcp":
					http.Redirect(w, r, "/api/mcp/", http.StatusMovedPermanently)
				case "/api/mcp/":
					http.Redirect(w, r, "/api/mcp", http.StatusMovedPermanently)
				default:
					next.ServeHTTP(w, r)
				}
			})
		}
	})
	rep := runDoctor(t, f.options())
	got := expectFail(t, rep, IDReachRedirectLoop, []string{"trailing slash"})
	if !strings.Contains(got.Title, "loop") {
		t.Errorf("title %q", got.Title)
	}
}

func TestWrongAuthKitDomain(t *testing.T) {
	f := newFake(t, func(f *fake) {
		f.authServers = func() []string { return []string{"https://wrong-domain.authkit.app"} }
		f.wrapAS = notFoundFor("wrong-domain.")
	})
	rep := runDoctor(t, f.options())
	got := expectFail(t, rep, IDASMetadata, []string{"WorkOS dashboard", "Domains", "ATOMCP_AUTHKIT_DOMAIN", "https://wrong-domain.authkit.app/.well-known/oauth-authorization-server"})
	if !strings.Contains(got.Observed.Detail, "openid-configuration → 404") {
		t.Errorf("the tried URLs are not shown: %q", got.Observed.Detail)
	}
}

func TestDCRDisabledAtAuthKit(t *testing.T) {
	f := newFake(t, func(f *fake) { f.asName = "my-app.authkit.app"; f.dcrStatus = http.StatusForbidden })
	o := f.options()
	o.Register = true
	rep := runDoctor(t, o)
	got := expectFail(t, rep, IDRegisterDCR, []string{"Connect → Configuration", "MCP Auth", "Dynamic Client Registration", "Client ID Metadata Document", "Cannot transition from step: client_registration"})
	if got.Observed.Status != http.StatusForbidden {
		t.Errorf("observed %+v", got.Observed)
	}
	// Without --register the registration is only advertised: a skip
	// that says how to try it.
	rep = runDoctor(t, f.options())
	if fs := rep.Find(IDRegisterDCR); len(fs) != 1 || fs[0].Status != Skip || !strings.Contains(fs[0].Title, "--register") {
		t.Errorf("without --register: %+v", fs)
	}
}

func TestNoRegistrationAtAll(t *testing.T) {
	f := newFake(t, func(f *fake) {
		f.cimd = false
		f.wrapAS = func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if strings.HasPrefix(r.URL.Path, "/.well-known/") {
					rec := &captured{header: http.Header{}}
					next.ServeHTTP(rec, r)
					body := strings.Replace(rec.body.String(), `"registration_endpoint"`, `"x_registration_endpoint"`, 1)
					for k, v := range rec.header {
						w.Header()[k] = v
					}
					w.WriteHeader(rec.status)
					_, _ = w.Write([]byte(body))
					return
				}
				next.ServeHTTP(w, r)
			})
		}
	})
	rep := runDoctor(t, f.options())
	expectFail(t, rep, IDRegisterOptions, []string{"Cannot transition from step: client_registration", "Dynamic Client Registration"})
}

func TestPublicClientGotSecret(t *testing.T) {
	f := newFake(t, func(f *fake) { f.asName = "my-app.authkit.app"; f.authMethod = "client_secret_basic" })
	o := f.options()
	o.Register = true
	rep := runDoctor(t, o)
	fs := rep.Find(IDRegisterAuthMethod)
	if len(fs) != 1 || fs[0].Status != Warn || !strings.Contains(fs[0].Fix, "client_secret_basic") || !strings.Contains(fs[0].Title, "client_secret_basic") {
		t.Fatalf("auth method: %+v", fs)
	}
	if strings.Contains(textOf(t, rep), "secret-that-must-not-be-printed") {
		t.Error("the client secret is printed")
	}
}

func TestResourceWithTrailingSlash(t *testing.T) {
	var f *fake
	f = newFake(t, func(ff *fake) { ff.resource = func() string { return f.mcpURL() + "/" } })
	rep := runDoctor(t, f.options())
	got := expectFail(t, rep, IDPRMResource, []string{"exactly", f.mcpURL()})
	if !strings.Contains(got.Title, "trailing slash") {
		t.Errorf("title %q", got.Title)
	}
}

func TestTokenWithWrongAudience(t *testing.T) {
	f := newFake(t, func(f *fake) { f.asName = "my-app.authkit.app" })
	o := f.options()
	o.Token = f.token(func(c jwt.MapClaims) { c["aud"] = "https://my-app.authkit.app" })
	rep := runDoctor(t, o)
	got := expectFail(t, rep, IDTokenAudience, []string{"MCP resource indicators", f.mcpURL(), "resource=", "ATOMCP_AUTH_AUDIENCE"},
		IDTokenInitialize) // the server refuses the token for the same reason
	if !strings.Contains(got.Title, "https://my-app.authkit.app") {
		t.Errorf("title %q", got.Title)
	}
	if in := rep.Find(IDTokenInitialize)[0]; !strings.Contains(in.Title, "audience") || !strings.Contains(in.Fix, "MCP resource indicators") {
		t.Errorf("initialize: %+v", in)
	}
}

func TestProxyTurnsHTTPSIntoHTTP(t *testing.T) {
	var f *fake
	f = newFake(t, func(ff *fake) {
		ff.mcpTLS = true
		ff.resource = func() string { return strings.Replace(f.mcpURL(), "https://", "http://", 1) }
		ff.metadataURL = func() string {
			return strings.Replace(f.mcpBase(), "https://", "http://", 1) + "/.well-known/oauth-protected-resource/api/mcp"
		}
	})
	rep := runDoctor(t, f.options())
	got := expectFail(t, rep, IDPRMResource, []string{"ATOMCP_BASE_URL=" + f.mcpBase(), "X-Forwarded-Proto", "ATOMCP_TRUSTED_PROXIES"},
		IDChallengeMetadata, IDPRMFetch) // the challenge names the http:// document too, which a TLS port cannot serve
	if !strings.Contains(got.Title, "http://") {
		t.Errorf("title %q", got.Title)
	}
	if ch := rep.Find(IDChallengeMetadata)[0]; ch.Status != Fail || !strings.Contains(ch.Fix, "ATOMCP_BASE_URL") {
		t.Errorf("challenge: %+v", ch)
	}
	if tl := rep.Find(IDReachTLS); len(tl) != 1 || tl[0].Status != Pass {
		t.Errorf("TLS: %+v", tl)
	}
}

// Bad input: each is a finding, never a crash or a hang.

func TestNotAURL(t *testing.T) {
	for _, u := range []string{"::not a url", "ftp://example.com/mcp", "example.com/api/mcp", "http:///api/mcp"} {
		rep := runDoctor(t, Options{URL: u})
		expectFail(t, rep, IDReachURL, []string{"https://mcp.example.com/api/mcp"})
	}
}

func TestUnresolvableHost(t *testing.T) {
	rep := runDoctor(t, Options{URL: "https://doctor-test.invalid/api/mcp", RequestTimeout: 10 * time.Second})
	got := expectFail(t, rep, IDReachDNS, []string{"dig doctor-test.invalid"})
	if !strings.Contains(got.Title, "doctor-test.invalid") {
		t.Errorf("title %q", got.Title)
	}
}

func TestConnectionRefused(t *testing.T) {
	f := newFake(t)
	u := f.mcpURL()
	f.mcpSrv.Close()
	rep := runDoctor(t, Options{URL: u})
	expectFail(t, rep, IDReachConnect, []string{"atomcp serve"})
}

func TestHangingServer(t *testing.T) {
	release := make(chan struct{})
	f := newFake(t, func(f *fake) {
		f.wrapMCP = func(http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				select {
				case <-r.Context().Done():
				case <-release:
				}
			})
		}
	})
	defer close(release)
	o := f.options()
	o.RequestTimeout = 200 * time.Millisecond
	start := time.Now()
	rep := runDoctor(t, o)
	expectFail(t, rep, IDReachTimeout, []string{"never answers"})
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s", d)
	}
}

// TestRunIsBounded: a server whose metadata hangs cannot hold the run
// past its overall timeout, even when each request may take longer.
func TestRunIsBounded(t *testing.T) {
	release := make(chan struct{})
	f := newFake(t, func(f *fake) {
		f.wrapAS = func(http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				select {
				case <-r.Context().Done():
				case <-release:
				}
			})
		}
	})
	defer close(release)
	o := f.options()
	o.RequestTimeout = 20 * time.Second
	o.Timeout = 1 * time.Second
	start := time.Now()
	rep := runDoctor(t, o)
	if d := time.Since(start); d > 6*time.Second {
		t.Errorf("the run took %s with a 1s bound", d)
	}
	if fs := rep.Find(IDASMetadata); len(fs) == 0 || fs[0].Status != Fail {
		t.Errorf("metadata of a hanging authorization server: %+v", fs)
	}
}

func TestHTMLInsteadOfJSON(t *testing.T) {
	f := newFake(t, func(f *fake) {
		f.wrapMCP = func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if strings.HasPrefix(r.URL.Path, "/.well-known/") {
					w.Header().Set("Content-Type", "text/html")
					_, _ = w.Write([]byte("<!doctype html><html><body>Welcome to our app</body></html>"))
					return
				}
				next.ServeHTTP(w, r)
			})
		}
	})
	rep := runDoctor(t, f.options())
	got := expectFail(t, rep, IDPRMFetch, []string{"catch-all"})
	if !strings.Contains(got.Title, "HTML") {
		t.Errorf("title %q", got.Title)
	}
}

func TestHugeMetadataDocument(t *testing.T) {
	f := newFake(t, func(f *fake) {
		f.wrapAS = func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if strings.HasPrefix(r.URL.Path, "/.well-known/") {
					w.Header().Set("Content-Type", "application/json")
					_, _ = w.Write([]byte(`{"issuer":"`))
					chunk := []byte(strings.Repeat("x", 64<<10))
					for i := 0; i < 160; i++ { // 10 MB
						if _, err := w.Write(chunk); err != nil {
							return
						}
					}
					_, _ = w.Write([]byte(`"}`))
					return
				}
				next.ServeHTTP(w, r)
			})
		}
	})
	rep := runDoctor(t, f.options())
	got := expectFail(t, rep, IDASMetadata, []string{"curl"})
	if !strings.Contains(got.Observed.Detail, "too large") {
		t.Errorf("observed %q", got.Observed.Detail)
	}
}

func TestEndlessRedirectChain(t *testing.T) {
	f := newFake(t, func(f *fake) {
		f.wrapMCP = func(http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				var n int
				fmt.Sscanf(r.URL.Query().Get("n"), "%d", &n)
				http.Redirect(w, r, fmt.Sprintf("/api/mcp?n=%d", n+1), http.StatusTemporaryRedirect)
			})
		}
	})
	rep := runDoctor(t, f.options())
	got := expectFail(t, rep, IDReachRedirectLoop, []string{"-v"})
	if !strings.Contains(got.Title, "more than 10 redirects") {
		t.Errorf("title %q", got.Title)
	}
}

func TestUsageErrors(t *testing.T) {
	if _, err := Run(t.Context(), Options{}); !errors.Is(err, ErrUsage) {
		t.Errorf("no URL and no config: %v", err)
	}
	if _, err := Run(t.Context(), Options{URL: "http://127.0.0.1:1/", Origin: "claude.ai"}); !errors.Is(err, ErrUsage) {
		t.Errorf("bad origin: %v", err)
	}
}

// captured records what a handler wrote.
type captured struct {
	header http.Header
	status int
	body   strings.Builder
}

func (c *captured) Header() http.Header         { return c.header }
func (c *captured) Write(b []byte) (int, error) { return c.body.Write(b) }
func (c *captured) WriteHeader(s int)           { c.status = s }

// TestLogin: --login runs the real OAuth flow with atomcp's client and
// lists the tools with the token it got.
func TestLogin(t *testing.T) {
	f := newFake(t, func(f *fake) { f.asName = "my-app.authkit.app" })
	b := &autoBrowser{f: f, opened: make(chan string, 4)}
	o := f.options()
	o.Login = true
	o.LoginBrowser = b
	o.LoginPrompt = io.Discard
	o.LoginTimeout = 20 * time.Second
	o.Verbose = true
	rep := runDoctor(t, o)
	expectClean(t, rep)
	fs := rep.Find(IDLogin)
	if len(fs) != 1 || fs[0].Status != Pass || !strings.Contains(fs[0].Title, "listed 2 tools") || !strings.Contains(fs[0].Title, "https://my-app.authkit.app") {
		t.Fatalf("login: %+v", fs)
	}
	if u := <-b.opened; !strings.HasPrefix(u, "https://my-app.authkit.app/oauth2/authorize?") || !strings.Contains(u, "resource=") {
		t.Errorf("opened %s", u)
	}
	for _, x := range rep.Exchanges {
		if a := x.RequestHeaders["Authorization"]; a != "" && !strings.Contains(a, "chars)") {
			t.Errorf("unredacted Authorization in -v: %s %s: %q", x.Method, x.URL, a)
		}
	}
}

func TestLoginFailsWhenRegistrationIsOff(t *testing.T) {
	f := newFake(t, func(f *fake) { f.asName = "my-app.authkit.app"; f.dcrStatus = http.StatusForbidden })
	o := f.options()
	o.Login = true
	o.LoginBrowser = &autoBrowser{f: f, opened: make(chan string, 4)}
	o.LoginPrompt = io.Discard
	rep := runDoctor(t, o)
	fs := rep.Find(IDLogin)
	if len(fs) != 1 || fs[0].Status != Fail || fs[0].Fix == "" {
		t.Fatalf("login: %+v", fs)
	}
}

// notFoundFor makes the authorization server answer 404 to every request
// for a host name starting with prefix: a domain that exists but is not
// the identity provider's.
func notFoundFor(prefix string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.Host, prefix) {
				http.NotFound(w, r)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}
