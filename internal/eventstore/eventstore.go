// Package eventstore keeps the response events of stateful MCP sessions so
// that a client whose stream was cut can resume it with Last-Event-ID
// (2025-11-25 resumable streams). It implements go-sdk's mcp.EventStore
// and replaces mcp.MemoryEventStore, whose per-session cost is most of
// what an idle atomcp session holds beyond go-sdk's own floor
// (docs/performance.md, "Memory per session and RSS"):
//
//   - the events of a session's first response stream, which answers
//     initialize, are counted but not kept: a client whose initialize
//     stream was cut initializes again, it does not resume (a resume
//     of that stream is refused as purged, as for any purged event);
//   - a stream costs nothing until an event is appended to it (Open
//     allocates nothing: every session's standalone GET stream is
//     opened at connect and most never carry an event), and a
//     session costs one small record until one of its streams has
//     events;
//   - the purge drops the oldest events of all sessions first, from one
//     queue, instead of walking every stream of every session on each
//     append once the store is full.
//
// The store is bounded by the bytes of the events it holds (all sessions
// together, ATOMCP_EVENT_STORE_BYTES); what it keeps per stream besides
// them is the stream's event indices, until the session ends.
package eventstore

import (
	"context"
	"fmt"
	"iter"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Store is an mcp.EventStore in memory, bounded by the bytes of the
// events it holds. The zero Store is not usable; call New.
type Store struct {
	mu       sync.Mutex
	maxBytes int
	nBytes   int // bytes of the events held
	sessions map[string]*session
	// queue holds one entry per event held, oldest first, naming the
	// stream it belongs to: the purge takes the oldest event of all
	// sessions from its head. Entries of streams of closed sessions are
	// skipped (stale counts them) and compacted away when they are
	// half the queue.
	queue []*stream
	head  int
	stale int
}

// session is what the store knows of one session.
type session struct {
	// first is the session's first response stream, which answers
	// initialize; its events are not kept. Set on the first append to
	// a stream other than the standalone one ("").
	first   string
	streams map[string]*stream // streams that had events appended
}

// stream is one stream's events. Indices are the stream's own: the i-th
// append to a stream has index i, as go-sdk numbers the event ids.
type stream struct {
	first  int      // index of data[0]
	data   [][]byte // the events held, from index first on
	closed bool     // the session ended; queue entries are stale
}

var _ mcp.EventStore = (*Store)(nil)

// New returns a store that holds at most maxBytes bytes of events (the
// newest event is kept even when larger). maxBytes must be positive.
func New(maxBytes int) (*Store, error) {
	if maxBytes <= 0 {
		return nil, fmt.Errorf("event store: size must be positive, not %d bytes", maxBytes)
	}
	return &Store{maxBytes: maxBytes, sessions: make(map[string]*session)}, nil
}

// Open implements mcp.EventStore. It keeps nothing: a stream is recorded
// by its first append.
func (s *Store) Open(_ context.Context, _, _ string) error { return nil }

// Append implements mcp.EventStore.
func (s *Store) Append(_ context.Context, sessionID, streamID string, data []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.sessions[sessionID]
	if ss == nil {
		ss = &session{}
		s.sessions[sessionID] = ss
	}
	if streamID != "" && ss.first == "" {
		ss.first = streamID
	}
	if streamID != "" && streamID == ss.first {
		return nil // initialize's answer: see the package comment
	}
	st := ss.streams[streamID]
	if st == nil {
		if ss.streams == nil {
			ss.streams = make(map[string]*stream, 1)
		}
		st = &stream{}
		ss.streams[streamID] = st
	}
	if len(data) == 0 && len(st.data) == 0 {
		// An empty event (go-sdk's priming event) is never replayed;
		// ahead of any held event it only takes an index.
		st.first++
		return nil
	}
	st.data = append(st.data, data)
	s.queue = append(s.queue, st)
	s.nBytes += len(data)
	s.purge()
	return nil
}

// purge drops the oldest events of all sessions until the store holds
// at most maxBytes, keeping at least the newest one. s.mu must be held.
func (s *Store) purge() {
	for s.nBytes > s.maxBytes && len(s.queue)-s.head-s.stale > 1 {
		st := s.queue[s.head]
		s.queue[s.head] = nil
		s.head++
		if st.closed {
			s.stale--
			continue
		}
		s.nBytes -= len(st.data[0])
		st.data[0] = nil
		st.data = st.data[1:]
		st.first++
		if len(st.data) == 0 {
			st.data = nil // let the backing array go
		}
	}
	s.compact()
}

// compact drops the queue's consumed and stale entries once they are
// half of it. s.mu must be held.
func (s *Store) compact() {
	if s.head+s.stale < 64 || 2*(s.head+s.stale) < len(s.queue) {
		return
	}
	live := make([]*stream, 0, len(s.queue)-s.head-s.stale)
	for _, st := range s.queue[s.head:] {
		if !st.closed {
			live = append(live, st)
		}
	}
	s.queue, s.head, s.stale = live, 0, 0
}

// After implements mcp.EventStore: the events of the stream after index,
// or mcp.ErrEventsPurged when one of them is no longer held. index -1 (a
// GET without Last-Event-ID, which go-sdk asks for the standalone stream)
// gets the events still held: the client asked for no particular event,
// and refusing would keep it from ever opening its standalone stream
// again once one event of it was purged.
func (s *Store) After(_ context.Context, sessionID, streamID string, index int) iter.Seq2[[]byte, error] {
	s.mu.Lock()
	var held [][]byte
	var err error
	ss := s.sessions[sessionID]
	var st *stream
	if ss != nil {
		st = ss.streams[streamID]
	}
	switch start := index + 1; {
	case st == nil && index < 0:
		// Nothing was appended to the stream.
	case st == nil:
		// Either the session's first stream, whose events are not
		// kept, or a stream of a session that ended or that this
		// process never saw (a restart, another replica).
		err = fmt.Errorf("event store: event %d of stream %q of session %q: %w", index, streamID, sessionID, mcp.ErrEventsPurged)
	case start < st.first && index >= 0:
		err = fmt.Errorf("event store: event %d of stream %q of session %q: %w", index, streamID, sessionID, mcp.ErrEventsPurged)
	case start-st.first >= len(st.data):
		// Nothing after index (or an index never given out).
	default:
		// Copied: the purge clears the slots it drops.
		held = append(held, st.data[max(start-st.first, 0):]...)
	}
	s.mu.Unlock()
	return func(yield func([]byte, error) bool) {
		if err != nil {
			yield(nil, err)
			return
		}
		for _, d := range held {
			if !yield(d, nil) {
				return
			}
		}
	}
}

// SessionClosed implements mcp.EventStore: the session's events go.
func (s *Store) SessionClosed(_ context.Context, sessionID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.sessions[sessionID]
	if ss == nil {
		return nil
	}
	delete(s.sessions, sessionID)
	for _, st := range ss.streams {
		for _, d := range st.data {
			s.nBytes -= len(d)
		}
		s.stale += len(st.data)
		st.data, st.closed = nil, true
	}
	s.compact()
	return nil
}

// Stats are the store's contents, for tests and measurements.
type Stats struct {
	Sessions int // sessions with a record
	Events   int // events held
	Bytes    int // their bytes
}

// Stats reports what the store holds.
func (s *Store) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Stats{Sessions: len(s.sessions), Events: len(s.queue) - s.head - s.stale, Bytes: s.nBytes}
}
