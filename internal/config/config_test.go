package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

// input is one way of starting the server: command-line flags, the
// process environment and the contents of a .env file ("" means none).
type input struct {
	args   []string
	env    []string
	dotenv string
}

// load runs Load the way cmd/atomcp does: flags bound and parsed, the
// environment as a slice, the .env file in a directory of its own. It
// returns the .env path so that expectations can mention it.
func load(t *testing.T, in input) (*Config, string, error) {
	t.Helper()
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	BindFlags(fs)
	if err := fs.Parse(in.args); err != nil {
		t.Fatalf("parse %q: %v", in.args, err)
	}
	path := filepath.Join(t.TempDir(), ".env")
	if in.dotenv != "" {
		if err := os.WriteFile(path, []byte(in.dotenv), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	c, err := Load(fs, in.env, path)
	return c, path, err
}

func mustLoad(t *testing.T, in input) *Config {
	t.Helper()
	c, _, err := load(t, in)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return c
}

func TestDefaults(t *testing.T) {
	for name, in := range map[string]input{
		"nothing set":       {},
		"blank values":      {env: []string{"ATOMCP_ADDR=", "ATOMCP_LOG_LEVEL=  ", "LOG_LEVEL="}, dotenv: "ATOMCP_AUTH=\nWORKOS_API_KEY=\n"},
		"unrelated env":     {env: []string{"PATH=/usr/bin", "HOME=/root", "SUPABASE_URL=https://x.supabase.co"}},
		"malformed environ": {env: []string{"NOEQUALS", "=x", "ATOMCP_ADDR"}},
	} {
		t.Run(name, func(t *testing.T) {
			c := mustLoad(t, in)
			want := Config{
				Addr:               "127.0.0.1:8000",
				BaseURL:            "http://127.0.0.1:8000",
				MCPPath:            "/api/mcp",
				DatabaseURL:        "sqlite://atomcp.db",
				DBConnectTimeout:   10 * time.Second,
				DBStatementTimeout: 20 * time.Second,
				Auth:               "embedded",
				Algorithms:         []string{"RS256"},
				LogLevel:           slog.LevelInfo,
				LogFormat:          "auto",
				MaxBodyBytes:       4 << 20,
				ShutdownTimeout:    30 * time.Second,
				SessionTimeout:     30 * time.Minute,
				TaskTTL:            24 * time.Hour,
				EventStoreBytes:    1 << 20,
				GCPercent:          100,
				AccessTokenTTL:     time.Hour,
				RefreshTokenTTL:    30 * 24 * time.Hour,
				// Sign-in: the password form and account creation on,
				// the scopes OpenID providers are asked for.
				SigninOIDCScopes: []string{"openid", "email", "profile"},
				SigninPassword:   true,
				SigninAutoCreate: true,
				// Work bounded per request and per user.
				RequestTimeout:    30 * time.Second,
				ReadHeaderTimeout: 10 * time.Second,
				ReadBodyTimeout:   10 * time.Second,
				MinBodyRate:       4 << 10,
				IdleTimeout:       2 * time.Minute,
				MaxConnsPerClient: 64,
				ToolRate:          10,
				ToolBurst:         40,
				ToolConcurrency:   8,
			}
			got := *c
			got.Sources, got.Warnings = nil, nil
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got  %#v\nwant %#v", got, want)
			}
			if len(c.Sources) != len(settings) {
				t.Errorf("Sources has %d entries, want %d", len(c.Sources), len(settings))
			}
			for k, v := range c.Sources {
				if v != "default" {
					t.Errorf("Sources[%q] = %q, want default", k, v)
				}
			}
			if len(c.Warnings) != 0 {
				t.Errorf("Warnings = %q", c.Warnings)
			}
			if got, want := c.MCPURL(), "http://127.0.0.1:8000/api/mcp"; got != want {
				t.Errorf("MCPURL = %q, want %q", got, want)
			}
			for _, s := range settings {
				if !c.IsDefault(s.key) {
					t.Errorf("IsDefault(%q) is false", s.key)
				}
			}
			if !c.AddrIsLoopback() {
				t.Error("default address is not loopback")
			}
		})
	}
}

// check is one expectation about a loaded Config: a field and the source
// of its setting.
type check struct {
	key    string
	field  func(*Config) any
	want   any
	source string
}

func (ch check) run(t *testing.T, c *Config) {
	t.Helper()
	if got := ch.field(c); !reflect.DeepEqual(got, ch.want) {
		t.Errorf("%s = %#v, want %#v", ch.key, got, ch.want)
	}
	if ch.source != "" && c.Sources[ch.key] != ch.source {
		t.Errorf("Sources[%s] = %q, want %q", ch.key, c.Sources[ch.key], ch.source)
	}
}

var (
	addr           = func(c *Config) any { return c.Addr }
	baseURL        = func(c *Config) any { return c.BaseURL }
	mcpPath        = func(c *Config) any { return c.MCPPath }
	auth           = func(c *Config) any { return c.Auth }
	authkitDomain  = func(c *Config) any { return c.AuthKitDomain }
	requiredScopes = func(c *Config) any { return c.RequiredScopes }
	logLevel       = func(c *Config) any { return c.LogLevel }
	internalToken  = func(c *Config) any { return c.InternalToken.Reveal() }
	stateless      = func(c *Config) any { return c.Stateless }
)

// TestPythonServerNames covers every name the Python server read.
func TestPythonServerNames(t *testing.T) {
	tests := []struct {
		name   string
		env    []string
		checks []check
	}{
		{"host alone keeps default port", []string{"ATOMS_FASTMCP_HOST=0.0.0.0"}, []check{
			{KeyAddr, addr, "0.0.0.0:8000", "ATOMS_FASTMCP_HOST"},
			{KeyBaseURL, baseURL, "http://127.0.0.1:8000", "default"},
		}},
		{"port alone keeps default host", []string{"ATOMS_FASTMCP_PORT=9000"}, []check{
			{KeyAddr, addr, "127.0.0.1:9000", "ATOMS_FASTMCP_PORT"},
			{KeyBaseURL, baseURL, "http://127.0.0.1:9000", "default"},
		}},
		{"host and port", []string{"ATOMS_FASTMCP_HOST=localhost", "ATOMS_FASTMCP_PORT=8080"}, []check{
			{KeyAddr, addr, "localhost:8080", "ATOMS_FASTMCP_HOST+ATOMS_FASTMCP_PORT"},
			{KeyBaseURL, baseURL, "http://localhost:8080", "default"},
		}},
		{"IPv6 host", []string{"ATOMS_FASTMCP_HOST=::1"}, []check{
			{KeyAddr, addr, "[::1]:8000", "ATOMS_FASTMCP_HOST"},
			{KeyBaseURL, baseURL, "http://[::1]:8000", "default"},
		}},
		{"bracketed IPv6 unspecified host", []string{"ATOMS_FASTMCP_HOST=[::]"}, []check{
			{KeyAddr, addr, "[::]:8000", "ATOMS_FASTMCP_HOST"},
			{KeyBaseURL, baseURL, "http://127.0.0.1:8000", "default"},
		}},
		{"public base URL", []string{"ATOMS_FASTMCP_PUBLIC_BASE_URL=https://mcp.example.com/"}, []check{
			{KeyBaseURL, baseURL, "https://mcp.example.com", "ATOMS_FASTMCP_PUBLIC_BASE_URL"},
		}},
		{"base URL", []string{"ATOMS_FASTMCP_BASE_URL=https://mcp.example.com/atoms"}, []check{
			{KeyBaseURL, baseURL, "https://mcp.example.com/atoms", "ATOMS_FASTMCP_BASE_URL"},
		}},
		{"AuthKit provider base URL", []string{"FASTMCP_SERVER_AUTH_AUTHKITPROVIDER_BASE_URL=http://localhost:8000/"}, []check{
			{KeyBaseURL, baseURL, "http://localhost:8000", "FASTMCP_SERVER_AUTH_AUTHKITPROVIDER_BASE_URL"},
		}},
		{"HTTP path", []string{"ATOMS_FASTMCP_HTTP_PATH=/mcp/"}, []check{
			{KeyMCPPath, mcpPath, "/mcp", "ATOMS_FASTMCP_HTTP_PATH"},
		}},
		{"AuthKit provider class", []string{
			"FASTMCP_SERVER_AUTH=fastmcp.server.auth.providers.workos.AuthKitProvider",
			"FASTMCP_SERVER_AUTH_AUTHKITPROVIDER_AUTHKIT_DOMAIN=https://your-app.authkit.app",
		}, []check{
			{KeyAuth, auth, "authkit", "FASTMCP_SERVER_AUTH"},
			{KeyAuthKitDomain, authkitDomain, "https://your-app.authkit.app", "FASTMCP_SERVER_AUTH_AUTHKITPROVIDER_AUTHKIT_DOMAIN"},
		}},
		{"AUTHKIT in any case, bare domain host", []string{
			"FASTMCP_SERVER_AUTH=AuthKit",
			"FASTMCP_SERVER_AUTH_AUTHKITPROVIDER_AUTHKIT_DOMAIN=your-app.authkit.app/",
		}, []check{
			{KeyAuth, auth, "authkit", "FASTMCP_SERVER_AUTH"},
			{KeyAuthKitDomain, authkitDomain, "https://your-app.authkit.app", "FASTMCP_SERVER_AUTH_AUTHKITPROVIDER_AUTHKIT_DOMAIN"},
		}},
		{"required scopes as JSON", []string{`FASTMCP_SERVER_AUTH_AUTHKITPROVIDER_REQUIRED_SCOPES=["openid", "profile","email"]`}, []check{
			{KeyRequiredScopes, requiredScopes, []string{"openid", "profile", "email"}, "FASTMCP_SERVER_AUTH_AUTHKITPROVIDER_REQUIRED_SCOPES"},
		}},
		{"required scopes comma-separated", []string{"FASTMCP_SERVER_AUTH_AUTHKITPROVIDER_REQUIRED_SCOPES=openid, profile,,email"}, []check{
			{KeyRequiredScopes, requiredScopes, []string{"openid", "profile", "email"}, ""},
		}},
		{"required scopes space-separated", []string{"FASTMCP_SERVER_AUTH_AUTHKITPROVIDER_REQUIRED_SCOPES=openid profile openid"}, []check{
			{KeyRequiredScopes, requiredScopes, []string{"openid", "profile"}, ""},
		}},
		{"WorkOS application", []string{"WORKOS_CLIENT_ID=client_01ABC", "WORKOS_API_KEY=sk_test_123"}, []check{
			{KeyWorkOSClientID, func(c *Config) any { return c.WorkOSClientID }, "client_01ABC", "WORKOS_CLIENT_ID"},
			{KeyWorkOSAPIKey, func(c *Config) any { return c.WorkOSAPIKey.Reveal() }, "sk_test_123", "WORKOS_API_KEY"},
		}},
		{"internal token", []string{"ATOMS_INTERNAL_TOKEN=tok-123"}, []check{
			{KeyInternalToken, internalToken, "tok-123", "ATOMS_INTERNAL_TOKEN"},
		}},
		{"LOG_LEVEL upper case", []string{"LOG_LEVEL=WARNING"}, []check{
			{KeyLogLevel, logLevel, slog.LevelWarn, "LOG_LEVEL"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustLoad(t, input{env: tt.env})
			for _, ch := range tt.checks {
				ch.run(t, c)
			}
			if len(c.Warnings) != 0 {
				t.Errorf("Warnings = %q", c.Warnings)
			}
		})
	}
}

// TestCanonicalNames covers every ATOMCP_* variable and the spellings its
// value may take.
func TestCanonicalNames(t *testing.T) {
	tests := []struct {
		env   string
		key   string
		field func(*Config) any
		want  any
	}{
		{"ATOMCP_ADDR=:9000", KeyAddr, addr, ":9000"},
		{"ATOMCP_ADDR=0.0.0.0:08080", KeyAddr, addr, "0.0.0.0:8080"},
		{"ATOMCP_BASE_URL=HTTPS://MCP.example.com/", KeyBaseURL, baseURL, "HTTPS://MCP.example.com"},
		{"ATOMCP_MCP_PATH=/", KeyMCPPath, mcpPath, "/"},
		{"ATOMCP_MCP_PATH=/v1/mcp//", KeyMCPPath, mcpPath, "/v1/mcp"},
		{"ATOMCP_DATABASE_URL=sqlite:///var/lib/atomcp/atomcp.db", KeyDatabaseURL, func(c *Config) any { return c.DatabaseURL }, "sqlite:///var/lib/atomcp/atomcp.db"},
		{"ATOMCP_DATABASE_URL=postgres://u:p@db:5432/atoms?sslmode=require", KeyDatabaseURL, func(c *Config) any { return c.DatabaseURL }, "postgres://u:p@db:5432/atoms?sslmode=require"},
		{"ATOMCP_DATABASE_URL=postgresql://db/atoms", KeyDatabaseURL, func(c *Config) any { return c.DatabaseURL }, "postgresql://db/atoms"},
		{"ATOMCP_AUTH=Embedded", KeyAuth, auth, "embedded"},
		{"ATOMCP_AUTHKIT_DOMAIN=http://127.0.0.1:9999/", KeyAuthKitDomain, authkitDomain, "http://127.0.0.1:9999"},
		{"ATOMCP_OIDC_ISSUER=https://tenant.auth0.com/", KeyOIDCIssuer, func(c *Config) any { return c.OIDCIssuer }, "https://tenant.auth0.com/"},
		{"ATOMCP_AUTH_AUDIENCE=https://mcp.example.com/api/mcp", KeyAudience, func(c *Config) any { return c.Audience }, "https://mcp.example.com/api/mcp"},
		{"ATOMCP_REQUIRED_SCOPES=[]", KeyRequiredScopes, requiredScopes, []string(nil)},
		{"ATOMCP_REQUIRED_SCOPES=atoms:read atoms:write", KeyRequiredScopes, requiredScopes, []string{"atoms:read", "atoms:write"}},
		{"ATOMCP_SCOPE_READ=read:atoms", KeyScopeRead, func(c *Config) any { return c.ScopeRead }, "read:atoms"},
		{"ATOMCP_SCOPE_WRITE=write:atoms", KeyScopeWrite, func(c *Config) any { return c.ScopeWrite }, "write:atoms"},
		{"ATOMCP_INTERNAL_TOKEN=abc:def", KeyInternalToken, internalToken, "abc:def"},
		{"ATOMCP_STATIC_TOKENS=ci:tok-1, alice@example.com : tok:2 ,", KeyStaticTokens, func(c *Config) any { return c.StaticTokens }, map[string]Secret{"ci": "tok-1", "alice@example.com": "tok:2"}},
		{"ATOMCP_LOG_LEVEL=DEBUG", KeyLogLevel, logLevel, slog.LevelDebug},
		{"ATOMCP_LOG_LEVEL=warn", KeyLogLevel, logLevel, slog.LevelWarn},
		{"ATOMCP_LOG_LEVEL=Error", KeyLogLevel, logLevel, slog.LevelError},
		{"ATOMCP_LOG_FORMAT=JSON", KeyLogFormat, func(c *Config) any { return c.LogFormat }, "json"},
		{"ATOMCP_LOG_FORMAT=text", KeyLogFormat, func(c *Config) any { return c.LogFormat }, "text"},
		{"ATOMCP_STATELESS=true", KeyStateless, stateless, true},
		{"ATOMCP_STATELESS=1", KeyStateless, stateless, true},
		{"ATOMCP_STATELESS=Yes", KeyStateless, stateless, true},
		{"ATOMCP_STATELESS=ON", KeyStateless, stateless, true},
		{"ATOMCP_STATELESS=off", KeyStateless, stateless, false},
		{"ATOMCP_STATELESS=no", KeyStateless, stateless, false},
		{"ATOMCP_STATELESS=0", KeyStateless, stateless, false},
		{"ATOMCP_MAX_BODY_BYTES=1000", KeyMaxBodyBytes, func(c *Config) any { return c.MaxBodyBytes }, int64(1000)},
		{"ATOMCP_MAX_BODY_BYTES=8MiB", KeyMaxBodyBytes, func(c *Config) any { return c.MaxBodyBytes }, int64(8 << 20)},
		{"ATOMCP_MAX_BODY_BYTES=8MB", KeyMaxBodyBytes, func(c *Config) any { return c.MaxBodyBytes }, int64(8000000)},
		{"ATOMCP_MAX_BODY_BYTES=512 KiB", KeyMaxBodyBytes, func(c *Config) any { return c.MaxBodyBytes }, int64(512 << 10)},
		{"ATOMCP_MAX_BODY_BYTES=64kb", KeyMaxBodyBytes, func(c *Config) any { return c.MaxBodyBytes }, int64(64000)},
		{"ATOMCP_ALLOWED_HOSTS=MCP.example.com, mcp.example.com:443,[::1]:8000,127.0.0.1,mcp.example.com", KeyAllowedHosts, func(c *Config) any { return c.AllowedHosts }, []string{"mcp.example.com", "mcp.example.com:443", "[::1]:8000", "127.0.0.1"}},
		{"ATOMCP_ALLOWED_ORIGINS=https://Claude.ai/, http://localhost:6274,https://x.example:443,vscode-webview://abc", KeyAllowedOrigins, func(c *Config) any { return c.AllowedOrigins }, []string{"https://claude.ai", "http://localhost:6274", "https://x.example", "vscode-webview://abc"}},
		{"ATOMCP_ALLOWED_ORIGINS=*", KeyAllowedOrigins, func(c *Config) any { return c.AllowedOrigins }, []string{"*"}},
		{"ATOMCP_CORS_ORIGINS=https://claude.ai", KeyAllowedOrigins, func(c *Config) any { return c.AllowedOrigins }, []string{"https://claude.ai"}},
		{"ATOMCP_AUTH_ALGORITHMS=rs256, ES256,RS256", KeyAlgorithms, func(c *Config) any { return c.Algorithms }, []string{"RS256", "ES256"}},
		{"ATOMCP_TRUSTED_PROXIES=127.0.0.1, 10.1.2.3/8,::1,[::ffff:192.0.2.1]", KeyTrustedProxies, func(c *Config) any { return c.TrustedProxies }, []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128"), netip.MustParsePrefix("192.0.2.1/32")}},
		{"ATOMCP_ALLOW_UNAUTHENTICATED_REMOTE=true", KeyAllowUnauthenticatedRemote, func(c *Config) any { return c.AllowUnauthenticatedRemote }, true},
		{"ATOMCP_SHUTDOWN_TIMEOUT=1m30s", KeyShutdownTimeout, func(c *Config) any { return c.ShutdownTimeout }, 90 * time.Second},
		{"ATOMCP_SHUTDOWN_TIMEOUT=0", KeyShutdownTimeout, func(c *Config) any { return c.ShutdownTimeout }, time.Duration(0)},
		{"ATOMCP_SESSION_TIMEOUT=0", KeySessionTimeout, func(c *Config) any { return c.SessionTimeout }, time.Duration(0)},
		{"ATOMCP_SESSION_TIMEOUT=2h", KeySessionTimeout, func(c *Config) any { return c.SessionTimeout }, 2 * time.Hour},
		{"ATOMCP_EVENT_STORE_BYTES=0", KeyEventStoreBytes, func(c *Config) any { return c.EventStoreBytes }, int64(0)},
		{"ATOMCP_EVENT_STORE_BYTES=8MiB", KeyEventStoreBytes, func(c *Config) any { return c.EventStoreBytes }, int64(8 << 20)},
		{"ATOMCP_GC_PERCENT=50", KeyGCPercent, func(c *Config) any { return c.GCPercent }, 50},
		{"ATOMCP_MEMORY_LIMIT=64MiB", KeyMemoryLimit, func(c *Config) any { return c.MemoryLimit }, int64(64 << 20)},
	}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			name, _, _ := strings.Cut(tt.env, "=")
			c := mustLoad(t, input{env: []string{tt.env}})
			check{tt.key, tt.field, tt.want, name}.run(t, c)
		})
	}
}

func TestDerivedBaseURL(t *testing.T) {
	for addrValue, want := range map[string]string{
		":8000":             "http://127.0.0.1:8000",
		"0.0.0.0:80":        "http://127.0.0.1:80",
		"[::]:8000":         "http://127.0.0.1:8000",
		"[::1]:8000":        "http://[::1]:8000",
		"10.1.2.3:8000":     "http://10.1.2.3:8000",
		"mcp.internal:9000": "http://mcp.internal:9000",
	} {
		c := mustLoad(t, input{args: []string{"--addr", addrValue}})
		if c.BaseURL != want || c.Sources[KeyBaseURL] != "default" {
			t.Errorf("--addr %s: BaseURL = %q from %s, want %q from default", addrValue, c.BaseURL, c.Sources[KeyBaseURL], want)
		}
	}
}

func TestPrecedence(t *testing.T) {
	tests := []struct {
		name     string
		in       input
		checks   []check
		warnings []string // "{dotenv}" stands for the .env path
	}{
		{
			name: "flag beats environment and .env",
			in: input{args: []string{"--addr=127.0.0.1:1"}, env: []string{"ATOMCP_ADDR=127.0.0.1:2"},
				dotenv: "ATOMCP_ADDR=127.0.0.1:3\n"},
			checks: []check{{KeyAddr, addr, "127.0.0.1:1", "flag --addr"}},
		},
		{
			name:   "environment beats .env",
			in:     input{env: []string{"ATOMCP_ADDR=127.0.0.1:2"}, dotenv: "ATOMCP_ADDR=127.0.0.1:3\n"},
			checks: []check{{KeyAddr, addr, "127.0.0.1:2", "ATOMCP_ADDR"}},
		},
		{
			name:   ".env when nothing else",
			in:     input{dotenv: "ATOMCP_ADDR=127.0.0.1:3\n"},
			checks: []check{{KeyAddr, addr, "127.0.0.1:3", ".env ATOMCP_ADDR"}},
		},
		{
			name: "flag beats environment for every kind of flag",
			in: input{
				args: []string{"--stateless=false", "--log-level=error", "--required-scopes=a,b", "--session-timeout=0", "--max-body-bytes=1KiB"},
				env:  []string{"ATOMCP_STATELESS=true", "ATOMCP_LOG_LEVEL=debug", "ATOMCP_REQUIRED_SCOPES=c", "ATOMCP_SESSION_TIMEOUT=1h", "ATOMCP_MAX_BODY_BYTES=1"},
			},
			checks: []check{
				{KeyStateless, stateless, false, "flag --stateless"},
				{KeyLogLevel, logLevel, slog.LevelError, "flag --log-level"},
				{KeyRequiredScopes, requiredScopes, []string{"a", "b"}, "flag --required-scopes"},
				{KeySessionTimeout, func(c *Config) any { return c.SessionTimeout }, time.Duration(0), "flag --session-timeout"},
				{KeyMaxBodyBytes, func(c *Config) any { return c.MaxBodyBytes }, int64(1024), "flag --max-body-bytes"},
			},
		},
		{
			name:   "a bool flag alone means true",
			in:     input{args: []string{"--stateless", "--allow-unauthenticated-remote"}, env: []string{"ATOMCP_STATELESS=false"}},
			checks: []check{{KeyStateless, stateless, true, "flag --stateless"}, {KeyAllowUnauthenticatedRemote, func(c *Config) any { return c.AllowUnauthenticatedRemote }, true, "flag --allow-unauthenticated-remote"}},
		},
		{
			name:   "an explicitly empty flag means the default and hides the environment",
			in:     input{args: []string{"--addr=", "--base-url=", "--allowed-hosts="}, env: []string{"ATOMCP_ADDR=:9000", "ATOMCP_BASE_URL=https://x.example", "ATOMCP_ALLOWED_HOSTS=x.example"}},
			checks: []check{{KeyAddr, addr, "127.0.0.1:8000", "flag --addr"}, {KeyBaseURL, baseURL, "http://127.0.0.1:8000", "flag --base-url"}, {KeyAllowedHosts, func(c *Config) any { return c.AllowedHosts }, []string(nil), "flag --allowed-hosts"}},
		},
		{
			name: "ATOMCP_ADDR beats the Python host and port",
			in:   input{env: []string{"ATOMS_FASTMCP_HOST=0.0.0.0", "ATOMS_FASTMCP_PORT=9000", "ATOMCP_ADDR=127.0.0.1:8001"}},
			checks: []check{
				{KeyAddr, addr, "127.0.0.1:8001", "ATOMCP_ADDR"},
			},
			warnings: []string{"ATOMS_FASTMCP_HOST and ATOMS_FASTMCP_PORT are ignored: ATOMCP_ADDR is set and takes precedence"},
		},
		{
			name:   "no warning when the Python host and port agree with ATOMCP_ADDR",
			in:     input{env: []string{"ATOMS_FASTMCP_PORT=8001", "ATOMCP_ADDR=127.0.0.1:8001"}},
			checks: []check{{KeyAddr, addr, "127.0.0.1:8001", "ATOMCP_ADDR"}},
		},
		{
			name:   "host from the environment, port from .env",
			in:     input{env: []string{"ATOMS_FASTMCP_HOST=0.0.0.0"}, dotenv: "ATOMS_FASTMCP_PORT=9000\n"},
			checks: []check{{KeyAddr, addr, "0.0.0.0:9000", "ATOMS_FASTMCP_HOST+.env ATOMS_FASTMCP_PORT"}},
		},
		{
			name: "ATOMCP_BASE_URL first",
			in: input{env: []string{
				"FASTMCP_SERVER_AUTH_AUTHKITPROVIDER_BASE_URL=https://d.example", "ATOMS_FASTMCP_BASE_URL=https://c.example",
				"ATOMS_FASTMCP_PUBLIC_BASE_URL=https://b.example", "ATOMCP_BASE_URL=https://a.example",
			}},
			checks: []check{{KeyBaseURL, baseURL, "https://a.example", "ATOMCP_BASE_URL"}},
			warnings: []string{
				"ATOMS_FASTMCP_PUBLIC_BASE_URL is ignored: ATOMCP_BASE_URL is set and takes precedence",
				"ATOMS_FASTMCP_BASE_URL is ignored: ATOMCP_BASE_URL is set and takes precedence",
				"FASTMCP_SERVER_AUTH_AUTHKITPROVIDER_BASE_URL is ignored: ATOMCP_BASE_URL is set and takes precedence",
			},
		},
		{
			name: "then ATOMS_FASTMCP_PUBLIC_BASE_URL",
			in: input{env: []string{
				"FASTMCP_SERVER_AUTH_AUTHKITPROVIDER_BASE_URL=https://d.example", "ATOMS_FASTMCP_BASE_URL=https://c.example",
				"ATOMS_FASTMCP_PUBLIC_BASE_URL=https://b.example",
			}},
			checks: []check{{KeyBaseURL, baseURL, "https://b.example", "ATOMS_FASTMCP_PUBLIC_BASE_URL"}},
			warnings: []string{
				"ATOMS_FASTMCP_BASE_URL is ignored: ATOMS_FASTMCP_PUBLIC_BASE_URL is set and takes precedence",
				"FASTMCP_SERVER_AUTH_AUTHKITPROVIDER_BASE_URL is ignored: ATOMS_FASTMCP_PUBLIC_BASE_URL is set and takes precedence",
			},
		},
		{
			name: "then ATOMS_FASTMCP_BASE_URL; equal values do not warn",
			in: input{env: []string{
				"FASTMCP_SERVER_AUTH_AUTHKITPROVIDER_BASE_URL=https://c.example", "ATOMS_FASTMCP_BASE_URL=https://c.example",
			}},
			checks: []check{{KeyBaseURL, baseURL, "https://c.example", "ATOMS_FASTMCP_BASE_URL"}},
		},
		{
			name:   "an empty variable does not hide the next name",
			in:     input{env: []string{"ATOMCP_BASE_URL=", "ATOMS_FASTMCP_BASE_URL=https://c.example"}},
			checks: []check{{KeyBaseURL, baseURL, "https://c.example", "ATOMS_FASTMCP_BASE_URL"}},
		},
		{
			name:   "an empty process variable keeps the .env value of that name out",
			in:     input{env: []string{"ATOMCP_ADDR="}, dotenv: "ATOMCP_ADDR=:9000\n"},
			checks: []check{{KeyAddr, addr, "127.0.0.1:8000", "default"}},
		},
		{
			// The .env file only fills in missing variables; the order of
			// names then applies to the result, as it did when
			// python-dotenv loaded the file into the environment.
			name:   ".env canonical name beats an old name from the environment",
			in:     input{env: []string{"ATOMS_FASTMCP_BASE_URL=https://old.example"}, dotenv: "ATOMCP_BASE_URL=https://new.example\n"},
			checks: []check{{KeyBaseURL, baseURL, "https://new.example", ".env ATOMCP_BASE_URL"}},
			warnings: []string{
				"ATOMS_FASTMCP_BASE_URL is ignored: ATOMCP_BASE_URL is set and takes precedence",
			},
		},
		{
			name:   "ATOMCP_INTERNAL_TOKEN beats ATOMS_INTERNAL_TOKEN",
			in:     input{env: []string{"ATOMS_INTERNAL_TOKEN=old", "ATOMCP_INTERNAL_TOKEN=new"}},
			checks: []check{{KeyInternalToken, internalToken, "new", "ATOMCP_INTERNAL_TOKEN"}},
			warnings: []string{
				"ATOMS_INTERNAL_TOKEN is ignored: ATOMCP_INTERNAL_TOKEN is set and takes precedence",
			},
		},
		{
			name:     "ATOMCP_LOG_LEVEL beats LOG_LEVEL",
			in:       input{env: []string{"LOG_LEVEL=debug", "ATOMCP_LOG_LEVEL=error"}},
			checks:   []check{{KeyLogLevel, logLevel, slog.LevelError, "ATOMCP_LOG_LEVEL"}},
			warnings: []string{"LOG_LEVEL is ignored: ATOMCP_LOG_LEVEL is set and takes precedence"},
		},
		{
			name:     "ATOMCP_AUTH beats FASTMCP_SERVER_AUTH, whose value is then not checked",
			in:       input{env: []string{"FASTMCP_SERVER_AUTH=some.other.Provider", "ATOMCP_AUTH=none"}},
			checks:   []check{{KeyAuth, auth, "none", "ATOMCP_AUTH"}},
			warnings: []string{"FASTMCP_SERVER_AUTH is ignored: ATOMCP_AUTH is set and takes precedence"},
		},
		{
			name: "ATOMCP_AUTHKIT_DOMAIN and ATOMCP_MCP_PATH beat the old names",
			in: input{env: []string{
				"ATOMCP_AUTH=authkit",
				"FASTMCP_SERVER_AUTH_AUTHKITPROVIDER_AUTHKIT_DOMAIN=https://old.authkit.app", "ATOMCP_AUTHKIT_DOMAIN=https://new.authkit.app",
				"ATOMS_FASTMCP_HTTP_PATH=/old", "ATOMCP_MCP_PATH=/new",
				"FASTMCP_SERVER_AUTH_AUTHKITPROVIDER_REQUIRED_SCOPES=old", "ATOMCP_REQUIRED_SCOPES=new",
			}},
			checks: []check{
				{KeyAuthKitDomain, authkitDomain, "https://new.authkit.app", "ATOMCP_AUTHKIT_DOMAIN"},
				{KeyMCPPath, mcpPath, "/new", "ATOMCP_MCP_PATH"},
				{KeyRequiredScopes, requiredScopes, []string{"new"}, "ATOMCP_REQUIRED_SCOPES"},
			},
			warnings: []string{
				"ATOMS_FASTMCP_HTTP_PATH is ignored: ATOMCP_MCP_PATH is set and takes precedence",
				"FASTMCP_SERVER_AUTH_AUTHKITPROVIDER_AUTHKIT_DOMAIN is ignored: ATOMCP_AUTHKIT_DOMAIN is set and takes precedence",
				"FASTMCP_SERVER_AUTH_AUTHKITPROVIDER_REQUIRED_SCOPES is ignored: ATOMCP_REQUIRED_SCOPES is set and takes precedence",
			},
		},
		{
			name:   "first occurrence in environ wins, as with os.Getenv",
			in:     input{env: []string{"ATOMCP_ADDR=:1", "ATOMCP_ADDR=:2"}},
			checks: []check{{KeyAddr, addr, ":1", "ATOMCP_ADDR"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, path, err := load(t, tt.in)
			if err != nil {
				t.Fatal(err)
			}
			for _, ch := range tt.checks {
				ch.run(t, c)
			}
			var want []string
			for _, w := range tt.warnings {
				want = append(want, strings.ReplaceAll(w, "{dotenv}", path))
			}
			if !reflect.DeepEqual(c.Warnings, want) {
				t.Errorf("Warnings:\n got %q\nwant %q", c.Warnings, want)
			}
		})
	}
}

// secretValue appears in the secret settings of the tests below; it must
// never appear in any output.
const secretValue = "S3CR3T"

func TestMalformedValues(t *testing.T) {
	tests := []struct {
		in   input
		want string // "{dotenv}" stands for the .env path
	}{
		{input{env: []string{"ATOMCP_ADDR=localhost"}}, `ATOMCP_ADDR="localhost": not a host:port address; accepted: host:port such as 127.0.0.1:8000, 0.0.0.0:8000 or :8000`},
		{input{env: []string{"ATOMCP_ADDR=:99999"}}, `ATOMCP_ADDR=":99999": not a valid port; accepted: host:port such as 127.0.0.1:8000, 0.0.0.0:8000 or :8000`},
		{input{env: []string{"ATOMCP_ADDR=bad host:80"}}, `ATOMCP_ADDR="bad host:80": not a valid host; accepted: host:port such as 127.0.0.1:8000, 0.0.0.0:8000 or :8000`},
		{input{env: []string{"ATOMS_FASTMCP_PORT=abc"}}, `ATOMS_FASTMCP_PORT="abc": not a port number; accepted: an integer 0-65535`},
		{input{env: []string{"ATOMS_FASTMCP_PORT=-1"}}, `ATOMS_FASTMCP_PORT="-1": not a port number; accepted: an integer 0-65535`},
		{input{env: []string{"ATOMS_FASTMCP_HOST=http://0.0.0.0"}}, `ATOMS_FASTMCP_HOST="http://0.0.0.0": not a host name or IP address; accepted: a host name or IP address such as 127.0.0.1, 0.0.0.0 or localhost`},
		{input{env: []string{"ATOMCP_BASE_URL=mcp.example.com"}}, `ATOMCP_BASE_URL="mcp.example.com": not an absolute http(s) URL; accepted: an absolute http or https URL such as https://mcp.example.com, without query or fragment`},
		{input{env: []string{"ATOMS_FASTMCP_BASE_URL=ftp://mcp.example.com"}}, `ATOMS_FASTMCP_BASE_URL="ftp://mcp.example.com": not an absolute http(s) URL; accepted: an absolute http or https URL such as https://mcp.example.com, without query or fragment`},
		{input{env: []string{"ATOMCP_BASE_URL=https://mcp.example.com/?x=1"}}, `ATOMCP_BASE_URL="https://mcp.example.com/?x=1": must not have a query or fragment; accepted: an absolute http or https URL such as https://mcp.example.com, without query or fragment`},
		{input{env: []string{"ATOMCP_BASE_URL=https://mcp.example.com#top"}}, `ATOMCP_BASE_URL="https://mcp.example.com#top": must not have a query or fragment; accepted: an absolute http or https URL such as https://mcp.example.com, without query or fragment`},
		{input{env: []string{"ATOMCP_BASE_URL=https://u:p@mcp.example.com"}}, `ATOMCP_BASE_URL="https://u:p@mcp.example.com": must not contain a user name or password; accepted: an absolute http or https URL such as https://mcp.example.com, without query or fragment`},
		{input{env: []string{"ATOMCP_MCP_PATH=api/mcp"}}, `ATOMCP_MCP_PATH="api/mcp": must start with /; accepted: a URL path starting with / such as /api/mcp`},
		{input{env: []string{"ATOMS_FASTMCP_HTTP_PATH=/mcp?x"}}, `ATOMS_FASTMCP_HTTP_PATH="/mcp?x": must not contain ? or #; accepted: a URL path starting with / such as /api/mcp`},
		{input{env: []string{"ATOMCP_MCP_PATH=/a b"}}, `ATOMCP_MCP_PATH="/a b": must not contain spaces or control characters; accepted: a URL path starting with / such as /api/mcp`},
		{input{env: []string{"ATOMCP_DATABASE_URL=mysql://root:" + secretValue + "@db/atoms"}}, `ATOMCP_DATABASE_URL="mysql://…": unsupported database URL; accepted: sqlite://relative/path.db, sqlite:///absolute/path.db, postgres://… or postgresql://…`},
		{input{env: []string{"ATOMCP_DATABASE_URL=host=db password=" + secretValue}}, `ATOMCP_DATABASE_URL="[not shown]": unsupported database URL; accepted: sqlite://relative/path.db, sqlite:///absolute/path.db, postgres://… or postgresql://…`},
		{input{env: []string{"ATOMCP_DATABASE_URL=sqlite://"}}, `ATOMCP_DATABASE_URL="sqlite://…": no file path after sqlite://; accepted: sqlite://relative/path.db, sqlite:///absolute/path.db, postgres://… or postgresql://…`},
		{input{env: []string{"ATOMCP_AUTH=saml"}}, `ATOMCP_AUTH="saml": unknown auth provider; accepted: none, embedded, authkit, oidc, static`},
		{input{env: []string{"FASTMCP_SERVER_AUTH=fastmcp.server.auth.providers.google.GoogleProvider"}}, `FASTMCP_SERVER_AUTH="fastmcp.server.auth.providers.google.GoogleProvider": unsupported FastMCP auth provider; accepted: fastmcp.server.auth.providers.workos.AuthKitProvider or AUTHKIT (for other providers set ATOMCP_AUTH: none, embedded, authkit, oidc, static)`},
		{input{env: []string{"ATOMCP_AUTHKIT_DOMAIN=http://your-app.authkit.app"}}, `ATOMCP_AUTHKIT_DOMAIN="http://your-app.authkit.app": must use https (http only for localhost); accepted: an https URL such as https://your-app.authkit.app, or just its host name`},
		{input{env: []string{"FASTMCP_SERVER_AUTH_AUTHKITPROVIDER_AUTHKIT_DOMAIN=https://your-app.authkit.app/oauth2/jwks"}}, `FASTMCP_SERVER_AUTH_AUTHKITPROVIDER_AUTHKIT_DOMAIN="https://your-app.authkit.app/oauth2/jwks": must be the domain alone, without path, query or fragment; accepted: an https URL such as https://your-app.authkit.app, or just its host name`},
		{input{env: []string{"ATOMCP_AUTHKIT_DOMAIN=ftp://x"}}, `ATOMCP_AUTHKIT_DOMAIN="ftp://x": not a URL or host name; accepted: an https URL such as https://your-app.authkit.app, or just its host name`},
		{input{env: []string{"ATOMCP_OIDC_ISSUER=accounts.example.com"}}, `ATOMCP_OIDC_ISSUER="accounts.example.com": not an absolute https URL; accepted: an https URL such as https://accounts.example.com, without query or fragment`},
		{input{env: []string{"ATOMCP_OIDC_ISSUER=http://accounts.example.com"}}, `ATOMCP_OIDC_ISSUER="http://accounts.example.com": must use https (http only for localhost); accepted: an https URL such as https://accounts.example.com, without query or fragment`},
		{input{env: []string{`ATOMCP_REQUIRED_SCOPES=["openid",`}}, `ATOMCP_REQUIRED_SCOPES="[\"openid\",": not a JSON list of strings; accepted: a JSON list such as ["openid","profile"], or scope names separated by commas or spaces`},
		{input{env: []string{`FASTMCP_SERVER_AUTH_AUTHKITPROVIDER_REQUIRED_SCOPES=["a b"]`}}, `FASTMCP_SERVER_AUTH_AUTHKITPROVIDER_REQUIRED_SCOPES="[\"a b\"]": "a b" is not a valid scope name; accepted: a JSON list such as ["openid","profile"], or scope names separated by commas or spaces`},
		{input{env: []string{`ATOMCP_SCOPE_READ=atoms read`}}, `ATOMCP_SCOPE_READ="atoms read": not a valid scope name; accepted: one scope name such as atoms:read (printable ASCII, no spaces, quotes or backslashes)`},
		{input{env: []string{`ATOMCP_SCOPE_WRITE=a"b`}}, `ATOMCP_SCOPE_WRITE="a\"b": not a valid scope name; accepted: one scope name such as atoms:read (printable ASCII, no spaces, quotes or backslashes)`},
		{input{env: []string{"WORKOS_API_KEY=sk " + secretValue}}, `WORKOS_API_KEY: contains spaces or control characters; accepted: a token without spaces`},
		{input{env: []string{"ATOMS_INTERNAL_TOKEN=Bearer " + secretValue}}, `ATOMS_INTERNAL_TOKEN: contains spaces or control characters; accepted: a token without spaces`},
		{input{env: []string{"ATOMCP_STATIC_TOKENS=" + secretValue}}, `ATOMCP_STATIC_TOKENS: entry 1 is not name:token; accepted: name:token pairs separated by commas, names of letters, digits, . _ - @`},
		{input{env: []string{"ATOMCP_STATIC_TOKENS=ci:a,:" + secretValue}}, `ATOMCP_STATIC_TOKENS: entry 2 is not name:token; accepted: name:token pairs separated by commas, names of letters, digits, . _ - @`},
		{input{env: []string{"ATOMCP_STATIC_TOKENS=the bot:" + secretValue}}, `ATOMCP_STATIC_TOKENS: entry 1 has an invalid name; accepted: name:token pairs separated by commas, names of letters, digits, . _ - @`},
		{input{env: []string{"ATOMCP_STATIC_TOKENS=bot:" + secretValue + " x"}}, `ATOMCP_STATIC_TOKENS: entry 1 has a token with spaces or control characters; accepted: name:token pairs separated by commas, names of letters, digits, . _ - @`},
		{input{env: []string{"ATOMCP_STATIC_TOKENS=bot:" + secretValue + ",bot:other"}}, `ATOMCP_STATIC_TOKENS: entry 2 repeats the name "bot"; accepted: name:token pairs separated by commas, names of letters, digits, . _ - @, each name once`},
		{input{env: []string{"ATOMCP_STATIC_TOKENS=a:" + secretValue + ",b:" + secretValue}}, `ATOMCP_STATIC_TOKENS: entries 1 and 2 have the same token; accepted: name:token pairs separated by commas, names of letters, digits, . _ - @, each token once`},
		{input{env: []string{"ATOMCP_LOG_LEVEL=verbose"}}, `ATOMCP_LOG_LEVEL="verbose": unknown log level; accepted: debug, info, warn, error`},
		{input{env: []string{"LOG_LEVEL=trace"}}, `LOG_LEVEL="trace": unknown log level; accepted: debug, info, warn, error`},
		{input{env: []string{"ATOMCP_LOG_FORMAT=xml"}}, `ATOMCP_LOG_FORMAT="xml": unknown log format; accepted: auto, json, text`},
		{input{env: []string{"ATOMCP_STATELESS=maybe"}}, `ATOMCP_STATELESS="maybe": not a boolean; accepted: true, false, 1, 0, yes, no, on, off`},
		{input{env: []string{"ATOMCP_ALLOW_UNAUTHENTICATED_REMOTE=2"}}, `ATOMCP_ALLOW_UNAUTHENTICATED_REMOTE="2": not a boolean; accepted: true, false, 1, 0, yes, no, on, off`},
		{input{env: []string{"ATOMCP_AUTH_ALGORITHMS=HS256"}}, `ATOMCP_AUTH_ALGORITHMS="HS256": "HS256" is not an accepted signing algorithm (HMAC and none never are); accepted: RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA, separated by commas`},
		{input{env: []string{"ATOMCP_AUTH_ALGORITHMS=none"}}, `ATOMCP_AUTH_ALGORITHMS="none": "none" is not an accepted signing algorithm (HMAC and none never are); accepted: RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA, separated by commas`},
		{input{env: []string{"ATOMCP_TRUSTED_PROXIES=proxy.example.com"}}, `ATOMCP_TRUSTED_PROXIES="proxy.example.com": "proxy.example.com" is not an IP address; accepted: IP addresses or CIDR ranges such as 127.0.0.1, 10.0.0.0/8 or ::1, separated by commas`},
		{input{env: []string{"ATOMCP_TRUSTED_PROXIES=10.0.0.0/33"}}, `ATOMCP_TRUSTED_PROXIES="10.0.0.0/33": "10.0.0.0/33" is not a CIDR range; accepted: IP addresses or CIDR ranges such as 127.0.0.1, 10.0.0.0/8 or ::1, separated by commas`},
		{input{env: []string{"ATOMCP_MAX_BODY_BYTES=8GB"}}, `ATOMCP_MAX_BODY_BYTES="8GB": not a size; accepted: a positive number of bytes, optionally with KB (1000), MB (1000000), KiB (1024) or MiB (1048576), such as 8MiB`},
		{input{env: []string{"ATOMCP_MAX_BODY_BYTES=0"}}, `ATOMCP_MAX_BODY_BYTES="0": not a positive size; accepted: a positive number of bytes, optionally with KB (1000), MB (1000000), KiB (1024) or MiB (1048576), such as 8MiB`},
		{input{env: []string{"ATOMCP_MAX_BODY_BYTES=1.5MiB"}}, `ATOMCP_MAX_BODY_BYTES="1.5MiB": not a size; accepted: a positive number of bytes, optionally with KB (1000), MB (1000000), KiB (1024) or MiB (1048576), such as 8MiB`},
		{input{env: []string{"ATOMCP_MAX_BODY_BYTES=MiB"}}, `ATOMCP_MAX_BODY_BYTES="MiB": not a positive size; accepted: a positive number of bytes, optionally with KB (1000), MB (1000000), KiB (1024) or MiB (1048576), such as 8MiB`},
		{input{env: []string{"ATOMCP_MAX_BODY_BYTES=9000000000000000MiB"}}, `ATOMCP_MAX_BODY_BYTES="9000000000000000MiB": too large; accepted: a positive number of bytes, optionally with KB (1000), MB (1000000), KiB (1024) or MiB (1048576), such as 8MiB`},
		{input{env: []string{"ATOMCP_ALLOWED_HOSTS=mcp.example.com,https://mcp.example.com"}}, `ATOMCP_ALLOWED_HOSTS="mcp.example.com,https://mcp.example.com": "https://mcp.example.com" is not a host name; accepted: host names such as mcp.example.com or mcp.example.com:443, separated by commas`},
		{input{env: []string{"ATOMCP_ALLOWED_HOSTS=*.example.com"}}, `ATOMCP_ALLOWED_HOSTS="*.example.com": "*.example.com" is not a host name; accepted: host names such as mcp.example.com or mcp.example.com:443, separated by commas`},
		{input{env: []string{"ATOMCP_ALLOWED_HOSTS=::1"}}, `ATOMCP_ALLOWED_HOSTS="::1": "::1" is not a host name; accepted: host names such as mcp.example.com or mcp.example.com:443, separated by commas`},
		{input{env: []string{"ATOMCP_ALLOWED_ORIGINS=claude.ai"}}, `ATOMCP_ALLOWED_ORIGINS="claude.ai": "claude.ai" is not an origin; accepted: origins such as https://claude.ai or http://localhost:6274, separated by commas, or * alone`},
		{input{env: []string{"ATOMCP_ALLOWED_ORIGINS=https://claude.ai/chat"}}, `ATOMCP_ALLOWED_ORIGINS="https://claude.ai/chat": "https://claude.ai/chat" is not an origin; accepted: origins such as https://claude.ai or http://localhost:6274, separated by commas, or * alone`},
		{input{env: []string{"ATOMCP_ALLOWED_ORIGINS=*,https://claude.ai"}}, `ATOMCP_ALLOWED_ORIGINS="*,https://claude.ai": * must be used alone; accepted: origins such as https://claude.ai or http://localhost:6274, separated by commas, or * alone`},
		{input{env: []string{"ATOMCP_SHUTDOWN_TIMEOUT=30"}}, `ATOMCP_SHUTDOWN_TIMEOUT="30": not a duration; accepted: a Go duration such as 30s, 5m or 1h30m (0 means do not wait)`},
		{input{env: []string{"ATOMCP_SHUTDOWN_TIMEOUT=-1s"}}, `ATOMCP_SHUTDOWN_TIMEOUT="-1s": must not be negative; accepted: a Go duration such as 30s, 5m or 1h30m (0 means do not wait)`},
		{input{env: []string{"ATOMCP_GC_PERCENT=off"}}, `ATOMCP_GC_PERCENT="off": not a percentage; accepted: a whole number from 1 to 10000, such as 100 (Go's default) or 50`},
		{input{env: []string{"ATOMCP_GC_PERCENT=0"}}, `ATOMCP_GC_PERCENT="0": not a percentage; accepted: a whole number from 1 to 10000, such as 100 (Go's default) or 50`},
		{input{args: []string{"--memory-limit=lots"}}, `--memory-limit="lots": not a size; accepted: a positive number of bytes, optionally with KB (1000), MB (1000000), KiB (1024) or MiB (1048576), such as 8MiB, or 0 for none`},
		{input{env: []string{"ATOMCP_SESSION_TIMEOUT=forever"}}, `ATOMCP_SESSION_TIMEOUT="forever": not a duration; accepted: a Go duration such as 30s, 5m or 1h30m (0 disables)`},
		// The same problems from a flag and from the .env file.
		{input{args: []string{"--log-level=verbose"}}, `--log-level="verbose": unknown log level; accepted: debug, info, warn, error`},
		{input{args: []string{"--stateless=maybe"}}, `--stateless="maybe": not a boolean; accepted: true, false, 1, 0, yes, no, on, off`},
		{input{args: []string{"--addr", "8000"}}, `--addr="8000": not a host:port address; accepted: host:port such as 127.0.0.1:8000, 0.0.0.0:8000 or :8000`},
		{input{dotenv: "# settings\nATOMCP_LOG_LEVEL=verbose\n"}, `{dotenv}:2: ATOMCP_LOG_LEVEL="verbose": unknown log level; accepted: debug, info, warn, error`},
		{input{dotenv: "\n\nWORKOS_API_KEY='sk " + secretValue + "'\n"}, `{dotenv}:3: WORKOS_API_KEY: contains spaces or control characters; accepted: a token without spaces`},
		// Rules across settings.
		{input{env: []string{"FASTMCP_SERVER_AUTH=AUTHKIT"}}, `auth is authkit (from FASTMCP_SERVER_AUTH) but no AuthKit domain is set; set ATOMCP_AUTHKIT_DOMAIN (or --authkit-domain) to e.g. https://your-app.authkit.app`},
		{input{args: []string{"--auth=oidc"}}, `auth is oidc (from flag --auth) but no issuer is set; set ATOMCP_OIDC_ISSUER (or --oidc-issuer) to the provider's issuer URL`},
		{input{dotenv: "ATOMCP_AUTH=static\n"}, `auth is static (from .env ATOMCP_AUTH) but no token is set; set ATOMCP_STATIC_TOKENS to name:token pairs`},
	}
	for _, tt := range tests {
		t.Run(caseName(tt.in), func(t *testing.T) {
			c, path, err := load(t, tt.in)
			if err == nil {
				t.Fatalf("no error; config %v", c)
			}
			want := strings.ReplaceAll(tt.want, "{dotenv}", path)
			if got := err.Error(); got != want {
				t.Errorf("error:\n got %s\nwant %s", got, want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
			if strings.Contains(err.Error(), secretValue) {
				t.Errorf("error shows a secret: %q", err)
			}
		})
	}
}

// caseName names a test case by its flags and variable names only: the
// name becomes part of a temporary directory, which errors may show.
func caseName(in input) string {
	var parts []string
	for _, a := range in.args {
		name, _, _ := strings.Cut(a, "=")
		parts = append(parts, name)
	}
	for _, kv := range in.env {
		name, _, _ := strings.Cut(kv, "=")
		parts = append(parts, name)
	}
	if in.dotenv != "" {
		parts = append(parts, ".env")
	}
	return strings.Join(parts, "+")
}

// TestSeveralErrors checks that every problem is reported, one per line,
// in the order of the settings whatever the order of the environment.
func TestSeveralErrors(t *testing.T) {
	env := []string{"ATOMCP_SESSION_TIMEOUT=x", "ATOMCP_LOG_LEVEL=x", "ATOMCP_ADDR=x", "ATOMCP_AUTH=oidc"}
	want := strings.Join([]string{
		`ATOMCP_ADDR="x": not a host:port address; accepted: host:port such as 127.0.0.1:8000, 0.0.0.0:8000 or :8000`,
		`ATOMCP_LOG_LEVEL="x": unknown log level; accepted: debug, info, warn, error`,
		`ATOMCP_SESSION_TIMEOUT="x": not a duration; accepted: a Go duration such as 30s, 5m or 1h30m (0 disables)`,
	}, "\n")
	for range 5 {
		_, err := Load(nil, env, "")
		if err == nil || err.Error() != want {
			t.Fatalf("error:\n%v\nwant:\n%s", err, want)
		}
		env[0], env[1], env[2] = env[2], env[0], env[1]
	}
}

func TestDotenvFileErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		content string
		want    string // after the path
	}{
		{"ATOMCP_ADDR=:1\nJUST_A_WORD\n", ":2: not a KEY=VALUE line"},
		{"1ABC=x\n", ":1: invalid variable name; accepted: letters, digits, _ . - (not starting with a digit)"},
		{"MY KEY=x\n", ":1: invalid variable name; accepted: letters, digits, _ . - (not starting with a digit)"},
		{"A=1\nB=\"never closed\nC=3\n", `:2: B has no closing " quote`},
		{"A='x'y\n", ":1: A has text after its closing quote; accepted: a comment starting with #"},
	}
	for i, tt := range tests {
		path := filepath.Join(dir, fmt.Sprintf("case%d.env", i))
		if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Load(nil, nil, path)
		if err == nil || err.Error() != path+tt.want {
			t.Errorf("%q: error %v, want %s", tt.content, err, path+tt.want)
		}
	}

	// A directory cannot be read as a file: an error naming it.
	if _, err := Load(nil, nil, dir); err == nil || !strings.Contains(err.Error(), dir) {
		t.Errorf("reading a directory: error %v, want one naming %s", err, dir)
	}
	// A missing file is fine.
	if _, err := Load(nil, nil, filepath.Join(dir, "missing", ".env")); err != nil {
		t.Errorf("missing .env: %v", err)
	}
}

func TestParseDotenv(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    map[string]string
	}{
		{"plain", "A=1\nB=two words\n", map[string]string{"A": "1", "B": "two words"}},
		{"export, comments, blank lines, indentation", "# top\n\n  export A=1\n\t# indented comment\nexport\tB=2\n", map[string]string{"A": "1", "B": "2"}},
		{"a variable named export", "export=1\n", map[string]string{"export": "1"}},
		{"spaces around =", "A = 1 \n", map[string]string{"A": "1"}},
		{"CRLF and BOM", "\uFEFFA=1\r\nB='2'\r\n", map[string]string{"A": "1", "B": "2"}},
		{"no trailing newline", "A=1", map[string]string{"A": "1"}},
		{"inline comment", "A=value # note\nB=value\t# tab\n", map[string]string{"A": "value", "B": "value"}},
		{"# without a space before it is part of the value", "A=https://x.example/#frag\nB=pa#ss\n", map[string]string{"A": "https://x.example/#frag", "B": "pa#ss"}},
		{"a value that is only a comment is empty", "A= # nothing\nB=\n", map[string]string{"A": "", "B": ""}},
		{"single quotes are literal", `A='a\nb ${HOME} # not a comment'`, map[string]string{"A": `a\nb ${HOME} # not a comment`}},
		{"double-quote escapes", `A="line1\nline2 \"q\" back\\slash \t tab \x kept"`, map[string]string{"A": "line1\nline2 \"q\" back\\slash \t tab \\x kept"}},
		{"quoted value then comment", `A="x # y" # comment` + "\nB='' \n", map[string]string{"A": "x # y", "B": ""}},
		{"multi-line quoted values", "K=\"-----BEGIN\nabc\n-----END\"\nS='one\ntwo'\nN=3\n", map[string]string{"K": "-----BEGIN\nabc\n-----END", "S": "one\ntwo", "N": "3"}},
		{"no variable expansion", "A=1\nB=${A}\nC=\"$A\"\n", map[string]string{"A": "1", "B": "${A}", "C": "$A"}},
		{"later assignment wins", "A=1\nA=2\n", map[string]string{"A": "2"}},
		{"JSON list", `S=["openid","profile"]` + "\n", map[string]string{"S": `["openid","profile"]`}},
		{"quotes inside an unquoted value", `A=it's "fine"`, map[string]string{"A": `it's "fine"`}},
		{"dots and dashes in names", "a.b-c=1\n", map[string]string{"a.b-c": "1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			entries, err := parseDotenv(".env", tt.content)
			if err != nil {
				t.Fatal(err)
			}
			got := make(map[string]string)
			for k, e := range entries {
				got[k] = e.value
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestDotenvLineNumbers(t *testing.T) {
	entries, err := parseDotenv(".env", "# c\nA=1\nB=\"x\ny\"\nC=3\nA=4\n")
	if err != nil {
		t.Fatal(err)
	}
	for k, line := range map[string]int{"A": 6, "B": 3, "C": 5} {
		if entries[k].line != line {
			t.Errorf("%s on line %d, want %d", k, entries[k].line, line)
		}
	}
}

func TestDotenvExpansionWarning(t *testing.T) {
	c, path, err := load(t, input{dotenv: "\nATOMCP_AUTH_AUDIENCE=https://${HOST}/api/mcp\n"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{path + ":2: ATOMCP_AUTH_AUDIENCE contains ${…}, which is used literally: .env values are not expanded"}
	if !reflect.DeepEqual(c.Warnings, want) {
		t.Errorf("Warnings = %q, want %q", c.Warnings, want)
	}
}

func TestUnknownVariableWarnings(t *testing.T) {
	c, path, err := load(t, input{
		env: []string{
			"ATOMCP_ADRR=:9000", "ATOMCP_LOGLEVEL=debug", "atomcp_stateless=true",
			"ATOMCP_ADDR=:8000", "ATOMS_FASTMCP_SOMETHING=x", "OTHER_VAR=x",
		},
		dotenv: "ATOMCP_BASEURL=https://x.example\nATOMCP_ADRR=dup\nSUPABASE_URL=x\n",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"unknown variable ATOMCP_ADRR is ignored; did you mean ATOMCP_ADDR?",
		path + ":1: unknown variable ATOMCP_BASEURL is ignored; did you mean ATOMCP_BASE_URL?",
		"unknown variable ATOMCP_LOGLEVEL is ignored; did you mean ATOMCP_LOG_LEVEL?",
		"unknown variable atomcp_stateless is ignored; did you mean ATOMCP_STATELESS?",
	}
	if !reflect.DeepEqual(c.Warnings, want) {
		t.Errorf("Warnings:\n got %q\nwant %q", c.Warnings, want)
	}
}

func TestAuthProviderWarnings(t *testing.T) {
	c := mustLoad(t, input{env: []string{"ATOMCP_AUTHKIT_DOMAIN=x.authkit.app", "ATOMCP_OIDC_ISSUER=https://issuer.example"}})
	want := []string{
		"the AuthKit domain (from ATOMCP_AUTHKIT_DOMAIN) is ignored because auth is embedded (from default); set ATOMCP_AUTH=authkit to use it",
		"the OIDC issuer (from ATOMCP_OIDC_ISSUER) is ignored because auth is embedded (from default); set ATOMCP_AUTH=oidc to use it",
	}
	if !reflect.DeepEqual(c.Warnings, want) {
		t.Errorf("Warnings:\n got %q\nwant %q", c.Warnings, want)
	}
}

// TestSecretsNeverPrinted prints a Config with every secret set in every
// way a developer might, and looks for the secrets in the output.
func TestSecretsNeverPrinted(t *testing.T) {
	c := mustLoad(t, input{
		env: []string{
			"WORKOS_API_KEY=" + secretValue + "-workos",
			"ATOMCP_INTERNAL_TOKEN=" + secretValue + "-internal",
			"ATOMCP_STATIC_TOKENS=ci:" + secretValue + "-ci,bob:" + secretValue + "-bob",
			"ATOMCP_AUTH=static",
		},
		dotenv: "ATOMCP_DATABASE_URL=postgres://atoms:" + secretValue + "@db/atoms?sslmode=disable&password=" + secretValue + "\n",
	})
	if c.WorkOSAPIKey.Reveal() != secretValue+"-workos" || c.StaticTokens["bob"].Reveal() != secretValue+"-bob" {
		t.Fatalf("secrets not loaded: %q %q", c.WorkOSAPIKey.Reveal(), c.StaticTokens["bob"].Reveal())
	}

	var outputs []string
	for _, f := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		outputs = append(outputs, fmt.Sprintf(f, c), fmt.Sprintf(f, *c),
			fmt.Sprintf(f, c.WorkOSAPIKey), fmt.Sprintf(f, c.StaticTokens), fmt.Sprintf(f, []Secret{c.InternalToken}))
	}
	outputs = append(outputs, fmt.Sprint(c), fmt.Sprint(*c), fmt.Sprintln(c.InternalToken), c.String())
	for _, v := range []any{c, *c, c.StaticTokens, c.InternalToken} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		outputs = append(outputs, string(b))
	}
	var jsonLog, textLog bytes.Buffer
	for _, h := range []slog.Handler{slog.NewJSONHandler(&jsonLog, nil), slog.NewTextHandler(&textLog, nil)} {
		l := slog.New(h)
		l.Info("configuration", c.LogAttrsAny()...)
		l.Info("config", "config", c, "value", *c)
		l.Info("secrets", "key", c.WorkOSAPIKey, "tokens", c.StaticTokens, "token", c.InternalToken)
		l.LogAttrs(t.Context(), slog.LevelInfo, "attrs", c.LogAttrs()...)
	}
	outputs = append(outputs, jsonLog.String(), textLog.String())
	for _, out := range outputs {
		if strings.Contains(out, secretValue) || strings.Contains(out, fmt.Sprintf("%x", secretValue)) {
			t.Errorf("secret printed: %s", out)
		}
	}

	// And the secrets are still described usefully.
	for _, want := range []string{
		`"workos_api_key":{"value":"set","source":"WORKOS_API_KEY"}`,
		`"internal_token":{"value":"set","source":"ATOMCP_INTERNAL_TOKEN"}`,
		`"static_tokens":{"value":"set (bob,ci)","source":"ATOMCP_STATIC_TOKENS"}`,
		`"database_url":{"value":"postgres://atoms:xxxxx@db/atoms?password=xxxxx&sslmode=disable","source":".env ATOMCP_DATABASE_URL"}`,
		`"key":"[redacted]"`,
		`"tokens":{"bob":"[redacted]","ci":"[redacted]"}`,
	} {
		if !strings.Contains(jsonLog.String(), want) {
			t.Errorf("JSON log lacks %s:\n%s", want, jsonLog.String())
		}
	}
}

func TestSecret(t *testing.T) {
	var empty Secret
	s := Secret("x")
	for _, tt := range []struct{ got, want string }{
		{s.String(), "[redacted]"},
		{empty.String(), ""},
		{fmt.Sprintf("%v|%s|%q|%#v", s, s, s, s), `[redacted]|[redacted]|"[redacted]"|config.Secret("[redacted]")`},
		{fmt.Sprintf("%v|%q", empty, empty), `|""`},
		{s.Reveal(), "x"},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
	if b, _ := json.Marshal(empty); string(b) != `""` {
		t.Errorf("empty secret as JSON: %s", b)
	}
	if !s.IsSet() || empty.IsSet() {
		t.Error("IsSet")
	}
}

func TestLogAttrs(t *testing.T) {
	c := mustLoad(t, input{
		args: []string{"--addr=0.0.0.0:9000", "--session-timeout=1h"},
		env:  []string{"ATOMCP_ALLOWED_HOSTS=a.example,b.example", "ATOMCP_REQUIRED_SCOPES=x y"},
	})
	attrs := c.LogAttrs()
	if len(attrs) != len(settings) {
		t.Fatalf("%d attrs, want %d", len(attrs), len(settings))
	}
	got := make(map[string][2]string)
	for i, a := range attrs {
		if a.Key != settings[i].key || a.Value.Kind() != slog.KindGroup {
			t.Fatalf("attr %d is %s (%s), want group %s", i, a.Key, a.Value.Kind(), settings[i].key)
		}
		g := a.Value.Group()
		if len(g) != 2 || g[0].Key != "value" || g[1].Key != "source" {
			t.Fatalf("attr %s = %v, want value and source", a.Key, g)
		}
		got[a.Key] = [2]string{g[0].Value.String(), g[1].Value.String()}
	}
	for key, want := range map[string][2]string{
		KeyAddr:            {"0.0.0.0:9000", "flag --addr"},
		KeyBaseURL:         {"http://127.0.0.1:9000", "default"},
		KeySessionTimeout:  {"1h0m0s", "flag --session-timeout"},
		KeyAllowedHosts:    {"a.example,b.example", "ATOMCP_ALLOWED_HOSTS"},
		KeyRequiredScopes:  {"x,y", "ATOMCP_REQUIRED_SCOPES"},
		KeyWorkOSAPIKey:    {"unset", "default"},
		KeyStaticTokens:    {"unset", "default"},
		KeyMaxBodyBytes:    {"4194304", "default"},
		KeyLogLevel:        {"info", "default"},
		KeyStateless:       {"false", "default"},
		KeyShutdownTimeout: {"30s", "default"},
	} {
		if got[key] != want {
			t.Errorf("%s = %q, want %q", key, got[key], want)
		}
	}
	if c.AddrIsLoopback() {
		t.Error("0.0.0.0 reported as loopback")
	}

	// A Config built by hand has no Sources; it still logs.
	var zero Config
	for _, a := range zero.LogAttrs() {
		if src := a.Value.Group()[1].Value.String(); src != "default" {
			t.Errorf("%s source %q", a.Key, src)
		}
	}
}

func TestBindFlags(t *testing.T) {
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	BindFlags(fs)
	wantFlags := []string{
		"addr", "base-url", "mcp-path", "database-url", "db-connect-timeout", "db-statement-timeout", "auth", "authkit-domain", "oidc-issuer", "audience",
		"auth-algorithms", "required-scopes", "log-level", "log-format", "stateless", "max-body-bytes", "allowed-hosts",
		"allowed-origins", "trusted-proxies", "allow-unauthenticated-remote", "shutdown-timeout", "session-timeout", "task-ttl",
		"access-token-ttl", "refresh-token-ttl", "request-timeout", "read-header-timeout", "read-body-timeout",
		"min-body-rate", "idle-timeout", "max-conns-per-client", "tool-rate", "tool-burst", "tool-concurrency", "metrics-addr",
		"event-store-bytes", "gc-percent", "memory-limit",
	}
	var got []string
	fs.VisitAll(func(f *pflag.Flag) { got = append(got, f.Name) })
	if !reflect.DeepEqual(got, sortedCopy(wantFlags)) {
		t.Errorf("flags %q, want %q", got, sortedCopy(wantFlags))
	}
	for _, s := range settings {
		if s.flag == "" {
			continue
		}
		f := fs.Lookup(s.flag)
		for _, env := range s.env {
			if !strings.Contains(f.Usage, env) {
				t.Errorf("--%s help does not name %s: %q", s.flag, env, f.Usage)
			}
		}
		if s.bind.secret {
			t.Errorf("secret %s has flag --%s", s.key, s.flag)
		}
	}
	usage := fs.FlagUsages()
	for _, want := range []string{
		`--addr host:port`, `(default 127.0.0.1:8000)`, `--stateless `, `--session-timeout duration`, `(default 30m)`,
	} {
		if !strings.Contains(usage, want) {
			t.Errorf("usage lacks %q:\n%s", want, usage)
		}
	}
	// A bool flag stands alone: no "[=true]" clutter.
	if strings.Contains(usage, "--stateless[=") {
		t.Errorf("--stateless shown with a value:\n%s", usage)
	}
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func FuzzParseDotenv(f *testing.F) {
	for _, s := range []string{"A=1", "export A='x'\n", "A=\"a\\\"b\"", "A=\"\nB", "# c\nA=1 # c", "\uFEFFA=1\r\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		entries, err := parseDotenv(".env", s)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("multi-line error %q", err)
			}
			return
		}
		for k, e := range entries {
			if !validDotenvKey(k) || e.line < 1 {
				t.Errorf("entry %q %+v", k, e)
			}
		}
	})
}

func TestAuthServerSettings(t *testing.T) {
	c := mustLoad(t, input{
		args: []string{"--access-token-ttl=15m"},
		env:  []string{"ATOMCP_REFRESH_TOKEN_TTL=48h", "ATOMCP_CIMD_ALLOW_PRIVATE=yes"},
	})
	if c.AccessTokenTTL != 15*time.Minute || c.RefreshTokenTTL != 48*time.Hour || !c.CIMDAllowPrivate {
		t.Errorf("access %v, refresh %v, cimd private %v", c.AccessTokenTTL, c.RefreshTokenTTL, c.CIMDAllowPrivate)
	}
	for _, env := range []string{"ATOMCP_ACCESS_TOKEN_TTL=0", "ATOMCP_REFRESH_TOKEN_TTL=-1h", "ATOMCP_ACCESS_TOKEN_TTL=soon", "ATOMCP_CIMD_ALLOW_PRIVATE=maybe"} {
		if _, err := Load(nil, []string{env}, ""); err == nil {
			t.Errorf("%s accepted", env)
		}
	}
}
