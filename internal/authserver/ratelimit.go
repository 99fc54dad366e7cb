package authserver

import (
	"log/slog"
	"net"
	"net/http"
	"time"

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

// allow reports whether a request from r's peer may proceed and, if not,
// how long until it may. Behind a reverse proxy every request comes from
// the proxy and shares one budget, which errs on the safe side. When the
// database cannot count, the request proceeds: the endpoint itself needs
// the database and will fail on its own.
func (l *sharedLimiter) allow(r *http.Request) (bool, time.Duration) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
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
