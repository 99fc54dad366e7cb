package netaddr

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// ClientAddr returns the address of the client behind r. It is the socket
// peer (r.RemoteAddr), unless that peer is a trusted proxy: then the
// forwarding chain is read from the right, past every trusted proxy, and
// the first address that is not one is the client (the rightmost
// untrusted hop: whatever lies left of it was written by the client and
// proves nothing). The chain is X-Forwarded-For, or Forwarded (RFC 7239)
// when there is no X-Forwarded-For; all lines of the header count, in
// order. A hop that is not an address (RFC 7239's "unknown", an
// obfuscated name, garbage) ends the walk at the proxy that passed it on.
//
// The result is invalid only when RemoteAddr is not an address (a test
// double, a pipe).
func ClientAddr(r *http.Request, trusted []netip.Prefix) netip.Addr {
	peer := peerAddr(r.RemoteAddr)
	if !peer.IsValid() || !inAny(peer, trusted) {
		return peer
	}
	hops := forwardedChain(r.Header)
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a := parseHop(hops[i])
		if !a.IsValid() {
			return client
		}
		client = a
		if !inAny(a, trusted) {
			return a
		}
	}
	return client
}

func peerAddr(remote string) netip.Addr {
	if ap, err := netip.ParseAddrPort(remote); err == nil {
		return ap.Addr().Unmap()
	}
	host := HostOnly(remote)
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

func inAny(a netip.Addr, ps []netip.Prefix) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// forwardedChain returns the hops of X-Forwarded-For, or of Forwarded's
// for= parameters, left (the original client) to right (the last proxy).
func forwardedChain(h http.Header) []string {
	var hops []string
	if xff := h.Values("X-Forwarded-For"); len(xff) > 0 {
		for _, line := range xff {
			for hop := range strings.SplitSeq(line, ",") {
				hops = append(hops, strings.TrimSpace(hop))
			}
		}
		return hops
	}
	for _, line := range h.Values("Forwarded") {
		for elem := range strings.SplitSeq(line, ",") {
			hop := "unknown" // an element without for= says nothing of the client
			for pair := range strings.SplitSeq(elem, ";") {
				k, v, _ := strings.Cut(strings.TrimSpace(pair), "=")
				if strings.EqualFold(k, "for") {
					hop = strings.Trim(v, `"`)
				}
			}
			hops = append(hops, hop)
		}
	}
	return hops
}

// parseHop reads one hop: an IPv4 or IPv6 address, with or without a port,
// an IPv6 one with or without brackets.
func parseHop(s string) netip.Addr {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap()
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap()
	}
	if len(s) >= 2 && s[0] == '[' && s[len(s)-1] == ']' {
		if a, err := netip.ParseAddr(s[1 : len(s)-1]); err == nil {
			return a.Unmap()
		}
	}
	return netip.Addr{}
}

type clientKey struct{}

// WithClient returns ctx carrying a client address (the HTTP server's
// first stage puts ClientAddr there, for every later stage to read with
// Client).
func WithClient(ctx context.Context, a netip.Addr) context.Context {
	return context.WithValue(ctx, clientKey{}, a)
}

// Client returns the client address of r as text, for keys and logs: the
// one WithClient stored in r's context, else the socket peer. With neither
// an address, it is r.RemoteAddr as given.
func Client(r *http.Request) string {
	a, ok := r.Context().Value(clientKey{}).(netip.Addr)
	if !ok {
		a = peerAddr(r.RemoteAddr)
	}
	if !a.IsValid() {
		if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
			return host
		}
		return r.RemoteAddr
	}
	return a.String()
}
