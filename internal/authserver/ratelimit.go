package authserver

import (
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// ipLimiter rate-limits requests per source address. Unauthenticated
// registration writes to the database, so without a limit anyone could
// fill it.
type ipLimiter struct {
	burst    int
	interval time.Duration
	now      func() time.Time

	mu       sync.Mutex
	limiters map[string]*rate.Limiter
}

const maxTrackedIPs = 10000

func newIPLimiter(burst int, interval time.Duration, now func() time.Time) *ipLimiter {
	return &ipLimiter{burst: burst, interval: interval, now: now, limiters: make(map[string]*rate.Limiter)}
}

// allow reports whether a request from r's peer may proceed and, if not,
// how long until it may. Behind a reverse proxy every request comes from
// the proxy and shares one budget, which errs on the safe side.
func (l *ipLimiter) allow(r *http.Request) (bool, time.Duration) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	l.mu.Lock()
	lim := l.limiters[host]
	if lim == nil {
		if len(l.limiters) >= maxTrackedIPs {
			clear(l.limiters) // bounded memory; a reset only forgives
		}
		lim = rate.NewLimiter(rate.Every(l.interval), l.burst)
		l.limiters[host] = lim
	}
	l.mu.Unlock()
	now := l.now()
	res := lim.ReserveN(now, 1)
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return false, d
	}
	return true, 0
}
