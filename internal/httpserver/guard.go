package httpserver

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/atomcp/atomcp/internal/netaddr"
)

// guard refuses requests whose Host header names a host this server does
// not answer for (DNS rebinding against a loopback server), and, when
// RequireOrigin is set, browser requests from origins that are not allowed.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.hostAllowed(r.Host) {
			writeJSON(w, http.StatusForbidden, map[string]string{
				"error": "host_not_allowed",
				"message": "Host " + r.Host + " is not served here: this server listens on loopback; " +
					"to reach it through a reverse proxy, add the public host name to ATOMCP_ALLOWED_HOSTS or set ATOMCP_BASE_URL",
			})
			return
		}
		if origin := r.Header.Get("Origin"); origin != "" && s.opts.RequireOrigin && !isPublicPath(r.URL.Path) && !s.originAllowed(r, origin) {
			writeJSON(w, http.StatusForbidden, map[string]string{
				"error":   "origin_not_allowed",
				"message": "Origin " + origin + " may not use this server; add it to ATOMCP_CORS_ORIGINS",
			})
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) hostAllowed(hostport string) bool {
	if !s.opts.ListenLoopback && len(s.opts.AllowedHosts) == 0 {
		return true
	}
	host := netaddr.HostOnly(hostport)
	if netaddr.IsLoopbackHost(host) {
		return true
	}
	if u, err := url.Parse(s.opts.BaseURL); err == nil && strings.EqualFold(u.Hostname(), host) {
		return true
	}
	for _, allowed := range s.opts.AllowedHosts {
		if strings.EqualFold(netaddr.HostOnly(allowed), host) {
			return true
		}
	}
	return false
}

// originAllowed: the server's own origin, loopback origins (when the server
// is on loopback, or when requests need a bearer token, which a page
// cannot ride: the MCP Inspector runs on a loopback origin and talks to
// remote servers), and ATOMCP_CORS_ORIGINS; any origin when RequireOrigin
// is off.
func (s *Server) originAllowed(r *http.Request, origin string) bool {
	for _, o := range s.opts.AllowedOrigins {
		if o == "*" || strings.EqualFold(strings.TrimSuffix(o, "/"), origin) {
			return true
		}
	}
	if !s.opts.RequireOrigin {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	if base, err := url.Parse(s.opts.BaseURL); err == nil && strings.EqualFold(base.Scheme+"://"+base.Host, origin) {
		return true
	}
	return (s.opts.ListenLoopback || s.opts.Auth != nil) && netaddr.IsLoopbackHost(u.Hostname())
}
