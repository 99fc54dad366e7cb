package oauthclient

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"sync"
	"syscall"
	"time"

	"github.com/atomcp/atomcp/internal/netaddr"
)

// maxRedirects bounds the redirects of one OAuth request.
const maxRedirects = 10

var (
	errDowngrade        = errors.New("redirect from HTTPS to HTTP")
	errForbiddenAddress = errors.New("address not allowed")
)

// NewHTTPClient returns the HTTP client for the OAuth requests (metadata,
// registration, token) made on behalf of the MCP server at serverURL.
//
// go-sdk's own client refuses every private and carrier-grade NAT address,
// which also refuses an MCP server on a company network. This client allows
// public and loopback addresses and, in addition, the one private block
// (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10 or fc00::/7)
// that the MCP server's own host resolves into; other private blocks,
// link-local addresses (169.254.0.0/16 with the cloud metadata service,
// fe80::/10), multicast and unspecified addresses stay refused. When an
// HTTP proxy is configured in the environment, the proxy decides and no
// address is refused here.
//
// Redirects: at most 10, and never from HTTPS to HTTP.
//
// go-sdk accepts a client whose transport dials itself as a sign that the
// caller took over these checks (oauthex's discovery client); that is what
// this client does.
func NewHTTPClient(serverURL string) (*http.Client, error) {
	u, err := url.Parse(serverURL)
	if err != nil || u.Host == "" {
		return nil, &Error{Kind: KindOther, Msg: fmt.Sprintf("%q is not an MCP server URL (want http://… or https://…)", serverURL), Err: err}
	}
	p := &addressPolicy{host: u.Hostname()}
	base := http.DefaultTransport.(*http.Transport).Clone()
	if !proxyConfigured(base) {
		dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second, Control: p.control}
		base.DialContext = dialer.DialContext
	} else {
		// go-sdk would see a plain transport and add its own checks; a
		// DialContext of our own keeps the proxy's decision.
		dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
		base.DialContext = dialer.DialContext
	}
	return &http.Client{
		Transport:     base,
		Timeout:       60 * time.Second,
		CheckRedirect: checkRedirect,
	}, nil
}

func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return ErrRedirectLoop
	}
	if prev := via[len(via)-1]; prev.URL.Scheme == "https" && req.URL.Scheme != "https" {
		return errDowngrade
	}
	return nil
}

func proxyConfigured(t *http.Transport) bool {
	if t.Proxy == nil {
		return false
	}
	for _, probe := range []string{"https://example.com", "http://example.com"} {
		req, _ := http.NewRequest(http.MethodGet, probe, nil)
		if u, err := t.Proxy(req); err == nil && u != nil {
			return true
		}
	}
	return false
}

// addressPolicy decides which IP addresses the OAuth requests may reach.
type addressPolicy struct {
	host string // the MCP server's host name or address

	once    sync.Once
	allowed []netip.Prefix // private blocks the MCP server is in
}

// home resolves the MCP server's host once and records the private blocks
// its addresses are in.
func (p *addressPolicy) home() []netip.Prefix {
	p.once.Do(func() {
		var addrs []netip.Addr
		if ip, err := netip.ParseAddr(p.host); err == nil {
			addrs = []netip.Addr{ip}
		} else {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			addrs, _ = net.DefaultResolver.LookupNetIP(ctx, "ip", p.host)
		}
		for _, a := range addrs {
			if b, ok := netaddr.PrivateBlock(a); ok {
				p.allowed = append(p.allowed, b)
			}
		}
	})
	return p.allowed
}

// allow reports whether ip may be dialled, and if not, why.
func (p *addressPolicy) allow(ip netip.Addr) error {
	ip = ip.Unmap()
	switch {
	case !ip.IsValid():
		return fmt.Errorf("%w: invalid address", errForbiddenAddress)
	case ip.IsLoopback():
		return nil
	case ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast():
		return fmt.Errorf("%w: %s is a link-local address", errForbiddenAddress, ip)
	case ip.IsMulticast() || ip.IsUnspecified() || ip.IsInterfaceLocalMulticast():
		return fmt.Errorf("%w: %s is not a unicast address", errForbiddenAddress, ip)
	}
	if b, ok := netaddr.PrivateBlock(ip); ok {
		for _, h := range p.home() {
			if h == b {
				return nil
			}
		}
		return fmt.Errorf("%w: %s is in the private block %s, which is not the MCP server's network", errForbiddenAddress, ip, b)
	}
	return nil
}

func (p *addressPolicy) control(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		host = address
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("%w: %q is not an IP address", errForbiddenAddress, host)
	}
	return p.allow(ip)
}
