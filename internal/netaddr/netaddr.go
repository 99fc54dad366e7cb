// Package netaddr classifies hosts and IP addresses (loopback, private, public) once for the whole module.
package netaddr

import (
	"net"
	"net/netip"
	"strings"
)

// IsLoopbackHost reports whether host, a URL or Host-header host without
// its port, names this machine.
//
// It accepts, case-insensitively and with or without one trailing dot (the
// DNS root) and [] brackets around an IPv6 literal:
//   - "localhost" and every name under it, such as "app.localhost": RFC 6761
//     §6.3 reserves them for loopback, and browsers resolve them there
//     without asking DNS;
//   - an IP literal in 127.0.0.0/8 or ::1, also written as an IPv4-mapped
//     IPv6 address (::ffff:127.0.0.1).
//
// It does not accept a host with a port (use HostOnly first), the
// unspecified addresses 0.0.0.0 and :: (a listener on them is reachable
// from other machines), or names that merely contain "localhost".
func IsLoopbackHost(host string) bool {
	host = strings.TrimSuffix(host, ".")
	if len(host) >= 2 && host[0] == '[' && host[len(host)-1] == ']' {
		host = host[1 : len(host)-1]
	}
	if strings.EqualFold(host, "localhost") || hasSuffixFold(host, ".localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}

func hasSuffixFold(s, suffix string) bool {
	return len(s) >= len(suffix) && strings.EqualFold(s[len(s)-len(suffix):], suffix)
}

// HostOnly returns the host of a "host:port" (a Host header or a URL's
// authority) without the port and without the brackets of an IPv6 literal;
// a value without a port is returned without its brackets. It does not
// change case or trailing dots: callers compare the result themselves.
func HostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return strings.Trim(hostport, "[]")
}

// specialPrefixes are the address ranges that are not the public internet,
// beyond what netip's Is* methods recognise.
var specialPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // documentation
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and broadcast
	netip.MustParsePrefix("64:ff9b::/96"),    // NAT64: could reach any IPv4 address
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local NAT64
	netip.MustParsePrefix("100::/64"),        // discard
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("2002::/16"),       // 6to4: embeds an IPv4 address
	netip.MustParsePrefix("2001::/32"),       // Teredo: embeds an IPv4 address
}

// IsPublic reports whether a is an address on the public internet: the
// test for a fetch whose URL an outsider chose (SSRF). Loopback, private
// and unique-local, link-local (with the cloud metadata service at
// 169.254.169.254), carrier-grade NAT, multicast, broadcast, unspecified,
// documentation, benchmarking and reserved addresses are not, nor are IPv6
// forms that can carry any IPv4 address (NAT64, 6to4, Teredo); an
// IPv4-mapped IPv6 address is judged as its IPv4 address.
func IsPublic(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsValid() || a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsMulticast() || a.IsUnspecified() || a.IsInterfaceLocalMulticast() {
		return false
	}
	for _, p := range specialPrefixes {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// cgnat is the carrier-grade NAT block (RFC 6598), which netip's IsPrivate
// does not report.
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// IsPrivateOrReserved reports whether go-sdk's OAuth flow refuses a as a
// literal address in a URL (its internal/util.IsPrivateOrReserved): private
// and unique-local, link-local, carrier-grade NAT, multicast, unspecified,
// and an invalid address. Loopback is not in the set (go-sdk decides it
// separately). Code that predicts go-sdk's refusals must use this and not
// the stricter IsPublic.
func IsPrivateOrReserved(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsValid() {
		return true
	}
	return a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsMulticast() || a.IsUnspecified() || cgnat.Contains(a)
}

// privateBlocks are the blocks a company network uses for its own servers;
// they do not overlap.
var privateBlocks = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"),
	cgnat,                             // also Tailscale
	netip.MustParsePrefix("fc00::/7"), // IPv6 unique local
}

// PrivateBlock returns the private block a is in, if any: 10.0.0.0/8,
// 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10 (carrier-grade NAT, also
// Tailscale) or fc00::/7 (IPv6 unique local); an IPv4-mapped IPv6 address
// is judged as its IPv4 address. Link-local addresses are not in any block.
func PrivateBlock(a netip.Addr) (netip.Prefix, bool) {
	a = a.Unmap()
	for _, b := range privateBlocks {
		if b.Contains(a) {
			return b, true
		}
	}
	return netip.Prefix{}, false
}
