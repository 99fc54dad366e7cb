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
		if r.Method == http.MethodPost && s.ownsForm(r.URL.Path) {
			// The server's own sign-in, consent and setup forms: not a
			// CORS matter (see formOriginAllowed).
			if origin := r.Header.Get("Origin"); origin != "" && !s.formOriginAllowed(r, origin) {
				writeJSON(w, http.StatusForbidden, map[string]string{
					"error": "form_origin_not_allowed",
					"message": "Origin " + origin + " may not post this server's sign-in, consent or setup forms; " +
						"they are posted from this server's own pages only (ATOMCP_ALLOWED_ORIGINS does not apply to them)",
				})
				return
			}
			next.ServeHTTP(w, r)
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

// FormOwner is implemented by a route handler that serves HTML pages whose
// forms post back to it and protects those POSTs itself, with a CSRF token
// and a SameSite cookie (the embedded authorization server's sign-in,
// consent and setup pages).
type FormOwner interface {
	OwnsForm(path string) bool
}

// ownsForm reports whether a route handler owns the form posted to path.
func (s *Server) ownsForm(path string) bool {
	for _, f := range s.formOwners {
		if f.OwnsForm(path) {
			return true
		}
	}
	return false
}

// formOriginAllowed decides the Origin of a POST to one of the server's
// own forms, whatever ATOMCP_ALLOWED_ORIGINS says: that list is for
// browser clients calling the API with bearer tokens, and a form of the
// server's is never posted by them. Accepted: "null", which browsers send
// for the server's own pages (their Referrer-Policy is no-referrer), and
// the server's own origin (the base URL's, or the Host the request was
// sent to, already checked by hostAllowed). Any other real origin is a
// page of another site posting the form: refused, as defence in depth,
// since the form's CSRF token and SameSite=Strict cookie already stop it.
// A page of another site can send "null" too (with its own no-referrer
// policy); then the CSRF check is what refuses it.
func (s *Server) formOriginAllowed(r *http.Request, origin string) bool {
	if origin == "null" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	if base, err := url.Parse(s.opts.BaseURL); err == nil && base.Host != "" && strings.EqualFold(base.Scheme+"://"+base.Host, origin) {
		return true
	}
	return strings.EqualFold(u.Host, r.Host)
}
