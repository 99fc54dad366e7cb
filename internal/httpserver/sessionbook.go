package httpserver

import (
	"net/http"
	"sync"
	"time"

	sdkauth "github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// sessionBook knows the stateful sessions go-sdk has open, so that the
// fast path (fastcall.go) can serve a call on one without go-sdk's
// transport: which *mcp.ServerSession an Mcp-Session-Id names, and which
// user opened it (go-sdk refuses another user's request on a session with
// 403, and so does the fast path).
//
// It learns from go-sdk's own answers, never from what a client claims: a
// session is booked when go-sdk answers its initialize (the Mcp-Session-Id
// header of the answer) or answers a request on it with 2xx, and forgotten
// when go-sdk answers 404 for it, when a DELETE of it succeeds, and when
// it is no longer among the server's sessions.
//
// It also keeps the idle timeout (ATOMCP_SESSION_TIMEOUT) in go-sdk's
// place: go-sdk counts only the POSTs it serves itself, so a session used
// only by fast calls would look idle to it and be closed under its
// client. The book counts every POST, fast or not, and closes a session
// with none in progress for the timeout, as go-sdk did.
type sessionBook struct {
	server  *mcp.Server
	timeout time.Duration // 0: sessions never expire

	mu       sync.Mutex
	sessions map[string]*bookedSession
	// The sweep starts with the first booked session (a server that never
	// has one runs no goroutine for it) and stops with close.
	start, stopped sync.Once
	stop           chan struct{}
}

type bookedSession struct {
	ss   *mcp.ServerSession
	user string // TokenInfo.UserID of the initialize; "" without authentication
	// userKnown is false for a session the sweep found open without the
	// book having seen go-sdk answer for it: it gets the idle timeout, and
	// no fast call until go-sdk has answered one of its requests.
	userKnown bool
	inflight  int // POSTs in progress, under sessionBook.mu
	last      time.Time
}

func newSessionBook(server *mcp.Server, timeout time.Duration) *sessionBook {
	return &sessionBook{server: server, timeout: timeout, sessions: map[string]*bookedSession{}, stop: make(chan struct{})}
}

// close stops the sweep.
func (b *sessionBook) close() { b.stopped.Do(func() { close(b.stop) }) }

// sweepEvery is how often idle sessions are closed and sessions go-sdk
// closed by itself are forgotten: a quarter of the timeout (a session
// lives at most 25% longer than its timeout), at most a minute.
func (b *sessionBook) sweepEvery() time.Duration {
	if b.timeout <= 0 {
		return time.Minute
	}
	return min(max(b.timeout/4, 10*time.Millisecond), time.Minute)
}

func (b *sessionBook) sweepLoop() {
	t := time.NewTicker(b.sweepEvery())
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case now := <-t.C:
			b.sweep(now)
		}
	}
}

// sweep closes the sessions idle for the timeout, forgets those go-sdk
// no longer has and books those it has that the book missed.
func (b *sessionBook) sweep(now time.Time) {
	live := map[string]*mcp.ServerSession{}
	for ss := range b.server.Sessions() {
		live[ss.ID()] = ss
	}
	var idle []*mcp.ServerSession
	b.mu.Lock()
	for id, ss := range live {
		if _, known := b.sessions[id]; !known && id != "" {
			b.sessions[id] = &bookedSession{ss: ss, last: now}
		}
	}
	for id, s := range b.sessions {
		switch {
		case live[id] == nil:
			delete(b.sessions, id)
		case b.timeout > 0 && s.inflight == 0 && now.Sub(s.last) >= b.timeout:
			delete(b.sessions, id)
			idle = append(idle, s.ss)
		}
	}
	b.mu.Unlock()
	for _, ss := range idle {
		_ = ss.Close()
	}
}

// begin notes a POST on a booked session and returns it with its user
// (and whether that is known), or nil when the session is not booked. A
// non-nil answer must be followed by end.
func (b *sessionBook) begin(id string) (s *bookedSession, user string, userKnown bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s = b.sessions[id]
	if s == nil {
		return nil, "", false
	}
	s.inflight++
	s.last = time.Now()
	return s, s.user, s.userKnown
}

func (b *sessionBook) end(s *bookedSession) {
	b.mu.Lock()
	s.inflight--
	s.last = time.Now()
	b.mu.Unlock()
}

// learn books session id, opened by user, if go-sdk has it.
func (b *sessionBook) learn(id, user string) {
	b.mu.Lock()
	if s := b.sessions[id]; s != nil {
		if !s.userKnown {
			s.user, s.userKnown = user, true
		}
		b.mu.Unlock()
		return
	}
	b.mu.Unlock()
	for ss := range b.server.Sessions() {
		if ss.ID() == id {
			b.mu.Lock()
			if _, known := b.sessions[id]; !known {
				b.sessions[id] = &bookedSession{ss: ss, user: user, userKnown: true, last: time.Now()}
			}
			b.mu.Unlock()
			b.start.Do(func() { go b.sweepLoop() })
			return
		}
	}
}

func (b *sessionBook) forget(id string) {
	b.mu.Lock()
	delete(b.sessions, id)
	b.mu.Unlock()
}

// observe wraps go-sdk's stateful handler: it counts the POSTs of booked
// sessions as activity and learns and forgets sessions from go-sdk's
// answers.
func (b *sessionBook) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(sessionIDHeader)
		if r.Method == http.MethodPost && id != "" {
			if s, _, _ := b.begin(id); s != nil {
				defer b.end(s)
			}
		}
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		switch {
		case id == "" && r.Method == http.MethodPost:
			if opened := sw.Header().Get(sessionIDHeader); opened != "" && sw.ok() {
				b.learn(opened, userOf(r))
			}
		case id == "":
		case sw.status == http.StatusNotFound, r.Method == http.MethodDelete && sw.ok():
			b.forget(id)
		case sw.ok():
			b.learn(id, userOf(r))
		}
	})
}

// userOf is the user go-sdk ties a session to: the verified token's
// UserID, "" without one.
func userOf(r *http.Request) string {
	if info := sdkauth.TokenInfoFromContext(r.Context()); info != nil {
		return info.UserID
	}
	return ""
}

const sessionIDHeader = "Mcp-Session-Id"

// statusWriter records the status of an answer; it keeps Flush (event
// streams) and Unwrap (http.ResponseController) working.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

func (w *statusWriter) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) ok() bool { return w.status >= 200 && w.status < 300 }
