package httpserver

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/atomcp/atomcp/internal/netaddr"
)

// TestClientAddressSeesThroughTrustedProxiesOnly: routes and the request
// log see the forwarded client behind a trusted proxy, and the socket peer
// otherwise, however the forwarding header is forged.
func TestClientAddressSeesThroughTrustedProxiesOnly(t *testing.T) {
	var logs bytes.Buffer
	var seen string
	s := newTestServer(Options{
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
		Logger:         slog.New(slog.NewTextHandler(&logs, nil)),
		Routes: map[string]http.Handler{"GET /who": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			seen = netaddr.Client(r)
		})},
	})
	for _, tc := range []struct{ remote, xff, want string }{
		{"10.0.0.1:1234", "198.51.100.9, 10.0.0.2", "198.51.100.9"},
		{"203.0.113.5:1234", "198.51.100.9", "203.0.113.5"},
		{"10.0.0.1:1234", "", "10.0.0.1"},
	} {
		logs.Reset()
		r := httptest.NewRequest(http.MethodGet, "/who", nil)
		r.RemoteAddr = tc.remote
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		s.ServeHTTP(httptest.NewRecorder(), r)
		if seen != tc.want {
			t.Errorf("peer %s, X-Forwarded-For %q: route saw %s, want %s", tc.remote, tc.xff, seen, tc.want)
		}
		if !strings.Contains(logs.String(), "remote="+tc.want) {
			t.Errorf("request log %q lacks remote=%s", logs.String(), tc.want)
		}
	}
}
