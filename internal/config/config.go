// Package config reads atomcp's settings from command-line flags, the
// process environment and a .env file into one validated Config, and
// remembers where each setting came from so that start-up can log it.
//
// Precedence, highest first: a flag that was explicitly set; the
// environment; the defaults. The .env file fills in only the variables the
// process environment does not have (as the Python server's python-dotenv
// did), so it is part of "the environment" at a lower priority per
// variable. Where several variables give one setting (the canonical
// ATOMCP_* name and the Python server's names), the first one set wins, in
// the order listed in docs/configuration.md. A variable set to the empty
// string counts as not set, so that a template .env with blank values
// changes nothing.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/atomcp/atomcp/internal/netaddr"
)

// Defaults.
const (
	DefaultAddr            = "127.0.0.1:8000"
	DefaultMCPPath         = "/api/mcp"
	DefaultDatabaseURL     = "sqlite://atomcp.db"
	DefaultShutdownTimeout = 30 * time.Second
	// Token lifetimes of the embedded authorization server.
	DefaultAccessTokenTTL  = time.Hour
	DefaultRefreshTokenTTL = 30 * 24 * time.Hour
	// DefaultAuth is the embedded authorization server, so that zero
	// configuration gives a server that real MCP clients can log in to.
	DefaultAuth = AuthEmbedded
)

// Config is every setting of atomcp serve, validated. Each field but
// Sources and Warnings is filled by its entry in the settings table
// (settings.go), which also logs and documents it.
type Config struct {
	Addr        string // listen host:port
	BaseURL     string // public base URL, no trailing slash
	MCPPath     string // path of the MCP endpoint, starts with "/", no trailing slash
	DatabaseURL string // sqlite://… or postgres(ql)://…; may hold a password, see LogAttrs
	// PostgreSQL's waits: one connection attempt, one statement (0: none).
	DBConnectTimeout   time.Duration
	DBStatementTimeout time.Duration

	Auth           string   // AuthNone, AuthEmbedded, AuthAuthKit, AuthOIDC or AuthStatic
	AuthKitDomain  string   // https://…, no trailing slash; set when Auth is AuthAuthKit
	OIDCIssuer     string   // exactly as configured; set when Auth is AuthOIDC
	Audience       string   // expected token audience; empty means not configured
	Algorithms     []string // accepted JWT signing algorithms
	RequiredScopes []string // scopes every token must carry
	ScopeRead      string   // provider scope that grants read tools; empty means not configured
	ScopeWrite     string   // provider scope that grants write tools; empty means not configured

	WorkOSClientID string
	WorkOSAPIKey   Secret
	InternalToken  Secret            // static bearer token for trusted internal callers
	StaticTokens   map[string]Secret // name -> token

	LogLevel  slog.Level
	LogFormat string // LogFormatAuto, LogFormatJSON or LogFormatText; the caller resolves auto

	Stateless                  bool
	MaxBodyBytes               int64
	AllowedHosts               []string // lower-case host or host:port
	AllowedOrigins             []string // scheme://host[:port] as browsers send it, or the single entry "*"
	TrustedProxies             []netip.Prefix
	AllowUnauthenticatedRemote bool
	ShutdownTimeout            time.Duration
	SessionTimeout             time.Duration // 0 disables the idle timeout
	TaskTTL                    time.Duration // how long a task and its result are kept
	EventStoreBytes            int64         // resumable-stream events kept; 0 keeps none
	GCPercent                  int           // the collector's target heap growth (runtime/debug.SetGCPercent)
	MemoryLimit                int64         // the runtime's soft memory limit in bytes; 0 sets none

	// Work bounded per request and per user (0 disables each).
	RequestTimeout    time.Duration // a tool call's deadline
	ReadHeaderTimeout time.Duration
	ReadBodyTimeout   time.Duration // before MinBodyRate applies
	MinBodyRate       int64         // bytes per second
	IdleTimeout       time.Duration
	MaxConnsPerClient int
	ToolRate          float64 // MCP requests per second per user
	ToolBurst         int
	ToolConcurrency   int

	// The embedded authorization server (Auth is AuthEmbedded).
	AccessTokenTTL  time.Duration
	RefreshTokenTTL time.Duration
	// CIMDAllowPrivate lets client metadata documents be fetched from
	// private addresses: for tests only, it opens an SSRF hole.
	CIMDAllowPrivate bool

	// Semantic search: an OpenAI-compatible embeddings endpoint (API base
	// URL), its model and key; with no URL, atomcp embeds locally.
	EmbeddingsURL    string
	EmbeddingsModel  string
	EmbeddingsAPIKey Secret

	// Sign-in at upstream identity providers through the embedded
	// authorization server (docs/signin.md); AuthKit's is configured by
	// AuthKitDomain, WorkOSClientID and WorkOSAPIKey.
	SigninOIDCIssuer         string
	SigninOIDCClientID       string
	SigninOIDCClientSecret   Secret
	SigninOIDCName           string
	SigninOIDCScopes         []string
	SigninGitHubClientID     string
	SigninGitHubClientSecret Secret
	SigninGitHubOrgs         []string // lower-case logins
	SigninGitHubURL          string   // GitHub Enterprise Server; empty means github.com
	SigninGoogleClientID     string
	SigninGoogleClientSecret Secret
	SigninGoogleDomains      []string // lower-case hosted domains
	SigninGoogleIssuer       string   // empty means https://accounts.google.com; set only to test against a stand-in
	SigninPassword           bool
	SigninAllowedDomains     []string // lower-case email domains
	SigninAutoCreate         bool
	// Operations: where /metrics is served ("" on the main listener, a
	// host:port of its own, or MetricsOff) and the OTLP endpoint traces
	// are exported to ("" traces nothing).
	MetricsAddr  string
	OTLPEndpoint string
	// Secrets at rest: the key-encryption key that seals signing keys in
	// the database (base64 of 32 bytes), or the file that holds it; with
	// neither, a SQLite server generates one beside its database.
	SecretKey     Secret
	SecretKeyFile string
	// AllowInsecureFiles lets the server start on a database file that
	// other users may read.
	AllowInsecureFiles bool

	// Sources maps each setting's key (the Key* constants) to where its
	// value came from: "flag --addr", "ATOMCP_ADDR", ".env ATOMCP_ADDR",
	// "ATOMS_FASTMCP_HOST+ATOMS_FASTMCP_PORT" or "default".
	Sources map[string]string

	// Warnings are problems that do not stop start-up, one line each, in
	// a stable order: variables shadowed by a higher-precedence one with
	// a different value, .env values containing "${" (not expanded),
	// settings that the chosen auth provider ignores, and unknown
	// ATOMCP_* variables with the closest known name. Log each at warn.
	Warnings []string
}

// MCPURL returns the public URL of the MCP endpoint.
func (c *Config) MCPURL() string { return c.BaseURL + c.MCPPath }

// IsDefault reports whether the setting key (a Key* constant) kept its
// default because no flag or variable gave it. A flag set to "" also
// means the default value but is not a default source: the operator
// asked for it. A Config built by hand, without Load, has only defaults.
func (c *Config) IsDefault(key string) bool { return c.source(key) == sourceDefault }

// AddrIsLoopback reports whether the listen address accepts connections
// from this machine only (a loopback IP or "localhost"). The caller uses
// it to decide whether AllowUnauthenticatedRemote is needed.
func (c *Config) AddrIsLoopback() bool {
	host, _, err := net.SplitHostPort(c.Addr)
	return err == nil && netaddr.IsLoopbackHost(host)
}

// Load reads the configuration. fs is the flag set on which BindFlags was
// called, after parsing; it may be nil. environ is the process
// environment as os.Environ returns it. dotenvPath is the .env file to
// read ("" for none); a missing file is fine. The process environment is
// never modified.
//
// Every malformed value is reported, each on its own line naming the flag,
// variable or .env line and what is accepted, in the order of the
// settings; secret values are never included.
func Load(fs *pflag.FlagSet, environ []string, dotenvPath string) (*Config, error) {
	var dotenv map[string]dotenvEntry
	if dotenvPath != "" {
		var err error
		if dotenv, err = readDotenv(dotenvPath); err != nil {
			return nil, err
		}
	}
	r := &resolver{
		fs:         fs,
		env:        mergeEnv(environ, dotenv),
		dotenvPath: dotenvPath,
	}
	c := &Config{Sources: make(map[string]string, len(settings))}
	r.sources = c.Sources
	for _, s := range settings {
		s.bind.load(r, s, c)
	}
	if c.BaseURL == "" {
		c.BaseURL = defaultBaseURL(c.Addr)
	}

	// Cross-field rules only make sense once every field is valid;
	// otherwise they would repeat the field errors in other words.
	if len(r.errs) == 0 {
		r.crossCheck(c)
	}
	if len(r.errs) > 0 {
		return nil, errors.Join(r.errs...)
	}
	c.Warnings = append(r.warnings, unknownVarWarnings(environ, dotenv, dotenvPath)...)
	return c, nil
}

// defaultBaseURL derives the base URL from the listen address. A server
// listening on every interface is still reached locally via 127.0.0.1,
// which is also the only host a client can be sure to resolve.
func defaultBaseURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if isUnspecifiedHost(host) {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// addr is the binder of the listen address: --addr, then ATOMCP_ADDR,
// then the Python server's separate host and port, each completed by the
// other half of the default.
func (r *resolver) addr(s setting, c *Config) {
	c.Addr = s.def
	if o, ok := r.lookup(s.flag, "ATOMCP_ADDR"); ok {
		r.sources[s.key] = o.source()
		if o.value == "" {
			return // an explicitly empty flag means the default
		}
		if v, err := parseAddr(o.value); err != nil {
			r.fail(o, s, err)
		} else {
			c.Addr = v
		}
		if o.flag == "" {
			r.warnShadowedAddr(o, c.Addr)
		}
		return
	}
	host, port, _ := net.SplitHostPort(s.def)
	var parts []string
	if o, ok := r.lookup("", "ATOMS_FASTMCP_HOST"); ok {
		parts = append(parts, o.source())
		if h, err := parseHost(o.value); err != nil {
			r.fail(o, s, err)
		} else {
			host = h
		}
	}
	if o, ok := r.lookup("", "ATOMS_FASTMCP_PORT"); ok {
		parts = append(parts, o.source())
		if p, err := parsePort(o.value); err != nil {
			r.fail(o, s, err)
		} else {
			port = p
		}
	}
	if len(parts) == 0 {
		r.sources[s.key] = sourceDefault
		return
	}
	r.sources[s.key] = strings.Join(parts, "+")
	c.Addr = net.JoinHostPort(host, port)
}

// warnShadowedAddr warns when ATOMCP_ADDR hides a different address given
// by the Python server's host and port variables.
func (r *resolver) warnShadowedAddr(winner origin, addr string) {
	host, port, _ := net.SplitHostPort(DefaultAddr)
	var names []string
	if v, ok := r.envValue("ATOMS_FASTMCP_HOST"); ok {
		names = append(names, "ATOMS_FASTMCP_HOST")
		host = strings.TrimSuffix(strings.TrimPrefix(v.value, "["), "]")
	}
	if v, ok := r.envValue("ATOMS_FASTMCP_PORT"); ok {
		names = append(names, "ATOMS_FASTMCP_PORT")
		port = v.value
	}
	if len(names) > 0 && net.JoinHostPort(host, port) != addr {
		verb := "is"
		if len(names) > 1 {
			verb = "are"
		}
		r.warnings = append(r.warnings, fmt.Sprintf("%s %s ignored: %s is set and takes precedence", strings.Join(names, " and "), verb, winner.name))
	}
}

// auth is the binder of the auth provider; FASTMCP_SERVER_AUTH has its
// own vocabulary (a Python class path), so it has its own parser.
func (r *resolver) auth(s setting, c *Config) {
	c.Auth = s.def
	o, ok := r.lookup(s.flag, s.env...)
	if !ok {
		r.sources[s.key] = sourceDefault
		return
	}
	r.sources[s.key] = o.source()
	if o.value == "" {
		return
	}
	parse := parseAuth
	if o.name == "FASTMCP_SERVER_AUTH" {
		parse = parseFastMCPAuth
	}
	if v, err := parse(o.value); err != nil {
		r.fail(o, s, err)
	} else {
		c.Auth = v
	}
}

// crossCheck applies the rules that involve several settings.
func (r *resolver) crossCheck(c *Config) {
	r.embeddingsCheck(c)
	r.signinCheck(c)
	authFrom := r.sources[KeyAuth]
	switch c.Auth {
	case AuthAuthKit:
		if c.AuthKitDomain == "" {
			r.errs = append(r.errs, fmt.Errorf("auth is authkit (from %s) but no AuthKit domain is set; set ATOMCP_AUTHKIT_DOMAIN (or --authkit-domain) to e.g. https://your-app.authkit.app", authFrom))
		}
	case AuthOIDC:
		if c.OIDCIssuer == "" {
			r.errs = append(r.errs, fmt.Errorf("auth is oidc (from %s) but no issuer is set; set ATOMCP_OIDC_ISSUER (or --oidc-issuer) to the provider's issuer URL", authFrom))
		}
	case AuthStatic:
		if len(c.StaticTokens) == 0 && c.InternalToken == "" {
			r.errs = append(r.errs, fmt.Errorf("auth is static (from %s) but no token is set; set ATOMCP_STATIC_TOKENS to name:token pairs", authFrom))
		}
	}
	// A domain or issuer for a provider that is not in use is almost
	// always a forgotten ATOMCP_AUTH, and would otherwise go unnoticed
	// until a client fails to log in.
	if c.AuthKitDomain != "" && c.Auth != AuthAuthKit && !c.AuthKitSignin() {
		r.warnings = append(r.warnings, fmt.Sprintf("the AuthKit domain (from %s) is ignored because auth is %s (from %s); set ATOMCP_AUTH=authkit to use it", r.sources[KeyAuthKitDomain], c.Auth, authFrom))
	}
	if c.OIDCIssuer != "" && c.Auth != AuthOIDC {
		r.warnings = append(r.warnings, fmt.Sprintf("the OIDC issuer (from %s) is ignored because auth is %s (from %s); set ATOMCP_AUTH=oidc to use it", r.sources[KeyOIDCIssuer], c.Auth, authFrom))
	}
}

const sourceDefault = "default"

// envVar is one variable of the merged environment.
type envVar struct {
	value  string
	dotenv bool // read from the .env file
	line   int  // line in the .env file
}

// mergeEnv builds the environment that settings are read from: the process
// environment, plus the .env variables it does not have. The first
// occurrence of a name in environ wins, as with os.Getenv.
func mergeEnv(environ []string, dotenv map[string]dotenvEntry) map[string]envVar {
	env := make(map[string]envVar, len(environ)+len(dotenv))
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			continue
		}
		if _, dup := env[k]; !dup {
			env[k] = envVar{value: v}
		}
	}
	for k, e := range dotenv {
		if _, ok := env[k]; !ok {
			env[k] = envVar{value: e.value, dotenv: true, line: e.line}
		}
	}
	return env
}

// origin is where one raw value came from.
type origin struct {
	flag   string // flag name, when it came from a flag
	name   string // variable name, otherwise
	dotenv bool
	path   string // .env file
	line   int
	value  string // trimmed
}

// source is the origin as recorded in Config.Sources.
func (o origin) source() string {
	switch {
	case o.flag != "":
		return "flag --" + o.flag
	case o.dotenv:
		return ".env " + o.name
	default:
		return o.name
	}
}

// subject is the origin as named at the start of an error message.
func (o origin) subject() string {
	switch {
	case o.flag != "":
		return "--" + o.flag
	case o.dotenv:
		return fmt.Sprintf("%s:%d: %s", o.path, o.line, o.name)
	default:
		return o.name
	}
}

// resolver accumulates the results of reading settings.
type resolver struct {
	fs         *pflag.FlagSet
	env        map[string]envVar
	dotenvPath string
	sources    map[string]string
	errs       []error
	warnings   []string
}

// envValue returns the variable name from the merged environment if it is
// set to something other than spaces.
func (r *resolver) envValue(name string) (envVar, bool) {
	v, ok := r.env[name]
	if !ok || strings.TrimSpace(v.value) == "" {
		return envVar{}, false
	}
	v.value = strings.TrimSpace(v.value)
	return v, true
}

// lookup finds the raw value of a setting: the flag if it was set on the
// command line (even to ""), else the first of names that is set. When an
// environment name wins, lower-precedence names with a different value
// produce a warning, because they are usually leftovers from the Python
// server that the operator believes are in effect.
func (r *resolver) lookup(flag string, names ...string) (origin, bool) {
	if flag != "" && r.fs != nil {
		if f := r.fs.Lookup(flag); f != nil && f.Changed {
			return origin{flag: flag, value: strings.TrimSpace(f.Value.String())}, true
		}
	}
	for i, name := range names {
		v, ok := r.envValue(name)
		if !ok {
			continue
		}
		o := origin{name: name, dotenv: v.dotenv, path: r.dotenvPath, line: v.line, value: v.value}
		for _, other := range names[i+1:] {
			if w, ok := r.envValue(other); ok && w.value != v.value {
				r.warnings = append(r.warnings, fmt.Sprintf("%s is ignored: %s is set and takes precedence", other, name))
			}
		}
		if v.dotenv && strings.Contains(v.value, "${") {
			r.warnings = append(r.warnings, fmt.Sprintf("%s:%d: %s contains ${…}, which is used literally: .env values are not expanded", r.dotenvPath, v.line, name))
		}
		return o, true
	}
	return origin{}, false
}

// fail records a malformed value of setting s. Secret values are not
// shown, and values that may hold a password only as s.shown shows them.
func (r *resolver) fail(o origin, s setting, problem error) {
	switch {
	case s.bind.secret:
		r.errs = append(r.errs, fmt.Errorf("%s: %v", o.subject(), problem))
	case s.shown != nil:
		r.errs = append(r.errs, fmt.Errorf("%s=%q: %v", o.subject(), s.shown(o.value), problem))
	default:
		r.errs = append(r.errs, fmt.Errorf("%s=%q: %v", o.subject(), o.value, problem))
	}
}

// read looks setting s up, records its source and parses its value. ok is
// false when the field keeps its default: the setting is not given, is
// given as an explicitly empty flag, or is malformed (then recorded).
func read[T any](r *resolver, s setting, parse func(string) (T, error)) (v T, ok bool) {
	o, found := r.lookup(s.flag, s.env...)
	if !found {
		r.sources[s.key] = sourceDefault
		return v, false
	}
	r.sources[s.key] = o.source()
	if o.value == "" {
		return v, false
	}
	v, err := parse(o.value)
	if err != nil {
		r.fail(o, s, err)
		return v, false
	}
	return v, true
}

// unknownVarWarnings warns about ATOMCP_* variables that no setting reads:
// a typo such as ATOMCP_ADRR would otherwise be silently ignored. The
// prefix is matched case-insensitively to catch atomcp_addr too.
func unknownVarWarnings(environ []string, dotenv map[string]dotenvEntry, dotenvPath string) []string {
	known := make(map[string]bool)
	var knownList []string
	for _, s := range settings {
		for _, n := range s.env {
			if strings.HasPrefix(n, "ATOMCP_") {
				known[n] = true
				knownList = append(knownList, n)
			}
		}
	}
	sort.Strings(knownList)
	where := make(map[string]string) // unknown name -> prefix for the message
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(strings.ToUpper(k), "ATOMCP_") && !known[k] {
			where[k] = ""
		}
	}
	for k, e := range dotenv {
		if _, seen := where[k]; !seen && strings.HasPrefix(strings.ToUpper(k), "ATOMCP_") && !known[k] {
			where[k] = fmt.Sprintf("%s:%d: ", dotenvPath, e.line)
		}
	}
	names := make([]string, 0, len(where))
	for k := range where {
		names = append(names, k)
	}
	sort.Strings(names)
	var out []string
	for _, k := range names {
		out = append(out, fmt.Sprintf("%sunknown variable %s is ignored; did you mean %s?", where[k], k, closest(strings.ToUpper(k), knownList)))
	}
	return out
}

// closest returns the candidate with the smallest edit distance to s; the
// first in the list wins a tie.
func closest(s string, candidates []string) string {
	best, bestD := "", -1
	for _, c := range candidates {
		if d := editDistance(s, c); bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b (bytes: the
// names are ASCII).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
