package httpserver

import (
	"net/http"
	"strings"
)

// Headers a browser-based MCP client sends and must be allowed to send.
// MCP-Protocol-Version missing from this list is what broke browser clients
// of the old Python server.
// Mcp-Method and Mcp-Name are the routing headers of the 2026-07-28
// revision.
var corsAllowHeaders = []string{"Authorization", "Content-Type", "Accept", "Mcp-Session-Id", "MCP-Protocol-Version", "Mcp-Method", "Mcp-Name", "Last-Event-ID"}

// Headers a browser-based client must be able to read.
var corsExposeHeaders = "Mcp-Session-Id, MCP-Protocol-Version, WWW-Authenticate"

// cors answers preflights here, before any guard, authentication or
// redirect can touch them, and adds the CORS headers to every response.
// Requests carry bearer tokens, not cookies, so credentials are never
// allowed and no cookie can be ridden. The discovery documents under
// /.well-known/ are public and allow any origin (RFC 9728 section 3.1);
// the other routes allow the origins originAllowed accepts.
//
// The pages of a FormOwner (the sign-in, consent and account pages) get
// no CORS headers and no preflight answer: they are reached with the
// server's session cookie, and no other origin may read or call them.
func (s *Server) cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.ownsForm(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		origin := r.Header.Get("Origin")
		h := w.Header()
		if origin != "" {
			switch {
			case isPublicPath(r.URL.Path):
				h.Set("Access-Control-Allow-Origin", "*")
			case s.originAllowed(r, origin):
				h.Set("Access-Control-Allow-Origin", origin)
				h.Add("Vary", "Origin")
			default:
				h.Add("Vary", "Origin")
			}
			h.Set("Access-Control-Expose-Headers", corsExposeHeaders)
		}
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Set("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS")
			h.Set("Access-Control-Allow-Headers", allowHeaders(r.Header.Get("Access-Control-Request-Headers")))
			h.Set("Access-Control-Max-Age", "86400")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// allowHeaders allows the standard MCP headers plus whatever else the
// preflight asks for: with no cookies involved, refusing a custom header
// only breaks clients.
func allowHeaders(requested string) string {
	out := append([]string(nil), corsAllowHeaders...)
	for _, h := range strings.Split(requested, ",") {
		h = strings.TrimSpace(h)
		if h == "" {
			continue
		}
		dup := false
		for _, have := range out {
			if strings.EqualFold(have, h) {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, h)
		}
	}
	return strings.Join(out, ", ")
}

// isPublicPath reports whether a path serves public discovery documents.
func isPublicPath(path string) bool { return strings.HasPrefix(path, "/.well-known/") }
