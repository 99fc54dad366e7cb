package httpserver

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"sync"
	"time"

	sdkauth "github.com/modelcontextprotocol/go-sdk/auth"
	"golang.org/x/time/rate"

	"github.com/atomcp/atomcp/internal/netaddr"
)

// ToolLimits bound the MCP requests of one user: every POST to the MCP
// endpoint (tool calls, and the few other messages a client sends), keyed
// by the verified identity of the token, or by the client address when
// there is no authentication. A zero Rate or Concurrency disables that
// limit.
//
// Why HTTP and not JSON-RPC: a request over the limit is refused before
// its body is decoded, which is the point when the body is a megabyte of
// search terms; and a rate limit is the transport's business (the MCP
// specification keeps tool errors, isError, for failures a model can fix
// by changing its call). So the answer is HTTP 429 with Retry-After, and
// its body a JSON-RPC error (code CodeRateLimited, data.retry_after_seconds)
// for clients that only show the message.
type ToolLimits struct {
	Rate        float64 // requests per second, sustained
	Burst       int     // requests at once above Rate; at least 1
	Concurrency int     // requests in progress at once
	// MaxWait is how long a request over a limit waits for its turn
	// before it is refused; 0 means one second. Waiting costs no CPU, so
	// a client that sends as fast as it is answered is slowed to the rate
	// rather than spinning on refusals.
	MaxWait time.Duration
}

// CodeRateLimited is the JSON-RPC error code of a refused request, in the
// range JSON-RPC leaves to servers (-32000 to -32099).
const CodeRateLimited = -32029

// How long a user's limiter is kept after their last request; a
// returning user starts with a full bucket, which is what they would
// have by then anyway.
const (
	userIdle   = 10 * time.Minute
	sweepEvery = time.Minute
)

type toolLimiter struct {
	lim       ToolLimits
	mu        sync.Mutex
	users     map[string]*userLimit
	lastSweep time.Time
}

type userLimit struct {
	bucket   *rate.Limiter // nil without a rate limit
	slots    chan struct{} // nil without a concurrency limit
	inUse    int           // under toolLimiter.mu
	lastUsed time.Time
}

func newToolLimiter(l ToolLimits) *toolLimiter {
	if l.Rate <= 0 && l.Concurrency <= 0 {
		return nil
	}
	if l.Burst < 1 {
		l.Burst = 1
	}
	if l.MaxWait <= 0 {
		l.MaxWait = time.Second
	}
	return &toolLimiter{lim: l, users: map[string]*userLimit{}}
}

// userKey is who a request counts against.
func userKey(r *http.Request) string {
	if info := sdkauth.TokenInfoFromContext(r.Context()); info != nil && info.UserID != "" {
		return "user " + info.UserID
	}
	return "address " + netaddr.Client(r)
}

func (t *toolLimiter) acquire(key string) *userLimit {
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if now.Sub(t.lastSweep) > sweepEvery {
		for k, u := range t.users {
			if u.inUse == 0 && now.Sub(u.lastUsed) > userIdle {
				delete(t.users, k)
			}
		}
		t.lastSweep = now
	}
	u := t.users[key]
	if u == nil {
		u = &userLimit{}
		if t.lim.Rate > 0 {
			u.bucket = rate.NewLimiter(rate.Limit(t.lim.Rate), t.lim.Burst)
		}
		if t.lim.Concurrency > 0 {
			u.slots = make(chan struct{}, t.lim.Concurrency)
		}
		t.users[key] = u
	}
	u.inUse++
	u.lastUsed = now
	return u
}

func (t *toolLimiter) release(u *userLimit) {
	t.mu.Lock()
	u.inUse--
	u.lastUsed = time.Now()
	t.mu.Unlock()
}

// limitTools applies the per-user limits to POSTs.
func (s *Server) limitTools(next http.Handler) http.Handler {
	t := newToolLimiter(s.opts.Limits.Tools)
	if t == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			next.ServeHTTP(w, r)
			return
		}
		u := t.acquire(userKey(r))
		defer t.release(u)
		if wait, ok := t.take(r.Context(), u); !ok {
			s.refuseBusy(w, r, wait)
			return
		}
		if u.slots != nil {
			timer := time.NewTimer(t.lim.MaxWait)
			select {
			case u.slots <- struct{}{}:
				timer.Stop()
				defer func() { <-u.slots }()
			case <-timer.C:
				s.refuseBusy(w, r, time.Second)
				return
			case <-r.Context().Done():
				timer.Stop()
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// take waits for a token of u's bucket, at most MaxWait; when that is not
// enough it returns how long the client should wait instead.
func (t *toolLimiter) take(ctx context.Context, u *userLimit) (time.Duration, bool) {
	if u.bucket == nil {
		return 0, true
	}
	res := u.bucket.Reserve()
	d := res.Delay()
	if d == 0 {
		return 0, true
	}
	if d > t.lim.MaxWait {
		res.Cancel()
		return d, false
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return 0, true
	case <-ctx.Done():
		res.Cancel()
		return 0, false
	}
}

// refuseBusy answers 429 with Retry-After (whole seconds, at least 1).
func (s *Server) refuseBusy(w http.ResponseWriter, r *http.Request, wait time.Duration) {
	if r.Context().Err() != nil {
		return // the client is gone
	}
	secs := max(1, int(math.Ceil(wait.Seconds())))
	w.Header().Set("Retry-After", fmt.Sprint(secs))
	msg := fmt.Sprintf("too many requests from this user (ATOMCP_TOOL_RATE, ATOMCP_TOOL_BURST, ATOMCP_TOOL_CONCURRENCY); retry after %d s", secs)
	writeJSON(w, http.StatusTooManyRequests, map[string]any{
		"jsonrpc": "2.0",
		"id":      nil,
		"error": map[string]any{
			"code":    CodeRateLimited,
			"message": msg,
			"data":    map[string]any{"retry_after_seconds": secs},
		},
	})
}
