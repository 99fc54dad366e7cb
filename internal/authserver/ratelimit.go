package authserver

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/atomcp/atomcp/internal/netaddr"
	"github.com/atomcp/atomcp/internal/store"
)

// sharedLimiter limits requests per source address in fixed windows whose
// counts live in the database, so that every replica of a deployment
// shares one budget (a per-process limiter would give N replicas N times
// the budget). Unauthenticated registration writes to the database, and the
// token and sign-in endpoints invite guessing: all three are limited.
type sharedLimiter struct {
	st     store.RateLimits
	name   string
	limit  int
	window time.Duration
	now    func() time.Time
	log    *slog.Logger
}

// allow reports whether a request from r's client may proceed and, if
// not, how long until it may. The client is its address as the HTTP
// server found it (netaddr.Client): behind a proxy listed in
// ATOMCP_TRUSTED_PROXIES, the address the proxy forwarded; otherwise the
// socket's peer. When the database cannot count, the request proceeds:
// the endpoint itself needs the database and will fail on its own.
func (l *sharedLimiter) allow(r *http.Request) (bool, time.Duration) {
	host := netaddr.Client(r)
	now := l.now()
	start := now.Truncate(l.window)
	n, err := l.st.HitRateLimit(r.Context(), l.name+":"+host, start, start.Add(-l.window))
	if err != nil {
		l.log.Warn("rate limit not counted", "limit", l.name, "err", err)
		return true, 0
	}
	if n > l.limit {
		return false, start.Add(l.window).Sub(now)
	}
	return true, 0
}
