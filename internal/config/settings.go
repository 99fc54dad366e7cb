package config

import (
	"strings"

	"github.com/spf13/pflag"
)

// setting describes one configuration setting: where it is read from and
// how it is presented in help text and logs. The table below is the single
// list that BindFlags, Load, LogAttrs and the unknown-variable check share,
// so that a setting cannot have a flag but no log line, or an env name that
// the typo check does not know.
type setting struct {
	key    string   // name in Config.Sources and LogAttrs
	flag   string   // flag name without dashes; "" for secrets, which never come from flags
	env    []string // environment names, highest precedence first
	envDoc string   // help text for env when a plain list would mislead
	def    string   // default as shown in flag help
	typ    string   // value placeholder shown in flag help
	usage  string   // flag help, without the env part
	secret bool     // the value is never printed
}

// Keys of Config.Sources and of LogAttrs, one per setting.
const (
	KeyAddr                       = "addr"
	KeyBaseURL                    = "base_url"
	KeyMCPPath                    = "mcp_path"
	KeyDatabaseURL                = "database_url"
	KeyAuth                       = "auth"
	KeyAuthKitDomain              = "authkit_domain"
	KeyOIDCIssuer                 = "oidc_issuer"
	KeyAudience                   = "audience"
	KeyAlgorithms                 = "algorithms"
	KeyRequiredScopes             = "required_scopes"
	KeyScopeRead                  = "scope_read"
	KeyScopeWrite                 = "scope_write"
	KeyWorkOSClientID             = "workos_client_id"
	KeyWorkOSAPIKey               = "workos_api_key"
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
	KeyAccessTokenTTL             = "access_token_ttl"
	KeyRefreshTokenTTL            = "refresh_token_ttl"
	KeyCIMDAllowPrivate           = "cimd_allow_private"
	KeyEmbeddingsURL              = "embeddings_url"
	KeyEmbeddingsModel            = "embeddings_model"
	KeyEmbeddingsAPIKey           = "embeddings_api_key"
)

// settings lists every setting in the order used by LogAttrs and the docs.
// It is never modified.
var settings = []setting{
	{key: KeyAddr, flag: "addr", env: []string{"ATOMCP_ADDR", "ATOMS_FASTMCP_HOST", "ATOMS_FASTMCP_PORT"},
		envDoc: "ATOMCP_ADDR, or ATOMS_FASTMCP_HOST and/or ATOMS_FASTMCP_PORT",
		def:    DefaultAddr, typ: "host:port", usage: "listen address"},
	{key: KeyBaseURL, flag: "base-url", env: []string{"ATOMCP_BASE_URL", "ATOMS_FASTMCP_PUBLIC_BASE_URL", "ATOMS_FASTMCP_BASE_URL", "FASTMCP_SERVER_AUTH_AUTHKITPROVIDER_BASE_URL"},
		typ: "url", usage: "public base URL of this server; if unset, http:// + the listen address (with 127.0.0.1 for an empty, 0.0.0.0 or :: host)"},
	{key: KeyMCPPath, flag: "mcp-path", env: []string{"ATOMCP_MCP_PATH", "ATOMS_FASTMCP_HTTP_PATH"},
		def: DefaultMCPPath, typ: "path", usage: "URL path of the MCP endpoint"},
	{key: KeyDatabaseURL, flag: "database-url", env: []string{"ATOMCP_DATABASE_URL"},
		def: DefaultDatabaseURL, typ: "url", usage: "database: sqlite://relative/path, sqlite:///absolute/path, postgres://… or postgresql://…"},
	{key: KeyAuth, flag: "auth", env: []string{"ATOMCP_AUTH", "FASTMCP_SERVER_AUTH"},
		def: DefaultAuth, typ: "provider", usage: "auth provider: none, embedded, authkit, oidc or static"},
	{key: KeyAuthKitDomain, flag: "authkit-domain", env: []string{"ATOMCP_AUTHKIT_DOMAIN", "FASTMCP_SERVER_AUTH_AUTHKITPROVIDER_AUTHKIT_DOMAIN"},
		typ: "url", usage: "AuthKit domain, e.g. https://your-app.authkit.app (for --auth=authkit)"},
	{key: KeyOIDCIssuer, flag: "oidc-issuer", env: []string{"ATOMCP_OIDC_ISSUER"},
		typ: "url", usage: "OpenID Connect issuer URL (for --auth=oidc)"},
	{key: KeyAudience, flag: "audience", env: []string{"ATOMCP_AUTH_AUDIENCE"},
		typ: "string", usage: "audience that access tokens must carry (default: this server's MCP URL)"},
	{key: KeyAlgorithms, flag: "auth-algorithms", env: []string{"ATOMCP_AUTH_ALGORITHMS"},
		def: "RS256", typ: "algs", usage: "comma-separated JWT signing algorithms accepted in access tokens (asymmetric only)"},
	{key: KeyRequiredScopes, flag: "required-scopes", env: []string{"ATOMCP_REQUIRED_SCOPES", "FASTMCP_SERVER_AUTH_AUTHKITPROVIDER_REQUIRED_SCOPES"},
		typ: "scopes", usage: "scopes every access token must carry: a JSON list, or comma- or space-separated"},
	{key: KeyScopeRead, env: []string{"ATOMCP_SCOPE_READ"}},
	{key: KeyScopeWrite, env: []string{"ATOMCP_SCOPE_WRITE"}},
	{key: KeyWorkOSClientID, env: []string{"WORKOS_CLIENT_ID"}},
	{key: KeyWorkOSAPIKey, env: []string{"WORKOS_API_KEY"}, secret: true},
	{key: KeyInternalToken, env: []string{"ATOMCP_INTERNAL_TOKEN", "ATOMS_INTERNAL_TOKEN"}, secret: true},
	{key: KeyStaticTokens, env: []string{"ATOMCP_STATIC_TOKENS"}, secret: true},
	{key: KeyLogLevel, flag: "log-level", env: []string{"ATOMCP_LOG_LEVEL", "LOG_LEVEL"},
		def: "info", typ: "level", usage: "log level: debug, info, warn or error"},
	{key: KeyLogFormat, flag: "log-format", env: []string{"ATOMCP_LOG_FORMAT"},
		def: LogFormatAuto, typ: "format", usage: "log format: auto (json unless stderr is a terminal), json or text"},
	{key: KeyStateless, flag: "stateless", env: []string{"ATOMCP_STATELESS"},
		def: "false", typ: "bool", usage: "serve MCP without sessions (for replicas and serverless)"},
	{key: KeyMaxBodyBytes, flag: "max-body-bytes", env: []string{"ATOMCP_MAX_BODY_BYTES"},
		def: "4MiB", typ: "size", usage: "largest accepted request body: bytes, or a number with KB, MB, KiB or MiB"},
	{key: KeyAllowedHosts, flag: "allowed-hosts", env: []string{"ATOMCP_ALLOWED_HOSTS"},
		typ: "hosts", usage: "comma-separated public host names (host or host:port) that may reach a loopback-bound server through a reverse proxy"},
	{key: KeyAllowedOrigins, flag: "allowed-origins", env: []string{"ATOMCP_CORS_ORIGINS", "ATOMCP_ALLOWED_ORIGINS"},
		typ: "origins", usage: "comma-separated browser origins (scheme://host[:port]) allowed to call the MCP endpoint, or *"},
	{key: KeyTrustedProxies, flag: "trusted-proxies", env: []string{"ATOMCP_TRUSTED_PROXIES"},
		typ: "cidrs", usage: "comma-separated IP addresses or CIDR ranges of reverse proxies whose X-Forwarded-Proto and X-Forwarded-Host are believed"},
	{key: KeyAllowUnauthenticatedRemote, flag: "allow-unauthenticated-remote", env: []string{"ATOMCP_ALLOW_UNAUTHENTICATED_REMOTE"},
		def: "false", typ: "bool", usage: "allow --auth=none on a non-loopback address"},
	{key: KeyShutdownTimeout, flag: "shutdown-timeout", env: []string{"ATOMCP_SHUTDOWN_TIMEOUT"},
		def: DefaultShutdownTimeout.String(), typ: "duration", usage: "how long shutdown waits for requests in flight"},
	{key: KeySessionTimeout, flag: "session-timeout", env: []string{"ATOMCP_SESSION_TIMEOUT"},
		def: "30m", typ: "duration", usage: "idle MCP sessions are closed after this long; 0 disables"},
	{key: KeyAccessTokenTTL, flag: "access-token-ttl", env: []string{"ATOMCP_ACCESS_TOKEN_TTL"},
		def: DefaultAccessTokenTTL.String(), typ: "duration", usage: "lifetime of access tokens issued by the embedded authorization server"},
	{key: KeyRefreshTokenTTL, flag: "refresh-token-ttl", env: []string{"ATOMCP_REFRESH_TOKEN_TTL"},
		def: DefaultRefreshTokenTTL.String(), typ: "duration", usage: "lifetime of refresh tokens issued by the embedded authorization server"},
	{key: KeyCIMDAllowPrivate, env: []string{"ATOMCP_CIMD_ALLOW_PRIVATE"}},
	{key: KeyEmbeddingsURL, env: []string{"ATOMCP_EMBEDDINGS_URL"}},
	{key: KeyEmbeddingsModel, env: []string{"ATOMCP_EMBEDDINGS_MODEL"}},
	{key: KeyEmbeddingsAPIKey, env: []string{"ATOMCP_EMBEDDINGS_API_KEY"}, secret: true},
}

// settingFor returns the setting with the given key. The keys are
// constants of this package, so a miss is a programming error.
func settingFor(key string) setting {
	for _, s := range settings {
		if s.key == key {
			return s
		}
	}
	panic("config: unknown setting " + key)
}

// BindFlags defines one flag per non-secret setting on fs. Secrets have no
// flag so that they never appear in a process listing; they are read from
// the environment or the .env file only. The flags only record what was
// typed: Load validates them, so that flag, environment and .env mistakes
// are all reported the same way.
func BindFlags(fs *pflag.FlagSet) {
	for _, s := range settings {
		if s.flag == "" {
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
