package auth

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"

	"github.com/atomcp/atomcp/internal/netaddr"
)

// PublicURL decides the public URL of this server for a request: the
// configured base URL when there is one, otherwise the scheme and host the
// client connected to, which is trusted only for loopback hosts and the
// operator's ATOMCP_ALLOWED_HOSTS. Clients compare the protected-resource
// document's "resource" with the URL they used byte for byte, so deriving
// it from the request is what lets http://localhost:8000/api/mcp and
// http://127.0.0.1:8000/api/mcp both work without configuration.
type PublicURL struct {
	// BaseURL is the configured public base URL without a trailing slash,
	// or "" when none was configured.
	BaseURL string
	// MCPPath is the path of the MCP endpoint, such as "/api/mcp".
	MCPPath string
	// TrustedProxies are the peer addresses whose X-Forwarded-Proto and
	// X-Forwarded-Host headers are believed.
	TrustedProxies []netip.Prefix
	// AllowedHosts are public host names (host or host:port) that may be
	// derived from a request when no base URL is configured.
	AllowedHosts []string
	Logger       *slog.Logger

	warnOnce sync.Once
}

// ErrNoBaseURL is the refusal of a request whose public URL cannot be
// known: a host that is neither loopback nor allowed, and no base URL.
var ErrNoBaseURL = errors.New("no public base URL")

// Base returns the public base URL for r (scheme://host[:port][/path]).
func (p *PublicURL) Base(r *http.Request) (string, error) {
	scheme := p.requestScheme(r)
	if p.BaseURL != "" {
		// A document must never send a client that arrived over https to
		// an http URL: a TLS proxy in front of a server configured with an
		// http base URL would otherwise produce exactly the redirect
		// loops and mixed-content failures the old server suffered.
		if scheme == "https" && strings.HasPrefix(p.BaseURL, "http://") {
			p.warnOnce.Do(func() {
				if p.Logger != nil {
					p.Logger.Warn("ATOMCP_BASE_URL is http:// but requests arrive over https; advertising https. Set ATOMCP_BASE_URL to the https URL", "base_url", p.BaseURL)
				}
			})
			return "https://" + strings.TrimPrefix(p.BaseURL, "http://"), nil
		}
		return p.BaseURL, nil
	}
	host := r.Host
	if p.fromTrustedProxy(r) {
		if fh := lastValue(r.Header.Get("X-Forwarded-Host")); fh != "" {
			host = fh
		}
	}
	u, err := url.Parse(scheme + "://" + host)
	if err != nil || u.Host != host || u.Path != "" || u.User != nil || host == "" {
		return "", fmt.Errorf("%w: the Host header %q is not a host name", ErrNoBaseURL, host)
	}
	if !netaddr.IsLoopbackHost(u.Hostname()) && !p.hostAllowed(host) {
		return "", fmt.Errorf("%w: requests for host %q cannot be answered without a configured public URL; set ATOMCP_BASE_URL to the URL clients use (for example https://%s)", ErrNoBaseURL, host, host)
	}
	// The host is kept as the client sent it: clients compare "resource"
	// with the URL they used byte for byte.
	return scheme + "://" + host, nil
}

// Resource returns the canonical URL of the MCP endpoint for r, the
// "resource" of RFC 8707 and RFC 9728.
func (p *PublicURL) Resource(r *http.Request) (string, error) {
	base, err := p.Base(r)
	if err != nil {
		return "", err
	}
	return base + p.MCPPath, nil
}

// MetadataURL returns the URL of the protected-resource document for r:
// the well-known path with the resource's path inserted (RFC 9728 section
// 3.1), which is what 401 challenges point to.
func (p *PublicURL) MetadataURL(r *http.Request) (string, error) {
	base, err := p.Base(r)
	if err != nil {
		return "", err
	}
	u, _ := url.Parse(base) // Base returns only parsable URLs
	return u.Scheme + "://" + u.Host + "/.well-known/oauth-protected-resource" + strings.TrimSuffix(u.Path, "/") + p.MCPPath, nil
}

// Origin returns scheme://host of the public URL for r.
func (p *PublicURL) Origin(r *http.Request) (string, error) {
	base, err := p.Base(r)
	if err != nil {
		return "", err
	}
	u, _ := url.Parse(base)
	return u.Scheme + "://" + u.Host, nil
}

// requestScheme is https when the connection is TLS or a trusted proxy
// says the client's was.
func (p *PublicURL) requestScheme(r *http.Request) string {
	if p.fromTrustedProxy(r) {
		switch strings.ToLower(lastValue(r.Header.Get("X-Forwarded-Proto"))) {
		case "https":
			return "https"
		case "http":
			return "http"
		}
	}
	if r.TLS != nil {
		return "https"
	}
	return "http"
}

func (p *PublicURL) fromTrustedProxy(r *http.Request) bool {
	if len(p.TrustedProxies) == 0 {
		return false
	}
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	addr := ap.Addr().Unmap()
	for _, pr := range p.TrustedProxies {
		if pr.Contains(addr) {
			return true
		}
	}
	return false
}

func (p *PublicURL) hostAllowed(host string) bool {
	h := strings.ToLower(host)
	name := netaddr.HostOnly(h)
	for _, a := range p.AllowedHosts {
		a = strings.ToLower(a)
		if a == h || a == name {
			return true
		}
	}
	return false
}

// Audience returns the audience check for tokens presented with r: the
// resource URL for r, and, when that is a loopback URL derived from the
// request, the same endpoint under any other loopback name (a token issued
// for http://localhost:8000/api/mcp is good at http://127.0.0.1:8000/api/mcp:
// both are this server).
func (p *PublicURL) Audience() Audience { return resourceAudience{p} }

// Audience decides which "aud" values a token presented with a request may
// carry.
type Audience interface {
	Accepts(r *http.Request, aud string) bool
	// Expected names the accepted audience for messages.
	Expected(r *http.Request) string
}

type resourceAudience struct{ p *PublicURL }

func (a resourceAudience) Expected(r *http.Request) string {
	res, err := a.p.Resource(r)
	if err != nil {
		return "(unknown: " + err.Error() + ")"
	}
	return res
}

func (a resourceAudience) Accepts(r *http.Request, aud string) bool {
	res, err := a.p.Resource(r)
	if err != nil {
		return false
	}
	got, want := canonicalURL(aud), canonicalURL(res)
	if got == "" || want == "" {
		return false
	}
	if got == want {
		return true
	}
	if a.p.BaseURL != "" {
		// The configured URL is accepted too when https was advertised
		// in its place (see Base).
		return got == canonicalURL(a.p.BaseURL+a.p.MCPPath)
	}
	return sameLoopbackEndpoint(got, want)
}

// exactAudience accepts one configured audience (ATOMCP_AUTH_AUDIENCE).
type exactAudience string

func (a exactAudience) Expected(*http.Request) string { return string(a) }

func (a exactAudience) Accepts(_ *http.Request, aud string) bool {
	if aud == string(a) {
		return true
	}
	c := canonicalURL(aud)
	return c != "" && c == canonicalURL(string(a))
}

// canonicalURL lower-cases scheme and host, drops a default port and one
// trailing slash: the spellings RFC 8707 clients are known to vary. It
// returns "" for anything that is not an absolute http(s) URL.
func canonicalURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "HTTP" && u.Scheme != "HTTPS") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return ""
	}
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Host)
	if port := u.Port(); (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		host = strings.TrimSuffix(host, ":"+port)
	}
	return scheme + "://" + host + strings.TrimSuffix(u.EscapedPath(), "/")
}

// sameLoopbackEndpoint reports whether two canonical URLs are the same
// scheme, port and path on loopback hosts.
func sameLoopbackEndpoint(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	if err1 != nil || err2 != nil {
		return false
	}
	return ua.Scheme == ub.Scheme && netaddr.IsLoopbackHost(ua.Hostname()) && netaddr.IsLoopbackHost(ub.Hostname()) &&
		effectivePort(ua) == effectivePort(ub) && ua.EscapedPath() == ub.EscapedPath()
}

func effectivePort(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if u.Scheme == "https" {
		return "443"
	}
	return "80"
}

// lastValue returns the last of a comma-separated header value: the one
// added by the trusted proxy that is our direct peer. Earlier values came
// from hops (or clients) that nobody vouches for.
func lastValue(v string) string {
	if i := strings.LastIndexByte(v, ','); i >= 0 {
		v = v[i+1:]
	}
	return strings.TrimSpace(v)
}
