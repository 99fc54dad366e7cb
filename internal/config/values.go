package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/atomcp/atomcp/internal/netaddr"
)

// The parsers below turn one trimmed, non-empty raw value into a typed one.
// Their errors say what is wrong and what is accepted; the caller prefixes
// the variable (or flag, or .env line) and the value.

const acceptedAddr = "accepted: host:port such as 127.0.0.1:8000, 0.0.0.0:8000 or :8000"

func parseAddr(s string) (string, error) {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return "", errors.New("not a host:port address; " + acceptedAddr)
	}
	if host != "" && !validHost(host) {
		return "", errors.New("not a valid host; " + acceptedAddr)
	}
	p, err := parsePort(port)
	if err != nil {
		return "", errors.New("not a valid port; " + acceptedAddr)
	}
	return net.JoinHostPort(host, p), nil
}

// parsePort accepts a decimal port number and returns it canonically.
func parsePort(s string) (string, error) {
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil {
		return "", errors.New("not a port number; accepted: an integer 0-65535")
	}
	return strconv.FormatUint(n, 10), nil
}

// parseHost accepts a host name or an IP address (IPv6 with or without
// brackets), as the old ATOMS_FASTMCP_HOST did.
func parseHost(s string) (string, error) {
	h := strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	if !validHost(h) {
		return "", errors.New("not a host name or IP address; accepted: a host name or IP address such as 127.0.0.1, 0.0.0.0 or localhost")
	}
	return h, nil
}

// validHost reports whether h is an IP address (without brackets) or a
// syntactically valid DNS name.
func validHost(h string) bool {
	if _, err := netip.ParseAddr(h); err == nil {
		return true
	}
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(h, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}

// isUnspecifiedHost reports whether a listen host means "every interface".
func isUnspecifiedHost(h string) bool {
	if h == "" {
		return true
	}
	a, err := netip.ParseAddr(h)
	return err == nil && a.IsUnspecified()
}

const acceptedBaseURL = "accepted: an absolute http or https URL such as https://mcp.example.com, without query or fragment"

func parseBaseURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", errors.New("not an absolute http(s) URL; " + acceptedBaseURL)
	}
	if u.User != nil {
		return "", errors.New("must not contain a user name or password; " + acceptedBaseURL)
	}
	if u.RawQuery != "" || u.ForceQuery || strings.Contains(s, "#") {
		return "", errors.New("must not have a query or fragment; " + acceptedBaseURL)
	}
	// Only one slash is removed: the value is otherwise kept as given so
	// that what the server advertises is what the operator wrote.
	return strings.TrimSuffix(s, "/"), nil
}

const acceptedMCPPath = "accepted: a URL path starting with / such as /api/mcp"

func parseMCPPath(s string) (string, error) {
	if !strings.HasPrefix(s, "/") {
		return "", errors.New("must start with /; " + acceptedMCPPath)
	}
	if strings.ContainsAny(s, "?#") {
		return "", errors.New("must not contain ? or #; " + acceptedMCPPath)
	}
	if strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return "", errors.New("must not contain spaces or control characters; " + acceptedMCPPath)
	}
	// "/api/mcp/" and "/api/mcp" must be the same endpoint: clients are
	// given the URL without the slash, and a mismatch means a redirect
	// that some clients refuse to follow for POST.
	for len(s) > 1 && strings.HasSuffix(s, "/") {
		s = strings.TrimSuffix(s, "/")
	}
	return s, nil
}

const acceptedDatabaseURL = "accepted: sqlite://relative/path.db, sqlite:///absolute/path.db, postgres://… or postgresql://…"

// parseDatabaseURL checks the scheme only: the store that opens the
// database reports anything else, with its own context.
func parseDatabaseURL(s string) (string, error) {
	switch {
	case strings.HasPrefix(s, "sqlite://"):
		if strings.TrimPrefix(s, "sqlite://") == "" {
			return "", errors.New("no file path after sqlite://; " + acceptedDatabaseURL)
		}
	case strings.HasPrefix(s, "postgres://"), strings.HasPrefix(s, "postgresql://"):
	default:
		return "", errors.New("unsupported database URL; " + acceptedDatabaseURL)
	}
	return s, nil
}

// shownDatabaseURL is how a database URL appears in errors: only its
// scheme, because a PostgreSQL URL or DSN may contain a password and an
// unparseable value cannot be redacted reliably.
func shownDatabaseURL(s string) string {
	if i := strings.Index(s, "://"); i >= 0 {
		return s[:i+3] + "…"
	}
	return "[not shown]"
}

// redactDatabaseURL is how a valid database URL appears in logs: with any
// password in the user info or the query replaced.
func redactDatabaseURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return shownDatabaseURL(s)
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// Auth providers.
const (
	AuthNone     = "none"     // no authentication; every request acts as the local user
	AuthEmbedded = "embedded" // atomcp's own authorization server
	AuthAuthKit  = "authkit"  // WorkOS AuthKit as the authorization server
	AuthOIDC     = "oidc"     // any OpenID Connect provider
	AuthStatic   = "static"   // static bearer tokens only (ATOMCP_STATIC_TOKENS)
)

const acceptedAuth = "accepted: none, embedded, authkit, oidc, static"

func parseAuth(s string) (string, error) {
	switch v := strings.ToLower(s); v {
	case AuthNone, AuthEmbedded, AuthAuthKit, AuthOIDC, AuthStatic:
		return v, nil
	}
	return "", errors.New("unknown auth provider; " + acceptedAuth)
}

// fastMCPAuthKit is the FastMCP provider class that the Python server's
// FASTMCP_SERVER_AUTH named for AuthKit.
const fastMCPAuthKit = "fastmcp.server.auth.providers.workos.AuthKitProvider"

// parseFastMCPAuth maps the Python server's FASTMCP_SERVER_AUTH. Only
// AuthKit was used with it; any other provider class has no equivalent
// here, and guessing would mean running with different auth than intended.
func parseFastMCPAuth(s string) (string, error) {
	if strings.EqualFold(s, fastMCPAuthKit) || strings.EqualFold(s, "AUTHKIT") {
		return AuthAuthKit, nil
	}
	return "", fmt.Errorf("unsupported FastMCP auth provider; accepted: %s or AUTHKIT (for other providers set ATOMCP_AUTH: none, embedded, authkit, oidc, static)", fastMCPAuthKit)
}

const acceptedAuthKitDomain = "accepted: an https URL such as https://your-app.authkit.app, or just its host name"

// parseAuthKitDomain normalizes the AuthKit domain to scheme://host. The
// Python server's users often wrote the bare host or added a slash, and a
// wrong value here shows up much later as a 404 from the identity
// provider, so it is checked strictly now.
func parseAuthKitDomain(s string) (string, error) {
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "", errors.New("not a URL or host name; " + acceptedAuthKitDomain)
	}
	if u.Scheme == "http" && !netaddr.IsLoopbackHost(u.Hostname()) {
		return "", errors.New("must use https (http only for localhost); " + acceptedAuthKitDomain)
	}
	if u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || (u.Path != "" && u.Path != "/") {
		return "", errors.New("must be the domain alone, without path, query or fragment; " + acceptedAuthKitDomain)
	}
	return u.Scheme + "://" + u.Host, nil
}

const acceptedIssuer = "accepted: an https URL such as https://accounts.example.com, without query or fragment"

// parseIssuer checks an OIDC issuer. It is kept exactly as given, trailing
// slash included, because tokens are matched against it byte for byte.
func parseIssuer(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "", errors.New("not an absolute https URL; " + acceptedIssuer)
	}
	if u.Scheme == "http" && !netaddr.IsLoopbackHost(u.Hostname()) {
		return "", errors.New("must use https (http only for localhost); " + acceptedIssuer)
	}
	if u.User != nil || u.RawQuery != "" || u.ForceQuery || strings.Contains(s, "#") {
		return "", errors.New("must not have user info, query or fragment; " + acceptedIssuer)
	}
	return s, nil
}

func parseString(s string) (string, error) { return s, nil }

const acceptedScopes = `accepted: a JSON list such as ["openid","profile"], or scope names separated by commas or spaces`

// parseScopes accepts the three spellings the Python server's users have
// in their .env files. Duplicates are dropped, the order is kept.
func parseScopes(s string) ([]string, error) {
	var list []string
	if strings.HasPrefix(s, "[") {
		if err := json.Unmarshal([]byte(s), &list); err != nil {
			return nil, errors.New("not a JSON list of strings; " + acceptedScopes)
		}
	} else {
		list = strings.FieldsFunc(s, func(r rune) bool { return r == ',' || unicode.IsSpace(r) })
	}
	var out []string
	seen := make(map[string]bool)
	for _, sc := range list {
		sc = strings.TrimSpace(sc)
		if sc == "" || seen[sc] {
			continue
		}
		if !validScope(sc) {
			return nil, fmt.Errorf("%q is not a valid scope name; %s", sc, acceptedScopes)
		}
		seen[sc] = true
		out = append(out, sc)
	}
	return out, nil
}

func parseScope(s string) (string, error) {
	if !validScope(s) {
		return "", errors.New("not a valid scope name; accepted: one scope name such as atoms:read (printable ASCII, no spaces, quotes or backslashes)")
	}
	return s, nil
}

// validScope implements the scope-token grammar of RFC 6749 section 3.3.
func validScope(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// parseToken accepts a bearer token. Spaces would make it impossible to
// send in an Authorization header, so they are a configuration mistake.
func parseToken(s string) (Secret, error) {
	if !validToken(s) {
		return "", errors.New("contains spaces or control characters; accepted: a token without spaces")
	}
	return Secret(s), nil
}

func validToken(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) < 0
}

const acceptedStaticTokens = "accepted: name:token pairs separated by commas, names of letters, digits, . _ - @"

// parseStaticTokens parses "name:token,name2:token2". The token is what
// follows the first colon, so tokens may contain colons. Errors name
// entries by position only: the text of a malformed entry may be a token.
func parseStaticTokens(s string) (map[string]Secret, error) {
	out := make(map[string]Secret)
	entryOf := make(map[string]int) // token -> entry number, to find duplicates
	for i, entry := range strings.Split(s, ",") {
		n := i + 1
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue // "a:x," — a trailing comma is harmless
		}
		name, tok, ok := strings.Cut(entry, ":")
		name, tok = strings.TrimSpace(name), strings.TrimSpace(tok)
		if !ok || name == "" || tok == "" {
			return nil, fmt.Errorf("entry %d is not name:token; %s", n, acceptedStaticTokens)
		}
		if !validTokenName(name) {
			return nil, fmt.Errorf("entry %d has an invalid name; %s", n, acceptedStaticTokens)
		}
		if !validToken(tok) {
			return nil, fmt.Errorf("entry %d has a token with spaces or control characters; %s", n, acceptedStaticTokens)
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("entry %d repeats the name %q; %s, each name once", n, name, acceptedStaticTokens)
		}
		if m, dup := entryOf[tok]; dup {
			return nil, fmt.Errorf("entries %d and %d have the same token; %s, each token once", m, n, acceptedStaticTokens)
		}
		out[name] = Secret(tok)
		entryOf[tok] = n
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

func validTokenName(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-' || r == '@') {
			return false
		}
	}
	return s != ""
}

func parseLogLevel(s string) (slog.Level, error) {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug, nil
	case "info":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, errors.New("unknown log level; accepted: debug, info, warn, error")
}

// levelName is the lower-case spelling of a level as accepted on input.
func levelName(l slog.Level) string { return strings.ToLower(l.String()) }

// Log formats.
const (
	LogFormatAuto = "auto" // json when stderr is not a terminal, else text
	LogFormatJSON = "json"
	LogFormatText = "text"
)

func parseLogFormat(s string) (string, error) {
	switch v := strings.ToLower(s); v {
	case LogFormatAuto, LogFormatJSON, LogFormatText:
		return v, nil
	}
	return "", errors.New("unknown log format; accepted: auto, json, text")
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "true", "1", "yes", "on":
		return true, nil
	case "false", "0", "no", "off":
		return false, nil
	}
	return false, errors.New("not a boolean; accepted: true, false, 1, 0, yes, no, on, off")
}

const acceptedSize = "accepted: a positive number of bytes, optionally with KB (1000), MB (1000000), KiB (1024) or MiB (1048576), such as 8MiB"

// parseSize parses a byte count such as "4194304", "8MiB" or "512 KB".
func parseSize(s string) (int64, error) {
	i := strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' })
	digits, unit := s, ""
	if i >= 0 {
		digits, unit = s[:i], strings.TrimSpace(s[i:])
	}
	var mult int64
	switch strings.ToLower(unit) {
	case "":
		mult = 1
	case "kb":
		mult = 1000
	case "kib":
		mult = 1 << 10
	case "mb":
		mult = 1000 * 1000
	case "mib":
		mult = 1 << 20
	default:
		return 0, errors.New("not a size; " + acceptedSize)
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || n <= 0 {
		return 0, errors.New("not a positive size; " + acceptedSize)
	}
	if n > math.MaxInt64/mult {
		return 0, errors.New("too large; " + acceptedSize)
	}
	return n * mult, nil
}

// parseCount parses a whole number, 0 or more.
func parseCount(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, errors.New("not a whole number; accepted: 0 or more, such as 8")
	}
	return n, nil
}

// parseGCPercent parses gc_percent: a whole number greater than 0 (Go's
// GOGC=off is not offered: without a memory limit the heap would grow
// without bound).
func parseGCPercent(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 10000 {
		return 0, errors.New("not a percentage; accepted: a whole number from 1 to 10000, such as 100 (Go's default) or 50")
	}
	return n, nil
}

// parseRate parses a number per second, 0 or more, fractions allowed.
func parseRate(s string) (float64, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, errors.New("not a rate; accepted: a number per second, 0 or more, such as 10 or 0.5")
	}
	return f, nil
}

// durationParser returns a parser for a non-negative Go duration; what
// says what zero means, for the error message.
func durationParser(zero string) func(string) (time.Duration, error) {
	accepted := "accepted: a Go duration such as 30s, 5m or 1h30m" + zero
	return func(s string) (time.Duration, error) {
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, errors.New("not a duration; " + accepted)
		}
		if d < 0 {
			return 0, errors.New("must not be negative; " + accepted)
		}
		return d, nil
	}
}

const acceptedHosts = "accepted: host names such as mcp.example.com or mcp.example.com:443, separated by commas"

// parseHosts parses ATOMCP_ALLOWED_HOSTS. Names are lower-cased because
// Host headers are compared case-insensitively; wildcards are not accepted
// because the host guard matches exact names.
func parseHosts(s string) ([]string, error) {
	var out []string
	seen := make(map[string]bool)
	for _, h := range strings.Split(s, ",") {
		h = strings.ToLower(strings.TrimSpace(h))
		if h == "" || seen[h] {
			continue
		}
		if !validHostEntry(h) {
			return nil, fmt.Errorf("%q is not a host name; %s", h, acceptedHosts)
		}
		seen[h] = true
		out = append(out, h)
	}
	return out, nil
}

// validHostEntry accepts what can appear in a Host header: a name or IPv4
// address, a bracketed IPv6 address, each optionally with a port.
func validHostEntry(h string) bool {
	host := h
	if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
		host = h[1 : len(h)-1]
		a, err := netip.ParseAddr(host)
		return err == nil && a.Is6()
	}
	if strings.Contains(h, ":") {
		hh, port, err := net.SplitHostPort(h)
		if err != nil {
			return false
		}
		if _, err := parsePort(port); err != nil {
			return false
		}
		if strings.HasPrefix(h, "[") {
			a, err := netip.ParseAddr(hh)
			return err == nil && a.Is6()
		}
		host = hh
	}
	if strings.Contains(host, ":") {
		return false // an IPv6 address must be bracketed
	}
	return validHost(host)
}

const acceptedOrigins = "accepted: origins such as https://claude.ai or http://localhost:6274, separated by commas, or * alone"

// parseOrigins parses ATOMCP_ALLOWED_ORIGINS into the form browsers send
// in the Origin header: lower-case scheme and host, no trailing slash, no
// default port. Writing "https://claude.ai/" is a common slip and would
// otherwise never match.
func parseOrigins(s string) ([]string, error) {
	var out []string
	seen := make(map[string]bool)
	star := false
	for _, o := range strings.Split(s, ",") {
		o = strings.TrimSpace(o)
		if o == "" {
			continue
		}
		if o == "*" {
			star = true
			continue
		}
		norm, ok := normalizeOrigin(o)
		if !ok {
			return nil, fmt.Errorf("%q is not an origin; %s", o, acceptedOrigins)
		}
		if !seen[norm] {
			seen[norm] = true
			out = append(out, norm)
		}
	}
	if star {
		if len(out) > 0 {
			return nil, errors.New("* must be used alone; " + acceptedOrigins)
		}
		return []string{"*"}, nil
	}
	return out, nil
}

func normalizeOrigin(o string) (string, bool) {
	u, err := url.Parse(o)
	if err != nil || u.Scheme == "" || u.Host == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.ForceQuery || strings.Contains(o, "#") {
		return "", false
	}
	host := strings.ToLower(u.Host)
	if p := u.Port(); (u.Scheme == "https" && p == "443") || (u.Scheme == "http" && p == "80") {
		host = strings.ToLower(u.Hostname())
		if strings.Contains(host, ":") {
			host = "[" + host + "]"
		}
	}
	return u.Scheme + "://" + host, true
}

// signingAlgorithms are the JWT algorithms that may be configured. HMAC
// (HS256…) is not among them: verifying with a public key as the HMAC
// secret lets anyone forge tokens; "none" is no signature at all.
var signingAlgorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

const acceptedAlgorithms = "accepted: RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA, separated by commas"

// parseAlgorithms parses ATOMCP_AUTH_ALGORITHMS. Names are matched
// case-insensitively and written as JWT spells them.
func parseAlgorithms(s string) ([]string, error) {
	var out []string
	for _, a := range strings.Split(s, ",") {
		a = strings.TrimSpace(a)
		if a == "" {
			continue
		}
		found := ""
		for _, known := range signingAlgorithms {
			if strings.EqualFold(a, known) {
				found = known
			}
		}
		if found == "" {
			return nil, fmt.Errorf("%q is not an accepted signing algorithm (HMAC and none never are); %s", a, acceptedAlgorithms)
		}
		if !slices.Contains(out, found) {
			out = append(out, found)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no algorithm; " + acceptedAlgorithms)
	}
	return out, nil
}

const acceptedProxies = "accepted: IP addresses or CIDR ranges such as 127.0.0.1, 10.0.0.0/8 or ::1, separated by commas"

// parseProxies parses ATOMCP_TRUSTED_PROXIES into prefixes; a bare
// address is a single-address prefix.
func parseProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, e := range strings.Split(s, ",") {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		var p netip.Prefix
		if strings.Contains(e, "/") {
			var err error
			if p, err = netip.ParsePrefix(e); err != nil {
				return nil, fmt.Errorf("%q is not a CIDR range; %s", e, acceptedProxies)
			}
			p = p.Masked()
		} else {
			a, err := netip.ParseAddr(strings.Trim(e, "[]"))
			if err != nil {
				return nil, fmt.Errorf("%q is not an IP address; %s", e, acceptedProxies)
			}
			a = a.Unmap()
			p = netip.PrefixFrom(a, a.BitLen())
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out, nil
}
