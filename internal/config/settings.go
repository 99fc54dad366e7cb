package config

import (
	"fmt"
	"log/slog"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// setting describes one configuration setting: where it is read from, how
// it is presented in help text, logs and docs, and (bind) which Config
// field it fills. The table below is the single list that BindFlags, Load,
// LogAttrs, String, MarshalJSON, the unknown-variable check and
// docs_test.go share, so adding a setting is one entry here plus its
// Config field: nothing else names it unless it wants to (a Key* constant
// is only needed by code outside the table).
type setting struct {
	key    string   // name in Config.Sources and LogAttrs
	flag   string   // flag name without dashes; "" for secrets, which never come from flags
	env    []string // environment names, highest precedence first
	envDoc string   // help text for env when a plain list would mislead
	def    string   // default as text: parsed into the field by Load, shown in flag help and the docs
	typ    string   // value placeholder shown in flag help
	usage  string   // flag help, without the env part
	// shown is how a refused value appears in an error, for values that
	// may hold a password (URLs); nil quotes the value as given. Secrets
	// are never shown at all.
	shown func(raw string) string
	bind  binder
}

// binder connects a setting to its Config field.
type binder struct {
	// load sets the field to the setting's default, then to the value
	// given by a flag or variable, and records the source in r.
	load func(r *resolver, s setting, c *Config)
	// show is the field's value as logged and printed; never a secret.
	show func(c *Config) slog.Value
	// secret is set when the field holds a Secret: the setting has no
	// flag and its value never appears in errors or logs.
	secret bool
}

// bindVar binds a setting to the field of type T that field returns:
// parse turns the trimmed, non-empty text of a flag, variable or the
// default into a T, show presents it in logs. A field of type Secret or
// map[string]Secret makes the setting secret.
func bindVar[T any](parse func(string) (T, error), field func(*Config) *T, show func(T) slog.Value) binder {
	var zero T
	secret := false
	switch any(zero).(type) {
	case Secret, map[string]Secret:
		secret = true
	}
	return binder{
		load: func(r *resolver, s setting, c *Config) {
			dst := field(c)
			if s.def != "" {
				v, err := parse(s.def)
				if err != nil {
					panic("config: the default of " + s.key + " does not parse: " + err.Error())
				}
				*dst = v
			}
			if v, ok := read(r, s, parse); ok {
				*dst = v
			}
		},
		show:   func(c *Config) slog.Value { return show(*field(c)) },
		secret: secret,
	}
}

// bindSecret binds a bearer token or API key.
func bindSecret(field func(*Config) *Secret) binder {
	return bindVar(parseToken, field, showSecret)
}

// Log presentations of field types; slog.StringValue, slog.BoolValue and
// slog.Int64Value serve the plain ones.

func showList(l []string) slog.Value { return slog.StringValue(strings.Join(l, ",")) }

// showDuration logs a duration as text: the JSON handler would print
// nanoseconds.
func showDuration(d time.Duration) slog.Value { return slog.StringValue(d.String()) }

func showInt(n int) slog.Value { return slog.IntValue(n) }

func showLevel(l slog.Level) slog.Value { return slog.StringValue(levelName(l)) }

func showDatabaseURL(s string) slog.Value { return slog.StringValue(redactDatabaseURL(s)) }

func showPrefixes(ps []netip.Prefix) slog.Value {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return slog.StringValue(strings.Join(out, ","))
}

func showSecret(s Secret) slog.Value { return setOrUnset(s != "") }

// showTokenNames lists the names of static tokens, never the tokens.
func showTokenNames(m map[string]Secret) slog.Value {
	if len(m) == 0 {
		return setOrUnset(false)
	}
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return slog.StringValue("set (" + strings.Join(names, ",") + ")")
}

func setOrUnset(set bool) slog.Value {
	if set {
		return slog.StringValue("set")
	}
	return slog.StringValue("unset")
}

// Keys of Config.Sources and of LogAttrs, for the code that names a
// setting; the table below is the list of settings.
const (
	KeyAddr                       = "addr"
	KeyBaseURL                    = "base_url"
	KeyMCPPath                    = "mcp_path"
	KeyDatabaseURL                = "database_url"
	KeyDBConnectTimeout           = "db_connect_timeout"
	KeyDBStatementTimeout         = "db_statement_timeout"
	KeyAuth                       = "auth"
	KeyAuthKitDomain              = "authkit_domain"
	KeyOIDCIssuer                 = "oidc_issuer"
	KeyAudience                   = "audience"
	KeyAlgorithms                 = "algorithms"
	KeyRequiredScopes             = "required_scopes"
	KeyScopeRead                  = "scope_read"
	KeyScopeWrite                 = "scope_write"
	KeyWorkOSClientID             = "workos_client_id"
	KeyWorkOSAPIKey               = "workos_api_key" // #nosec G101 -- the name of a setting, not its value
	KeyInternalToken              = "internal_token"
	KeyStaticTokens               = "static_tokens"
	KeyLogLevel                   = "log_level"
	KeyLogFormat                  = "log_format"
	KeyStateless                  = "stateless"
	KeyMaxBodyBytes               = "max_body_bytes"
	KeyAllowedHosts               = "allowed_hosts"
	KeyAllowedOrigins             = "allowed_origins"
	KeyTrustedProxies             = "trusted_proxies"
	KeyAllowUnauthenticatedRemote = "allow_unauthenticated_remote"
	KeyShutdownTimeout            = "shutdown_timeout"
	KeySessionTimeout             = "session_timeout"
	KeyTaskTTL                    = "task_ttl"
	KeyEventStoreBytes            = "event_store_bytes"
	KeyGCPercent                  = "gc_percent"
	KeyMemoryLimit                = "memory_limit"
	KeyAccessTokenTTL             = "access_token_ttl"
	KeyRefreshTokenTTL            = "refresh_token_ttl"
	KeyCIMDAllowPrivate           = "cimd_allow_private"
	KeyEmbeddingsURL              = "embeddings_url"
	KeyEmbeddingsModel            = "embeddings_model"
	KeyEmbeddingsAPIKey           = "embeddings_api_key" // #nosec G101 -- the name of a setting, not its value
	KeySigninOIDCIssuer           = "signin_oidc_issuer"
	KeySigninOIDCClientID         = "signin_oidc_client_id"
	KeySigninGitHubClientID       = "signin_github_client_id"
	KeySigninGoogleClientID       = "signin_google_client_id"
	KeySigninPassword             = "signin_password"
	KeyRequestTimeout             = "request_timeout"
	KeyReadHeaderTimeout          = "read_header_timeout"
	KeyReadBodyTimeout            = "read_body_timeout"
	KeyMinBodyRate                = "min_body_rate"
	KeyIdleTimeout                = "idle_timeout"
	KeyMaxConnsPerClient          = "max_conns_per_client"
	KeyToolRate                   = "tool_rate"
	KeyToolBurst                  = "tool_burst"
	KeyToolConcurrency            = "tool_concurrency"
	KeyMetricsAddr                = "metrics_addr"
	KeyOTLPEndpoint               = "otlp_endpoint"
	KeySecretKey                  = "secret_key"
	KeySecretKeyFile              = "secret_key_file"
	KeyAllowInsecureFiles         = "allow_insecure_files"
)

// settings lists every setting in the order in which Load reads them
// (so errors come in this order), LogAttrs logs them and the docs list
// them. It is never modified.
var settings = []setting{
	{key: KeyAddr, flag: "addr", env: []string{"ATOMCP_ADDR", "ATOMS_FASTMCP_HOST", "ATOMS_FASTMCP_PORT"},
		envDoc: "ATOMCP_ADDR, or ATOMS_FASTMCP_HOST and/or ATOMS_FASTMCP_PORT",
		def:    DefaultAddr, typ: "host:port", usage: "listen address",
		bind: binder{load: (*resolver).addr, show: func(c *Config) slog.Value { return slog.StringValue(c.Addr) }}},
	// An unset base URL is derived from the address once every setting
	// is read (Load).
	{key: KeyBaseURL, flag: "base-url", env: []string{"ATOMCP_BASE_URL", "ATOMS_FASTMCP_PUBLIC_BASE_URL", "ATOMS_FASTMCP_BASE_URL", "FASTMCP_SERVER_AUTH_AUTHKITPROVIDER_BASE_URL"},
		typ: "url", usage: "public base URL of this server; if unset, http:// + the listen address (with 127.0.0.1 for an empty, 0.0.0.0 or :: host)",
		bind: bindVar(parseBaseURL, func(c *Config) *string { return &c.BaseURL }, slog.StringValue)},
	{key: KeyMCPPath, flag: "mcp-path", env: []string{"ATOMCP_MCP_PATH", "ATOMS_FASTMCP_HTTP_PATH"},
		def: DefaultMCPPath, typ: "path", usage: "URL path of the MCP endpoint",
		bind: bindVar(parseMCPPath, func(c *Config) *string { return &c.MCPPath }, slog.StringValue)},
	{key: KeyDatabaseURL, flag: "database-url", env: []string{"ATOMCP_DATABASE_URL"},
		def: DefaultDatabaseURL, typ: "url", usage: "database: sqlite://relative/path, sqlite:///absolute/path, postgres://… or postgresql://…",
		shown: shownDatabaseURL,
		bind:  bindVar(parseDatabaseURL, func(c *Config) *string { return &c.DatabaseURL }, showDatabaseURL)},
	{key: KeyDBConnectTimeout, flag: "db-connect-timeout", env: []string{"ATOMCP_DB_CONNECT_TIMEOUT"},
		def: "10s", typ: "duration", usage: "PostgreSQL: longest wait for one connection to the server, unless the URL sets connect_timeout",
		bind: bindVar(positiveDuration, func(c *Config) *time.Duration { return &c.DBConnectTimeout }, showDuration)},
	{key: KeyDBStatementTimeout, flag: "db-statement-timeout", env: []string{"ATOMCP_DB_STATEMENT_TIMEOUT"},
		def: "20s", typ: "duration", usage: "PostgreSQL: longest a statement may run (statement_timeout) and, 2s more, the longest wait for the server's answer; 0 disables",
		bind: bindVar(durationParser(" (0 disables)"), func(c *Config) *time.Duration { return &c.DBStatementTimeout }, showDuration)},
	{key: KeyAuth, flag: "auth", env: []string{"ATOMCP_AUTH", "FASTMCP_SERVER_AUTH"},
		def: DefaultAuth, typ: "provider", usage: "auth provider: none, embedded, authkit, oidc or static",
		bind: binder{load: (*resolver).auth, show: func(c *Config) slog.Value { return slog.StringValue(c.Auth) }}},
	{key: KeyAuthKitDomain, flag: "authkit-domain", env: []string{"ATOMCP_AUTHKIT_DOMAIN", "FASTMCP_SERVER_AUTH_AUTHKITPROVIDER_AUTHKIT_DOMAIN"},
		typ: "url", usage: "AuthKit domain, e.g. https://your-app.authkit.app (for --auth=authkit)",
		bind: bindVar(parseAuthKitDomain, func(c *Config) *string { return &c.AuthKitDomain }, slog.StringValue)},
	{key: KeyOIDCIssuer, flag: "oidc-issuer", env: []string{"ATOMCP_OIDC_ISSUER"},
		typ: "url", usage: "OpenID Connect issuer URL (for --auth=oidc)",
		bind: bindVar(parseIssuer, func(c *Config) *string { return &c.OIDCIssuer }, slog.StringValue)},
	{key: KeyAudience, flag: "audience", env: []string{"ATOMCP_AUTH_AUDIENCE"},
		typ: "string", usage: "audience that access tokens must carry (default: this server's MCP URL)",
		bind: bindVar(parseString, func(c *Config) *string { return &c.Audience }, slog.StringValue)},
	{key: KeyAlgorithms, flag: "auth-algorithms", env: []string{"ATOMCP_AUTH_ALGORITHMS"},
		def: "RS256", typ: "algs", usage: "comma-separated JWT signing algorithms accepted in access tokens (asymmetric only)",
		bind: bindVar(parseAlgorithms, func(c *Config) *[]string { return &c.Algorithms }, showList)},
	{key: KeyRequiredScopes, flag: "required-scopes", env: []string{"ATOMCP_REQUIRED_SCOPES", "FASTMCP_SERVER_AUTH_AUTHKITPROVIDER_REQUIRED_SCOPES"},
		typ: "scopes", usage: "scopes every access token must carry: a JSON list, or comma- or space-separated",
		bind: bindVar(parseScopes, func(c *Config) *[]string { return &c.RequiredScopes }, showList)},
	{key: KeyScopeRead, env: []string{"ATOMCP_SCOPE_READ"},
		bind: bindVar(parseScope, func(c *Config) *string { return &c.ScopeRead }, slog.StringValue)},
	{key: KeyScopeWrite, env: []string{"ATOMCP_SCOPE_WRITE"},
		bind: bindVar(parseScope, func(c *Config) *string { return &c.ScopeWrite }, slog.StringValue)},
	{key: KeyWorkOSClientID, env: []string{"WORKOS_CLIENT_ID"},
		bind: bindVar(parseString, func(c *Config) *string { return &c.WorkOSClientID }, slog.StringValue)},
	{key: KeyWorkOSAPIKey, env: []string{"WORKOS_API_KEY"},
		bind: bindSecret(func(c *Config) *Secret { return &c.WorkOSAPIKey })},
	{key: KeyInternalToken, env: []string{"ATOMCP_INTERNAL_TOKEN", "ATOMS_INTERNAL_TOKEN"},
		bind: bindSecret(func(c *Config) *Secret { return &c.InternalToken })},
	{key: KeyStaticTokens, env: []string{"ATOMCP_STATIC_TOKENS"},
		bind: bindVar(parseStaticTokens, func(c *Config) *map[string]Secret { return &c.StaticTokens }, showTokenNames)},
	{key: KeyLogLevel, flag: "log-level", env: []string{"ATOMCP_LOG_LEVEL", "LOG_LEVEL"},
		def: "info", typ: "level", usage: "log level: debug, info, warn or error",
		bind: bindVar(parseLogLevel, func(c *Config) *slog.Level { return &c.LogLevel }, showLevel)},
	{key: KeyLogFormat, flag: "log-format", env: []string{"ATOMCP_LOG_FORMAT"},
		def: LogFormatAuto, typ: "format", usage: "log format: auto (json unless stderr is a terminal), json or text",
		bind: bindVar(parseLogFormat, func(c *Config) *string { return &c.LogFormat }, slog.StringValue)},
	{key: KeyStateless, flag: "stateless", env: []string{"ATOMCP_STATELESS"},
		def: "false", typ: "bool", usage: "serve MCP without sessions (for replicas and serverless)",
		bind: bindVar(parseBool, func(c *Config) *bool { return &c.Stateless }, slog.BoolValue)},
	{key: KeyMaxBodyBytes, flag: "max-body-bytes", env: []string{"ATOMCP_MAX_BODY_BYTES"},
		def: "4MiB", typ: "size", usage: "largest accepted request body: bytes, or a number with KB, MB, KiB or MiB",
		bind: bindVar(parseSize, func(c *Config) *int64 { return &c.MaxBodyBytes }, slog.Int64Value)},
	{key: KeyAllowedHosts, flag: "allowed-hosts", env: []string{"ATOMCP_ALLOWED_HOSTS"},
		typ: "hosts", usage: "comma-separated public host names (host or host:port) that may reach a loopback-bound server through a reverse proxy",
		bind: bindVar(parseHosts, func(c *Config) *[]string { return &c.AllowedHosts }, showList)},
	{key: KeyAllowedOrigins, flag: "allowed-origins", env: []string{"ATOMCP_CORS_ORIGINS", "ATOMCP_ALLOWED_ORIGINS"},
		typ: "origins", usage: "comma-separated browser origins (scheme://host[:port]) allowed to call the MCP endpoint, or *",
		bind: bindVar(parseOrigins, func(c *Config) *[]string { return &c.AllowedOrigins }, showList)},
	{key: KeyTrustedProxies, flag: "trusted-proxies", env: []string{"ATOMCP_TRUSTED_PROXIES"},
		typ: "cidrs", usage: "comma-separated IP addresses or CIDR ranges of reverse proxies whose X-Forwarded-For, Forwarded, X-Forwarded-Proto and X-Forwarded-Host are believed",
		bind: bindVar(parseProxies, func(c *Config) *[]netip.Prefix { return &c.TrustedProxies }, showPrefixes)},
	{key: KeyAllowUnauthenticatedRemote, flag: "allow-unauthenticated-remote", env: []string{"ATOMCP_ALLOW_UNAUTHENTICATED_REMOTE"},
		def: "false", typ: "bool", usage: "allow --auth=none on a non-loopback address",
		bind: bindVar(parseBool, func(c *Config) *bool { return &c.AllowUnauthenticatedRemote }, slog.BoolValue)},
	{key: KeyShutdownTimeout, flag: "shutdown-timeout", env: []string{"ATOMCP_SHUTDOWN_TIMEOUT"},
		def: DefaultShutdownTimeout.String(), typ: "duration", usage: "how long shutdown waits for requests in flight",
		bind: bindVar(durationParser(" (0 means do not wait)"), func(c *Config) *time.Duration { return &c.ShutdownTimeout }, showDuration)},
	{key: KeySessionTimeout, flag: "session-timeout", env: []string{"ATOMCP_SESSION_TIMEOUT"},
		def: "30m", typ: "duration", usage: "idle MCP sessions are closed after this long; 0 disables",
		bind: bindVar(durationParser(" (0 disables)"), func(c *Config) *time.Duration { return &c.SessionTimeout }, showDuration)},
	{key: KeyTaskTTL, flag: "task-ttl", env: []string{"ATOMCP_TASK_TTL"},
		def: "24h", typ: "duration", usage: "how long an MCP task and its result are kept after it started",
		bind: bindVar(positiveDuration, func(c *Config) *time.Duration { return &c.TaskTTL }, showDuration)},
	{key: KeyRequestTimeout, flag: "request-timeout", env: []string{"ATOMCP_REQUEST_TIMEOUT"},
		def: "30s", typ: "duration", usage: "longest a tool call may run before it is cancelled; 0 disables",
		bind: bindVar(durationParser(" (0 disables)"), func(c *Config) *time.Duration { return &c.RequestTimeout }, showDuration)},
	{key: KeyReadHeaderTimeout, flag: "read-header-timeout", env: []string{"ATOMCP_READ_HEADER_TIMEOUT"},
		def: "10s", typ: "duration", usage: "how long a client may take to send a request's headers; 0 disables",
		bind: bindVar(durationParser(" (0 disables)"), func(c *Config) *time.Duration { return &c.ReadHeaderTimeout }, showDuration)},
	{key: KeyReadBodyTimeout, flag: "read-body-timeout", env: []string{"ATOMCP_READ_BODY_TIMEOUT"},
		def: "10s", typ: "duration", usage: "how long a request body may take, plus one second per min_body_rate bytes; 0 disables",
		bind: bindVar(durationParser(" (0 disables)"), func(c *Config) *time.Duration { return &c.ReadBodyTimeout }, showDuration)},
	{key: KeyMinBodyRate, flag: "min-body-rate", env: []string{"ATOMCP_MIN_BODY_RATE"},
		def: "4KiB", typ: "size", usage: "slowest accepted request body, in bytes per second, after read_body_timeout",
		bind: bindVar(parseSize, func(c *Config) *int64 { return &c.MinBodyRate }, slog.Int64Value)},
	{key: KeyIdleTimeout, flag: "idle-timeout", env: []string{"ATOMCP_IDLE_TIMEOUT"},
		def: "2m", typ: "duration", usage: "idle keep-alive connections are closed after this long; 0 disables",
		bind: bindVar(durationParser(" (0 disables)"), func(c *Config) *time.Duration { return &c.IdleTimeout }, showDuration)},
	{key: KeyMaxConnsPerClient, flag: "max-conns-per-client", env: []string{"ATOMCP_MAX_CONNS_PER_CLIENT"},
		def: "64", typ: "count", usage: "most open connections from one address (trusted proxies exempt); 0 disables",
		bind: bindVar(parseCount, func(c *Config) *int { return &c.MaxConnsPerClient }, showInt)},
	{key: KeyToolRate, flag: "tool-rate", env: []string{"ATOMCP_TOOL_RATE"},
		def: "10", typ: "per-second", usage: "MCP requests (tool calls and the rest) per second per user, sustained; 0 disables the rate limit",
		bind: bindVar(parseRate, func(c *Config) *float64 { return &c.ToolRate }, slog.Float64Value)},
	{key: KeyToolBurst, flag: "tool-burst", env: []string{"ATOMCP_TOOL_BURST"},
		def: "40", typ: "count", usage: "MCP requests a user may send at once above tool_rate",
		bind: bindVar(parseCount, func(c *Config) *int { return &c.ToolBurst }, showInt)},
	{key: KeyToolConcurrency, flag: "tool-concurrency", env: []string{"ATOMCP_TOOL_CONCURRENCY"},
		def: "8", typ: "count", usage: "MCP requests of one user in progress at once; 0 disables",
		bind: bindVar(parseCount, func(c *Config) *int { return &c.ToolConcurrency }, showInt)},
	{key: KeyEventStoreBytes, flag: "event-store-bytes", env: []string{"ATOMCP_EVENT_STORE_BYTES"},
		def: "1MiB", typ: "size", usage: "response events kept, all sessions together, so that a cut response stream can resume (Last-Event-ID); 0 keeps none",
		bind: bindVar(parseSizeOrOff, func(c *Config) *int64 { return &c.EventStoreBytes }, slog.Int64Value)},
	{key: KeyGCPercent, flag: "gc-percent", env: []string{"ATOMCP_GC_PERCENT"},
		def: "100", typ: "percent", usage: "garbage collection runs when the heap has grown by this much since the last one (Go's GOGC; lower holds less memory for more CPU); GOGC in the environment wins over the default",
		bind: bindVar(parseGCPercent, func(c *Config) *int { return &c.GCPercent }, showInt)},
	{key: KeyMemoryLimit, flag: "memory-limit", env: []string{"ATOMCP_MEMORY_LIMIT"},
		def: "0", typ: "size", usage: "soft limit of the Go runtime's memory (Go's GOMEMLIMIT): the collector works harder as it nears it; 0 sets none; GOMEMLIMIT in the environment wins over the default",
		bind: bindVar(parseSizeOrOff, func(c *Config) *int64 { return &c.MemoryLimit }, slog.Int64Value)},
	{key: KeyAccessTokenTTL, flag: "access-token-ttl", env: []string{"ATOMCP_ACCESS_TOKEN_TTL"},
		def: DefaultAccessTokenTTL.String(), typ: "duration", usage: "lifetime of access tokens issued by the embedded authorization server",
		bind: bindVar(positiveDuration, func(c *Config) *time.Duration { return &c.AccessTokenTTL }, showDuration)},
	{key: KeyRefreshTokenTTL, flag: "refresh-token-ttl", env: []string{"ATOMCP_REFRESH_TOKEN_TTL"},
		def: DefaultRefreshTokenTTL.String(), typ: "duration", usage: "lifetime of refresh tokens issued by the embedded authorization server",
		bind: bindVar(positiveDuration, func(c *Config) *time.Duration { return &c.RefreshTokenTTL }, showDuration)},
	{key: KeyCIMDAllowPrivate, env: []string{"ATOMCP_CIMD_ALLOW_PRIVATE"},
		bind: bindVar(parseBool, func(c *Config) *bool { return &c.CIMDAllowPrivate }, slog.BoolValue)},
	{key: KeyEmbeddingsURL, env: []string{"ATOMCP_EMBEDDINGS_URL"},
		shown: shownEmbeddingsURL,
		bind:  bindVar(parseEmbeddingsURL, func(c *Config) *string { return &c.EmbeddingsURL }, slog.StringValue)},
	{key: KeyEmbeddingsModel, env: []string{"ATOMCP_EMBEDDINGS_MODEL"},
		bind: bindVar(parseString, func(c *Config) *string { return &c.EmbeddingsModel }, slog.StringValue)},
	{key: KeyEmbeddingsAPIKey, env: []string{"ATOMCP_EMBEDDINGS_API_KEY"},
		bind: bindSecret(func(c *Config) *Secret { return &c.EmbeddingsAPIKey })},
	// Sign-in at upstream identity providers (docs/signin.md); AuthKit's
	// are authkit_domain, workos_client_id and workos_api_key.
	{key: KeySigninOIDCIssuer, env: []string{"ATOMCP_SIGNIN_OIDC_ISSUER"},
		bind: bindVar(parseIssuer, func(c *Config) *string { return &c.SigninOIDCIssuer }, slog.StringValue)},
	{key: KeySigninOIDCClientID, env: []string{"ATOMCP_SIGNIN_OIDC_CLIENT_ID"},
		bind: bindVar(parseString, func(c *Config) *string { return &c.SigninOIDCClientID }, slog.StringValue)},
	{key: "signin_oidc_client_secret", env: []string{"ATOMCP_SIGNIN_OIDC_CLIENT_SECRET"},
		bind: bindSecret(func(c *Config) *Secret { return &c.SigninOIDCClientSecret })},
	{key: "signin_oidc_name", env: []string{"ATOMCP_SIGNIN_OIDC_NAME"},
		bind: bindVar(parseString, func(c *Config) *string { return &c.SigninOIDCName }, slog.StringValue)},
	{key: "signin_oidc_scopes", env: []string{"ATOMCP_SIGNIN_OIDC_SCOPES"}, def: "openid email profile",
		bind: bindVar(parseScopes, func(c *Config) *[]string { return &c.SigninOIDCScopes }, showList)},
	{key: KeySigninGitHubClientID, env: []string{"ATOMCP_SIGNIN_GITHUB_CLIENT_ID"},
		bind: bindVar(parseString, func(c *Config) *string { return &c.SigninGitHubClientID }, slog.StringValue)},
	{key: "signin_github_client_secret", env: []string{"ATOMCP_SIGNIN_GITHUB_CLIENT_SECRET"},
		bind: bindSecret(func(c *Config) *Secret { return &c.SigninGitHubClientSecret })},
	{key: "signin_github_orgs", env: []string{"ATOMCP_SIGNIN_GITHUB_ORGS"},
		bind: bindVar(parseNames, func(c *Config) *[]string { return &c.SigninGitHubOrgs }, showList)},
	{key: "signin_github_url", env: []string{"ATOMCP_SIGNIN_GITHUB_URL"},
		bind: bindVar(parseSigninURL, func(c *Config) *string { return &c.SigninGitHubURL }, slog.StringValue)},
	{key: KeySigninGoogleClientID, env: []string{"ATOMCP_SIGNIN_GOOGLE_CLIENT_ID"},
		bind: bindVar(parseString, func(c *Config) *string { return &c.SigninGoogleClientID }, slog.StringValue)},
	{key: "signin_google_client_secret", env: []string{"ATOMCP_SIGNIN_GOOGLE_CLIENT_SECRET"},
		bind: bindSecret(func(c *Config) *Secret { return &c.SigninGoogleClientSecret })},
	{key: "signin_google_domains", env: []string{"ATOMCP_SIGNIN_GOOGLE_DOMAINS"},
		bind: bindVar(parseNames, func(c *Config) *[]string { return &c.SigninGoogleDomains }, showList)},
	{key: "signin_google_issuer", env: []string{"ATOMCP_SIGNIN_GOOGLE_ISSUER"},
		bind: bindVar(parseSigninURL, func(c *Config) *string { return &c.SigninGoogleIssuer }, slog.StringValue)},
	{key: KeySigninPassword, env: []string{"ATOMCP_SIGNIN_PASSWORD"}, def: "true",
		bind: bindVar(parseBool, func(c *Config) *bool { return &c.SigninPassword }, slog.BoolValue)},
	{key: "signin_allowed_domains", env: []string{"ATOMCP_SIGNIN_ALLOWED_DOMAINS"},
		bind: bindVar(parseNames, func(c *Config) *[]string { return &c.SigninAllowedDomains }, showList)},
	{key: "signin_auto_create", env: []string{"ATOMCP_SIGNIN_AUTO_CREATE"}, def: "true",
		bind: bindVar(parseBool, func(c *Config) *bool { return &c.SigninAutoCreate }, slog.BoolValue)},
	{key: KeyMetricsAddr, flag: "metrics-addr", env: []string{"ATOMCP_METRICS_ADDR"},
		typ: "host:port", usage: "serve /metrics on this separate address instead of the main listener; off for none",
		bind: bindVar(parseMetricsAddr, func(c *Config) *string { return &c.MetricsAddr }, slog.StringValue)},
	// The standard OpenTelemetry variables: read here so that config
	// show lists them and .env can set them; the SDK reads the rest
	// (OTEL_EXPORTER_OTLP_HEADERS, OTEL_TRACES_SAMPLER, …) itself.
	{key: KeyOTLPEndpoint, env: []string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"},
		bind: bindVar(parseOTLPEndpoint, func(c *Config) *string { return &c.OTLPEndpoint }, slog.StringValue)},
	{key: KeySecretKey, env: []string{"ATOMCP_SECRET_KEY"},
		bind: bindSecret(func(c *Config) *Secret { return &c.SecretKey })},
	{key: KeySecretKeyFile, env: []string{"ATOMCP_SECRET_KEY_FILE"},
		bind: bindVar(parseString, func(c *Config) *string { return &c.SecretKeyFile }, slog.StringValue)},
	{key: KeyAllowInsecureFiles, env: []string{"ATOMCP_ALLOW_INSECURE_FILES"},
		def: "false", typ: "bool",
		bind: bindVar(parseBool, func(c *Config) *bool { return &c.AllowInsecureFiles }, slog.BoolValue)},
}

// BindFlags defines one flag per non-secret setting on fs. Secrets have no
// flag so that they never appear in a process listing; they are read from
// the environment or the .env file only. The flags only record what was
// typed: Load validates them, so that flag, environment and .env mistakes
// are all reported the same way.
func BindFlags(fs *pflag.FlagSet) { bindFlags(fs, nil) }

// BindFlagsFor is BindFlags for the settings with these keys only (Key*
// constants): a command that only opens the database shows
// --database-url and the log flags, not the listener's. The other
// settings are still read from the environment by Load.
func BindFlagsFor(fs *pflag.FlagSet, keys ...string) {
	want := make(map[string]bool, len(keys))
	for _, k := range keys {
		want[k] = true
	}
	bindFlags(fs, want)
}

// bindFlags binds the flags of the settings in want (nil: all).
func bindFlags(fs *pflag.FlagSet, want map[string]bool) {
	for _, s := range settings {
		if s.flag == "" || (want != nil && !want[s.key]) || fs.Lookup(s.flag) != nil {
			continue
		}
		envDoc := s.envDoc
		if envDoc == "" {
			envDoc = strings.Join(s.env, ", ")
		}
		usage := s.usage + " (env " + envDoc + ")"
		if s.typ == "bool" {
			f := fs.VarPF(&boolFlagValue{flagValue{typ: s.typ, s: s.def}}, s.flag, "", usage)
			f.NoOptDefVal = "true"
			continue
		}
		fs.Var(&flagValue{typ: s.typ, s: s.def}, s.flag, usage)
	}
}

// flagValue is a pflag.Value that keeps the text as typed.
type flagValue struct {
	typ string
	s   string
}

func (v *flagValue) String() string     { return v.s }
func (v *flagValue) Set(s string) error { v.s = s; return nil }
func (v *flagValue) Type() string       { return v.typ }

// boolFlagValue lets "--stateless" stand alone, without "=true".
type boolFlagValue struct{ flagValue }

func (v *boolFlagValue) IsBoolFlag() bool { return true }

// parseSizeOrOff is parseSize that also accepts 0 (off).
func parseSizeOrOff(s string) (int64, error) {
	if s == "0" {
		return 0, nil
	}
	n, err := parseSize(s)
	if err != nil {
		return 0, fmt.Errorf("%w, or 0 for none", err)
	}
	return n, nil
}
