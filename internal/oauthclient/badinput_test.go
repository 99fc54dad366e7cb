package oauthclient

import (
	"encoding/json"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// Every bad input of the OAuth client ends with one *Error of the right kind whose
// one sentence names where it went wrong, shows no secret, and leaves the
// cache as it was.
func TestBadInput(t *testing.T) {
	closedAddr := func(t *testing.T) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		return addr
	}
	prmPointingAt := func(as string) func(m *fakeMCP) {
		return func(m *fakeMCP) {
			m.prmOverride = func(w http.ResponseWriter, r *http.Request) bool {
				w.Header().Set("Content-Type", "application/json")
				json.NewEncoder(w).Encode(map[string]any{"resource": m.URL, "authorization_servers": []string{as}})
				return true
			}
		}
	}
	tests := []struct {
		name  string
		setup func(t *testing.T, e *env, cfg *Config)
		kind  Kind
		want  []string // substrings of the message; "$MCP", "$AS" and "$PRM" are replaced
	}{
		{
			name: "authorization server down",
			setup: func(t *testing.T, e *env, _ *Config) {
				e.mcp.set(prmPointingAt("http://" + closedAddr(t)))
			},
			kind: KindUnreachable,
			want: []string{"cannot reach 127.0.0.1:", "connection refused"},
		},
		{
			name: "protected-resource metadata is HTML",
			setup: func(t *testing.T, e *env, _ *Config) {
				e.mcp.set(func(m *fakeMCP) {
					m.prmOverride = func(w http.ResponseWriter, r *http.Request) bool {
						w.Header().Set("Content-Type", "text/html; charset=utf-8")
						w.Write([]byte("<html>login</html>"))
						return true
					}
				})
			},
			kind: KindNotJSON,
			want: []string{"protected-resource metadata at $PRM", "HTML page, not JSON"},
		},
		{
			name:  "authorization-server metadata is HTML",
			setup: func(t *testing.T, e *env, _ *Config) { e.as.set(func(a *fakeAS) { a.metaHTML = true }) },
			kind:  KindNotJSON,
			want:  []string{"authorization-server metadata at $AS/.well-known/oauth-authorization-server", "HTML"},
		},
		{
			name: "protected-resource metadata for another resource",
			setup: func(t *testing.T, e *env, _ *Config) {
				e.mcp.set(func(m *fakeMCP) {
					m.prmOverride = func(w http.ResponseWriter, r *http.Request) bool {
						w.Header().Set("Content-Type", "application/json")
						json.NewEncoder(w).Encode(map[string]any{"resource": "https://evil.example.com/mcp", "authorization_servers": []string{e.as.issuer()}})
						return true
					}
				})
			},
			kind: KindResourceMismatch,
			want: []string{"$PRM", `"https://evil.example.com/mcp"`, `not "$MCP"`},
		},
		{
			name: "authorization-server metadata of another issuer",
			setup: func(t *testing.T, e *env, _ *Config) {
				e.as.set(func(a *fakeAS) { a.meta = map[string]any{"issuer": "https://attacker.example.com"} })
			},
			kind: KindIssuerMismatch,
			want: []string{`"https://attacker.example.com"`, `must be "$AS"`},
		},
		{
			name: "no PKCE listed",
			setup: func(t *testing.T, e *env, _ *Config) {
				e.as.set(func(a *fakeAS) { a.meta = map[string]any{"code_challenge_methods_supported": nil} })
			},
			kind: KindNoPKCE,
			want: []string{"$AS does not support PKCE with S256", "it lists none"},
		},
		{
			name: "PKCE without S256",
			setup: func(t *testing.T, e *env, _ *Config) {
				e.as.set(func(a *fakeAS) { a.meta = map[string]any{"code_challenge_methods_supported": []string{"plain"}} })
			},
			kind: KindNoPKCE,
			want: []string{"it lists plain"},
		},
		{
			name:  "callback with a wrong state",
			setup: func(t *testing.T, e *env, _ *Config) { e.as.set(func(a *fakeAS) { a.tamperState = true }) },
			kind:  KindState,
			want:  []string{"state does not match"},
		},
		{
			name:  "callback with access_denied",
			setup: func(t *testing.T, e *env, _ *Config) { e.as.set(func(a *fakeAS) { a.deny = "access_denied" }) },
			kind:  KindDenied,
			want:  []string{"refused the login: access_denied (The user said no)"},
		},
		{
			name: "token endpoint answers 500",
			setup: func(t *testing.T, e *env, _ *Config) {
				e.as.set(func(a *fakeAS) { a.tokenStatus, a.tokenBody = 500, `{"oops":true}` })
			},
			kind: KindTokenEndpoint,
			want: []string{"token endpoint $AS/token answered HTTP 500"},
		},
		{
			name: "token endpoint answers invalid JSON",
			setup: func(t *testing.T, e *env, _ *Config) {
				e.as.set(func(a *fakeAS) { a.tokenStatus, a.tokenBody = 200, `{"access_token": "at-secret-1",` })
			},
			kind: KindTokenEndpoint,
			want: []string{"token endpoint $AS/token answered with invalid JSON"},
		},
		{
			name: "redirect loop",
			setup: func(t *testing.T, e *env, _ *Config) {
				e.mcp.set(func(m *fakeMCP) {
					m.prmOverride = func(w http.ResponseWriter, r *http.Request) bool {
						http.Redirect(w, r, r.URL.Path, http.StatusFound)
						return true
					}
				})
			},
			kind: KindRedirect,
			want: []string{"$PRM was redirected more than 10 times"},
		},
		{
			name: "TLS error",
			setup: func(t *testing.T, e *env, _ *Config) {
				tlsAS := httptest.NewUnstartedServer(http.NotFoundHandler())
				tlsAS.Config.ErrorLog = log.New(io.Discard, "", 0)
				tlsAS.StartTLS()
				t.Cleanup(tlsAS.Close)
				e.mcp.set(prmPointingAt(tlsAS.URL))
			},
			kind: KindTLS,
			want: []string{"TLS error talking to 127.0.0.1:", "unknown authority"},
		},
		{
			name: "no registration endpoint",
			setup: func(t *testing.T, e *env, _ *Config) {
				e.as.set(func(a *fakeAS) { a.meta = map[string]any{"registration_endpoint": nil} })
			},
			kind: KindNoRegistration,
			want: []string{"$AS offers no dynamic client registration", "--client-id"},
		},
		{
			name: "metadata document not supported",
			setup: func(t *testing.T, e *env, cfg *Config) {
				cfg.Registration = Registration{MetadataURL: "https://client.example.com/atomcp.json"}
			},
			kind: KindNoRegistration,
			want: []string{"$AS does not accept client ID metadata documents"},
		},
		{
			name: "nobody logs in",
			setup: func(t *testing.T, e *env, cfg *Config) {
				e.browser.ignore = true
				cfg.LoginTimeout = 300 * time.Millisecond
			},
			kind: KindCallback,
			want: []string{"nobody completed the login at $AS within 300ms"},
		},
		{
			name: "iss of another issuer",
			setup: func(t *testing.T, e *env, _ *Config) {
				e.as.set(func(a *fakeAS) {
					a.meta = map[string]any{"authorization_response_iss_parameter_supported": true}
					a.issParam = "https://evil.example.com"
				})
			},
			kind: KindIssuerResponse,
			want: []string{"different issuer than $AS"},
		},
		{
			name: "iss announced but missing",
			setup: func(t *testing.T, e *env, _ *Config) {
				e.as.set(func(a *fakeAS) { a.meta = map[string]any{"authorization_response_iss_parameter_supported": true} })
			},
			kind: KindIssuerResponse,
			want: []string{"carried no iss although $AS announces it"},
		},
		{
			name: "unannounced iss of another issuer",
			setup: func(t *testing.T, e *env, _ *Config) {
				e.as.set(func(a *fakeAS) { a.issParam = "https://evil.example.com" })
			},
			kind: KindIssuerResponse,
			want: []string{"different issuer than $AS"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			other := &TokenRecord{ServerURL: "https://other.example.com/mcp", AccessToken: "keep-me", Issuer: "https://as.other.example.com"}
			if err := e.store.SaveToken(other); err != nil {
				t.Fatal(err)
			}
			h := e.handler(t, func(c *Config) { tt.setup(t, e, c) })
			_, err := callTool(t, e, h, "read")
			oe, ok := errors.AsType[*Error](err)
			if !ok {
				t.Fatalf("got %v; want an *Error", err)
			}
			if oe.Kind != tt.kind {
				t.Errorf("kind %d; want %d (%s)", oe.Kind, tt.kind, oe.Msg)
			}
			r := strings.NewReplacer("$MCP", e.mcp.URL, "$AS", e.as.issuer(), "$PRM", e.mcp.srv.URL+"/.well-known/oauth-protected-resource/mcp")
			for _, w := range tt.want {
				if w = r.Replace(w); !strings.Contains(oe.Msg, w) {
					t.Errorf("message %q lacks %q", oe.Msg, w)
				}
			}
			if strings.Count(strings.TrimSuffix(oe.Msg, "."), ". ") > 0 || strings.Contains(oe.Msg, "\n") {
				t.Errorf("message %q is not one sentence", oe.Msg)
			}
			for _, secret := range []string{"at-", "rt-", "code-", "at-secret-1"} {
				if strings.Contains(oe.Msg, secret) {
					t.Errorf("message %q shows %q", oe.Msg, secret)
				}
			}
			if n := e.browser.count(); n > 1 {
				t.Errorf("the user was asked %d times; a failed login is not repeated", n)
			}
			if got := e.store.Token(other.ServerURL); got == nil || got.AccessToken != "keep-me" {
				t.Errorf("the unrelated stored token was lost: %+v", got)
			}
			if got := e.store.Token(e.mcp.URL); got != nil {
				t.Errorf("a token was stored for the failed login: %+v", got)
			}
		})
	}
}
