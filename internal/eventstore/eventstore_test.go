package eventstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// after collects what After yields.
func after(t *testing.T, s *Store, session, stream string, index int) ([]string, error) {
	t.Helper()
	var out []string
	for d, err := range s.After(context.Background(), session, stream, index) {
		if err != nil {
			return out, err
		}
		out = append(out, string(d))
	}
	return out, nil
}

func mustNew(t *testing.T, n int) *Store {
	t.Helper()
	s, err := New(n)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func appendAll(t *testing.T, s *Store, session, stream string, events ...string) {
	t.Helper()
	for _, e := range events {
		var d []byte
		if e != "" {
			d = []byte(e)
		}
		if err := s.Append(context.Background(), session, stream, d); err != nil {
			t.Fatal(err)
		}
	}
}

func TestNewRefusesANonPositiveSize(t *testing.T) {
	for _, n := range []int{0, -1} {
		if _, err := New(n); err == nil {
			t.Errorf("New(%d): no error", n)
		}
	}
}

func TestResume(t *testing.T) {
	s := mustNew(t, 1<<20)
	ctx := context.Background()
	if err := s.Open(ctx, "S", ""); err != nil {
		t.Fatal(err)
	}
	if got := s.Stats(); got.Sessions != 0 {
		t.Fatalf("Open recorded something: %+v", got)
	}
	appendAll(t, s, "S", "init", "", "initialize result")
	// A tool call's stream: the priming event (empty), a progress
	// notification, the result.
	appendAll(t, s, "S", "call", "", "progress", "result")

	for _, tc := range []struct {
		stream string
		index  int
		want   []string
		purged bool
	}{
		{"call", 0, []string{"progress", "result"}, false},
		{"call", 1, []string{"result"}, false},
		{"call", 2, nil, false},
		{"call", 1000, nil, false},                          // an index never given out: nothing after it
		{"call", -1, []string{"progress", "result"}, false}, // the empty priming event is not replayed
		{"init", 0, nil, true},                              // initialize's stream is not kept
		{"init", -1, nil, false},
		{"", -1, nil, false},    // the standalone stream, opened but empty
		{"other", 0, nil, true}, // never seen
	} {
		got, err := after(t, s, "S", tc.stream, tc.index)
		if tc.purged != errors.Is(err, mcp.ErrEventsPurged) || (!tc.purged && err != nil) {
			t.Errorf("After(%q, %d): error %v, want purged %v", tc.stream, tc.index, err, tc.purged)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("After(%q, %d) = %q, want %q", tc.stream, tc.index, got, tc.want)
		}
	}
	if got, want := s.Stats(), (Stats{Sessions: 1, Events: 2, Bytes: len("progress") + len("result")}); got != want {
		t.Errorf("Stats = %+v, want %+v (the initialize result is not kept)", got, want)
	}
	if _, err := after(t, s, "T", "call", 0); !errors.Is(err, mcp.ErrEventsPurged) {
		t.Errorf("unknown session: %v, want purged", err)
	}
}

func TestTheStandaloneStreamIsNeverTakenForInitialize(t *testing.T) {
	s := mustNew(t, 1<<20)
	appendAll(t, s, "S", "", "early notification")
	appendAll(t, s, "S", "init", "", "initialize result")
	appendAll(t, s, "S", "", "later notification")
	got, err := after(t, s, "S", "", 0)
	if err != nil || !slices.Equal(got, []string{"later notification"}) {
		t.Errorf("After(\"\", 0) = %q, %v", got, err)
	}
}

func TestPurgeDropsTheOldestEventsOfAllSessions(t *testing.T) {
	s := mustNew(t, 10)
	for _, sess := range []string{"A", "B"} {
		appendAll(t, s, sess, "init", "", "i")
	}
	appendAll(t, s, "A", "a", "", "aaaa") // index 1
	appendAll(t, s, "B", "b", "", "bbbb") // index 1
	appendAll(t, s, "A", "a", "AAAA")     // index 2: 12 bytes, "aaaa" goes
	if got, want := s.Stats(), (Stats{Sessions: 2, Events: 2, Bytes: 8}); got != want {
		t.Fatalf("Stats = %+v, want %+v", got, want)
	}
	if _, err := after(t, s, "A", "a", 0); !errors.Is(err, mcp.ErrEventsPurged) {
		t.Errorf("After(a, 0) after the purge: %v, want purged", err)
	}
	if got, err := after(t, s, "A", "a", 1); err != nil || !slices.Equal(got, []string{"AAAA"}) {
		t.Errorf("After(a, 1) = %q, %v", got, err)
	}
	// Index -1 gets what is still held.
	if got, err := after(t, s, "A", "a", -1); err != nil || !slices.Equal(got, []string{"AAAA"}) {
		t.Errorf("After(a, -1) = %q, %v", got, err)
	}
	if got, err := after(t, s, "B", "b", 0); err != nil || !slices.Equal(got, []string{"bbbb"}) {
		t.Errorf("After(b, 0) = %q, %v", got, err)
	}
	// An event larger than the store is kept alone.
	appendAll(t, s, "B", "b", "a very long event")
	if got, want := s.Stats(), (Stats{Sessions: 2, Events: 1, Bytes: len("a very long event")}); got != want {
		t.Errorf("Stats = %+v, want %+v", got, want)
	}
	if got, err := after(t, s, "B", "b", 1); err != nil || !slices.Equal(got, []string{"a very long event"}) {
		t.Errorf("After(b, 1) = %q, %v", got, err)
	}
	if _, err := after(t, s, "B", "b", 0); !errors.Is(err, mcp.ErrEventsPurged) {
		t.Errorf("After(b, 0) after the purge: %v, want purged", err)
	}
	// Indices go on after the stream's events were all purged.
	appendAll(t, s, "A", "a", "next")
	if got, err := after(t, s, "A", "a", 2); err != nil || !slices.Equal(got, []string{"next"}) {
		t.Errorf("After(a, 2) = %q, %v", got, err)
	}
}

func TestSessionClosed(t *testing.T) {
	s := mustNew(t, 1<<20)
	ctx := context.Background()
	appendAll(t, s, "A", "init", "", "i")
	appendAll(t, s, "A", "a", "", "one", "two")
	appendAll(t, s, "B", "init", "", "i")
	appendAll(t, s, "B", "b", "", "three")
	if err := s.SessionClosed(ctx, "A"); err != nil {
		t.Fatal(err)
	}
	if err := s.SessionClosed(ctx, "never seen"); err != nil {
		t.Fatal(err)
	}
	if got, want := s.Stats(), (Stats{Sessions: 1, Events: 1, Bytes: len("three")}); got != want {
		t.Errorf("Stats = %+v, want %+v", got, want)
	}
	if _, err := after(t, s, "A", "a", 0); !errors.Is(err, mcp.ErrEventsPurged) {
		t.Errorf("After on a closed session: %v, want purged", err)
	}
	if got, err := after(t, s, "B", "b", 0); err != nil || !slices.Equal(got, []string{"three"}) {
		t.Errorf("After(b, 0) = %q, %v", got, err)
	}
}

// TestTheQueueDoesNotKeepClosedSessions: sessions that come and go in a
// store that never fills leave nothing behind.
func TestTheQueueDoesNotKeepClosedSessions(t *testing.T) {
	s := mustNew(t, 1<<20)
	ctx := context.Background()
	for i := range 10_000 {
		id := fmt.Sprint(i)
		appendAll(t, s, id, "init", "", "i")
		appendAll(t, s, id, "call", "", "result")
		if err := s.SessionClosed(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.Stats(); got != (Stats{}) {
		t.Errorf("Stats = %+v, want nothing", got)
	}
	if n := len(s.queue); n > 128 {
		t.Errorf("queue has %d entries after every session closed", n)
	}
}

func TestConcurrentUse(t *testing.T) {
	s := mustNew(t, 4<<10)
	ctx := context.Background()
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 200 {
				id := fmt.Sprintf("%d-%d", w, i%10)
				for _, e := range []struct{ stream, data string }{{"init", ""}, {"init", "i"}, {"call", ""}, {"call", "0123456789abcdef0123456789abcdef"}} {
					if err := s.Append(ctx, id, e.stream, []byte(e.data)); err != nil {
						t.Error(err)
					}
				}
				for d, err := range s.After(ctx, id, "call", 0) {
					// Empty events are the priming events of the
					// later rounds, kept for the indices.
					if err == nil && len(d) != 32 && len(d) != 0 {
						t.Errorf("event of %d bytes", len(d))
					}
				}
				if i%3 == 0 {
					_ = s.SessionClosed(ctx, id)
				}
			}
		})
	}
	wg.Wait()
	if st := s.Stats(); st.Bytes > 4<<10 || st.Bytes < 0 {
		t.Errorf("Stats = %+v, beyond the 4 KiB bound", st)
	}
}
