package httpserver

import (
	"net"
	"net/netip"
	"sync"
)

// limitConns returns ln with at most max open connections per client IP
// address (the socket's peer): a connection beyond that is closed as soon
// as it is accepted, before any byte is read, so that one address cannot
// hold every file descriptor or goroutine with idle or slow connections.
// Peers in exempt (trusted proxies, which carry everyone's connections)
// are not counted. max <= 0 returns ln itself.
func limitConns(ln net.Listener, max int, exempt []netip.Prefix) net.Listener {
	if max <= 0 {
		return ln
	}
	return &connLimiter{Listener: ln, max: max, exempt: exempt, open: map[netip.Addr]int{}}
}

type connLimiter struct {
	net.Listener
	max    int
	exempt []netip.Prefix
	mu     sync.Mutex
	open   map[netip.Addr]int
}

func (l *connLimiter) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		addr, ok := peerIP(c)
		if !ok || l.isExempt(addr) {
			return c, nil
		}
		l.mu.Lock()
		if l.open[addr] >= l.max {
			l.mu.Unlock()
			_ = c.Close()
			continue
		}
		l.open[addr]++
		l.mu.Unlock()
		return &countedConn{Conn: c, release: func() { l.release(addr) }}, nil
	}
}

func (l *connLimiter) isExempt(a netip.Addr) bool {
	for _, p := range l.exempt {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func (l *connLimiter) release(a netip.Addr) {
	l.mu.Lock()
	if l.open[a]--; l.open[a] <= 0 {
		delete(l.open, a)
	}
	l.mu.Unlock()
}

func peerIP(c net.Conn) (netip.Addr, bool) {
	ap, err := netip.ParseAddrPort(c.RemoteAddr().String())
	if err != nil {
		return netip.Addr{}, false
	}
	return ap.Addr().Unmap(), true
}

// countedConn gives its slot back once, however often it is closed.
type countedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *countedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
