package netaddr

import (
	"net/netip"
	"testing"
)

func TestIsLoopbackHost(t *testing.T) {
	tests := []struct {
		host string
		want bool
	}{
		{"localhost", true},
		{"LOCALHOST", true},
		{"LocalHost", true},
		{"localhost.", true},
		{"app.localhost", true},
		{"App.LocalHost", true},
		{"app.localhost.", true},
		{"a.b.localhost", true},
		{"127.0.0.1", true},
		{"127.1.2.3", true},
		{"127.255.255.254", true},
		{"127.0.0.1.", true},
		{"::1", true},
		{"[::1]", true},
		{"0:0:0:0:0:0:0:1", true},
		{"::ffff:127.0.0.1", true},
		{"[::ffff:127.0.0.1]", true},
		{"::1%lo", true},

		{"", false},
		{".", false},
		{"[]", false},
		{"localhost..", false},
		{"localhostx", false},
		{"notlocalhost", false},
		{"localhost.example.com", false},
		{"app.localhost.example.com", false},
		{"0.0.0.0", false},
		{"::", false},
		{"[::]", false},
		{"128.0.0.1", false},
		{"10.0.0.1", false},
		{"169.254.169.254", false},
		{"::2", false},
		{"::ffff:10.0.0.1", false},
		{"8.8.8.8", false},
		{"example.com", false},
		// A host with a port is not a host: callers strip the port first
		// (HostOnly, url.URL.Hostname).
		{"localhost:8000", false},
		{"127.0.0.1:8000", false},
		{"[::1]:8000", false},
	}
	for _, tt := range tests {
		if got := IsLoopbackHost(tt.host); got != tt.want {
			t.Errorf("IsLoopbackHost(%q) = %v; want %v", tt.host, got, tt.want)
		}
	}
}

func TestHostOnly(t *testing.T) {
	tests := []struct{ in, want string }{
		{"example.com:8000", "example.com"},
		{"example.com", "example.com"},
		{"Example.COM:443", "Example.COM"},
		{"localhost:8000", "localhost"},
		{"127.0.0.1:8000", "127.0.0.1"},
		{"127.0.0.1", "127.0.0.1"},
		{"[::1]:8000", "::1"},
		{"[::1]", "::1"},
		{"::1", "::1"},
		{"app.localhost.:80", "app.localhost."},
		{"example.com:", "example.com"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := HostOnly(tt.in); got != tt.want {
			t.Errorf("HostOnly(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func TestHostOnlyThenIsLoopbackHost(t *testing.T) {
	for hostport, want := range map[string]bool{
		"localhost:8000": true, "app.localhost:3000": true, "127.0.0.1:8000": true, "[::1]:8000": true,
		"[::ffff:127.0.0.1]:80": true, "localhost.:8000": true,
		"0.0.0.0:8000": false, "[::]:8000": false, ":8000": false, "example.com:443": false, "10.0.0.1:80": false,
	} {
		if got := IsLoopbackHost(HostOnly(hostport)); got != want {
			t.Errorf("IsLoopbackHost(HostOnly(%q)) = %v; want %v", hostport, got, want)
		}
	}
}

func TestIsPublic(t *testing.T) {
	tests := map[string]bool{
		// the public internet
		"8.8.8.8": true, "1.1.1.1": true, "151.101.1.69": true, "2606:4700::1111": true, "2a00:1450:4001::200e": true,
		"::ffff:8.8.8.8": true, "100.63.255.255": true, "100.128.0.0": true, "172.32.0.1": true,

		// loopback
		"127.0.0.1": false, "127.9.9.9": false, "::1": false, "::ffff:127.0.0.1": false,
		// private (RFC 1918) and unique local (RFC 4193)
		"10.1.2.3": false, "172.16.0.1": false, "172.31.255.255": false, "192.168.1.1": false,
		"fc00::1": false, "fd12::1": false, "::ffff:10.0.0.1": false, "::ffff:192.168.0.1": false,
		// link-local, with the cloud metadata service
		"169.254.169.254": false, "169.254.0.1": false, "fe80::1": false, "::ffff:169.254.169.254": false,
		// carrier-grade NAT
		"100.64.0.1": false, "100.127.255.254": false,
		// unspecified and "this network"
		"0.0.0.0": false, "0.1.2.3": false, "::": false,
		// multicast and broadcast
		"224.0.0.1": false, "239.255.255.250": false, "ff02::1": false, "ff01::1": false, "255.255.255.255": false,
		// documentation, benchmarking, IETF, reserved, discard
		"192.0.2.1": false, "198.51.100.1": false, "203.0.113.1": false, "2001:db8::1": false,
		"198.18.0.1": false, "198.19.255.255": false, "192.0.0.8": false, "240.0.0.1": false, "100::1": false,
		// IPv6 forms that embed an IPv4 address
		"64:ff9b::a00:1": false, "64:ff9b::808:808": false, "64:ff9b:1::1": false,
		"2002:a00:1::": false, "2002:808:808::": false, "2001::1": false,
	}
	for addr, want := range tests {
		if got := IsPublic(netip.MustParseAddr(addr)); got != want {
			t.Errorf("IsPublic(%s) = %v; want %v", addr, got, want)
		}
	}
	if IsPublic(netip.Addr{}) {
		t.Error("IsPublic(zero Addr) = true; want false")
	}
}

func TestIsPrivateOrReserved(t *testing.T) {
	tests := map[string]bool{
		"10.0.0.1": true, "172.16.0.1": true, "192.168.1.1": true, "fd00::1": true, "::ffff:10.0.0.1": true,
		"169.254.169.254": true, "fe80::1": true, "100.64.0.1": true, "100.127.255.255": true,
		"224.0.0.1": true, "ff02::1": true, "0.0.0.0": true, "::": true,

		// go-sdk decides loopback separately, and lets through what it does
		// not list (documentation, NAT64, 6to4, ...); IsPublic is stricter.
		"127.0.0.1": false, "::1": false, "8.8.8.8": false, "2606:4700::1111": false,
		"100.128.0.0": false, "192.0.2.1": false, "64:ff9b::a00:1": false, "2002:a00:1::": false,
	}
	for addr, want := range tests {
		if got := IsPrivateOrReserved(netip.MustParseAddr(addr)); got != want {
			t.Errorf("IsPrivateOrReserved(%s) = %v; want %v", addr, got, want)
		}
	}
	if !IsPrivateOrReserved(netip.Addr{}) {
		t.Error("IsPrivateOrReserved(zero Addr) = false; want true")
	}
}

func TestPrivateBlock(t *testing.T) {
	tests := []struct {
		addr  string
		block string // "" for none
	}{
		{"10.0.0.1", "10.0.0.0/8"},
		{"10.255.255.255", "10.0.0.0/8"},
		{"::ffff:10.1.2.3", "10.0.0.0/8"},
		{"172.16.0.1", "172.16.0.0/12"},
		{"172.31.0.1", "172.16.0.0/12"},
		{"192.168.1.1", "192.168.0.0/16"},
		{"100.64.0.1", "100.64.0.0/10"},
		{"100.101.102.103", "100.64.0.0/10"},
		{"fd7a:115c:a1e0::1", "fc00::/7"},
		{"fc00::1", "fc00::/7"},

		{"172.32.0.1", ""},
		{"100.128.0.1", ""},
		{"127.0.0.1", ""},
		{"169.254.169.254", ""},
		{"fe80::1", ""},
		{"8.8.8.8", ""},
		{"2606:4700::1111", ""},
		{"0.0.0.0", ""},
	}
	for _, tt := range tests {
		b, ok := PrivateBlock(netip.MustParseAddr(tt.addr))
		if tt.block == "" {
			if ok {
				t.Errorf("PrivateBlock(%s) = %s, true; want no block", tt.addr, b)
			}
			continue
		}
		if !ok || b != netip.MustParsePrefix(tt.block) {
			t.Errorf("PrivateBlock(%s) = %s, %v; want %s", tt.addr, b, ok, tt.block)
		}
	}
}
