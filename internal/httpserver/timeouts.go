package httpserver

import (
	"errors"
	"io"
	"net/http"
	"time"
)

// Limits bound what one connection and one request may hold; a zero field
// disables its limit. atomcp serve fills them from its settings (the
// defaults are in internal/config).
//
// There is deliberately no write timeout: http.Server's WriteTimeout
// would end every event stream (a GET, or a tool call's streamed
// response) after that long. Tool calls have their own deadline
// (ATOMCP_REQUEST_TIMEOUT), and request bodies get theirs per request
// through http.ResponseController, which leaves event streams alone.
type Limits struct {
	ReadHeaderTimeout time.Duration // to send a request's headers
	// ReadBodyTimeout plus one second per MinBodyRate bytes received is
	// how long a request body may take to arrive.
	ReadBodyTimeout time.Duration
	MinBodyRate     int64 // bytes per second
	IdleTimeout     time.Duration
	// MaxConnsPerClient bounds the open connections from one IP address
	// (connlimit.go); TrustedProxies are exempt.
	MaxConnsPerClient int
	// Tool calls: see ToolLimits.
	Tools ToolLimits
}

// bodyDeadline makes a request body that arrives too slowly fail: the
// connection's read deadline is ReadBodyTimeout after the request started
// plus one second per MinBodyRate bytes read so far, pushed on as bytes
// arrive and lifted once the body has been read (so that it cannot cut the
// event stream the response may become). A body trickled one byte at a
// time is cut off after ReadBodyTimeout and a little.
func (s *Server) bodyDeadline(next http.Handler) http.Handler {
	grace, rate := s.opts.Limits.ReadBodyTimeout, s.opts.Limits.MinBodyRate
	if grace <= 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
			next.ServeHTTP(w, r)
			return
		}
		rc := http.NewResponseController(w)
		b := &rateBody{body: r.Body, rc: rc, start: time.Now(), grace: grace, rate: rate, length: r.ContentLength}
		if err := rc.SetReadDeadline(b.deadline()); err != nil {
			// A writer without deadlines (a test recorder): nothing to enforce.
			next.ServeHTTP(w, r)
			return
		}
		r.Body = b
		next.ServeHTTP(w, r)
	})
}

// rateBody is a request body whose connection read deadline follows the
// bytes received.
type rateBody struct {
	body   io.ReadCloser
	rc     *http.ResponseController
	start  time.Time
	grace  time.Duration
	rate   int64
	length int64 // Content-Length, or -1
	n      int64
	lifted bool
}

func (b *rateBody) deadline() time.Time {
	d := b.start.Add(b.grace)
	if b.rate > 0 {
		d = d.Add(time.Duration(float64(b.n) / float64(b.rate) * float64(time.Second)))
	}
	return d
}

func (b *rateBody) Read(p []byte) (int, error) {
	n, err := b.body.Read(p)
	b.n += int64(n)
	switch {
	case err == io.EOF || (err == nil && b.length >= 0 && b.n >= b.length):
		b.lift()
	case err != nil:
		// The deadline stays: whatever net/http reads of this connection
		// next fails too, and it closes the connection.
		if isTimeout(err) {
			err = errBodyTooSlow
		}
	case n > 0 && !b.lifted:
		_ = b.rc.SetReadDeadline(b.deadline())
	}
	return n, err
}

func (b *rateBody) Close() error { return b.body.Close() }

// lift removes the deadline once the whole body has arrived. A body the
// handler left unread keeps its deadline: net/http reads what remains
// (up to 256 KiB) before the next request, and that read must not be
// slower than the body's. Each new request sets its own deadlines.
func (b *rateBody) lift() {
	if !b.lifted {
		b.lifted = true
		_ = b.rc.SetReadDeadline(time.Time{})
	}
}

var errBodyTooSlow = errors.New("the request body arrived too slowly (ATOMCP_READ_BODY_TIMEOUT, ATOMCP_MIN_BODY_RATE)")

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}
