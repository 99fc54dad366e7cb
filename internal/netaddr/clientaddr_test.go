package netaddr

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientAddrTrustsOnlyListedProxies(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	for _, tc := range []struct {
		name   string
		remote string
		header map[string][]string
		want   string
	}{
		{"no proxy", "203.0.113.7:5000", nil, "203.0.113.7"},
		{"untrusted peer's header is ignored", "203.0.113.7:5000", map[string][]string{"X-Forwarded-For": {"198.51.100.1"}}, "203.0.113.7"},
		{"trusted peer", "10.1.2.3:443", map[string][]string{"X-Forwarded-For": {"198.51.100.1"}}, "198.51.100.1"},
		{"forged left part is skipped", "10.1.2.3:443", map[string][]string{"X-Forwarded-For": {"1.1.1.1, 198.51.100.1"}}, "198.51.100.1"},
		{"chain of trusted proxies", "10.1.2.3:443", map[string][]string{"X-Forwarded-For": {"198.51.100.1, 10.9.9.9"}}, "198.51.100.1"},
		{"several lines", "10.1.2.3:443", map[string][]string{"X-Forwarded-For": {"1.1.1.1", "198.51.100.1, 10.9.9.9"}}, "198.51.100.1"},
		{"all trusted", "10.1.2.3:443", map[string][]string{"X-Forwarded-For": {"10.0.0.9, 10.9.9.9"}}, "10.0.0.9"},
		{"garbage ends the walk", "10.1.2.3:443", map[string][]string{"X-Forwarded-For": {"1.1.1.1, nonsense, 10.9.9.9"}}, "10.9.9.9"},
		{"empty header", "10.1.2.3:443", map[string][]string{"X-Forwarded-For": {""}}, "10.1.2.3"},
		{"no header", "10.1.2.3:443", nil, "10.1.2.3"},
		{"with port", "10.1.2.3:443", map[string][]string{"X-Forwarded-For": {"198.51.100.1:4711"}}, "198.51.100.1"},
		{"ipv6 peer", "[::1]:443", map[string][]string{"X-Forwarded-For": {"2001:db8::5"}}, "2001:db8::5"},
		{"mapped ipv4", "[::ffff:10.1.2.3]:443", map[string][]string{"X-Forwarded-For": {"::ffff:198.51.100.1"}}, "198.51.100.1"},
		{"forwarded", "10.1.2.3:443", map[string][]string{"Forwarded": {`for=1.1.1.1, for="[2001:db8::7]:4711";proto=https`}}, "2001:db8::7"},
		{"forwarded unknown", "10.1.2.3:443", map[string][]string{"Forwarded": {`for=1.1.1.1, for=unknown`}}, "10.1.2.3"},
		{"forwarded without for", "10.1.2.3:443", map[string][]string{"Forwarded": {`proto=https`}}, "10.1.2.3"},
		{"x-forwarded-for wins over forwarded", "10.1.2.3:443", map[string][]string{"Forwarded": {"for=1.1.1.1"}, "X-Forwarded-For": {"198.51.100.1"}}, "198.51.100.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = tc.remote
			for k, vs := range tc.header {
				for _, v := range vs {
					r.Header.Add(k, v)
				}
			}
			if got := ClientAddr(r, trusted).String(); got != tc.want {
				t.Errorf("ClientAddr = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestClientReadsTheContextThenThePeer(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "192.0.2.1:1234"
	r.Header.Set("X-Forwarded-For", "198.51.100.1")
	if got := Client(r); got != "192.0.2.1" {
		t.Errorf("Client without context = %s", got)
	}
	r = r.WithContext(WithClient(context.Background(), netip.MustParseAddr("198.51.100.1")))
	if got := Client(r); got != "198.51.100.1" {
		t.Errorf("Client with context = %s", got)
	}
	r.RemoteAddr = "pipe"
	r = r.WithContext(context.Background())
	if got := Client(r); got != "pipe" {
		t.Errorf("Client of a pipe = %s", got)
	}
}

func FuzzClientAddr(f *testing.F) {
	f.Add("10.1.2.3:443", "1.1.1.1, 198.51.100.1", `for="[2001:db8::7]:4711"`)
	f.Add("[::1]:1", "", "for=unknown;proto=http, for=_x")
	f.Add("garbage", "[::1", `for="`)
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	f.Fuzz(func(t *testing.T, remote, xff, fwd string) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = remote
		if xff != "" {
			r.Header.Set("X-Forwarded-For", xff)
		}
		r.Header.Set("Forwarded", fwd)
		a := ClientAddr(r, trusted)
		peer := peerAddr(remote)
		if !inAny(peer, trusted) && a != peer {
			t.Fatalf("untrusted peer %v gave client %v", peer, a)
		}
	})
}
