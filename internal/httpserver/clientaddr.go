package httpserver

import (
	"net/http"

	"github.com/atomcp/atomcp/internal/netaddr"
)

// clientAddr is the first stage: it finds the client's address once
// (through the proxies in Options.TrustedProxies, netaddr.ClientAddr) and
// puts it in the request context, where the request log, the embedded
// authorization server's rate limits and the tool-call limits read it
// with netaddr.Client.
func (s *Server) clientAddr(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a := netaddr.ClientAddr(r, s.opts.TrustedProxies); a.IsValid() {
			r = r.WithContext(netaddr.WithClient(r.Context(), a))
		}
		next.ServeHTTP(w, r)
	})
}
