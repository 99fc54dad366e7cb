package storetest

import (
	"sync"
	"testing"
	"time"
)

var rateLimitTests = []test{
	{"counts per key and window, concurrently, and prunes old windows", func(t *testing.T, f *fixture) {
		w1 := time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)
		w2 := w1.Add(time.Minute)
		old := w1.Add(-time.Hour)
		if n, err := f.s.HitRateLimit(f.ctx, "register:10.0.0.1", old, old.Add(-time.Hour)); err != nil || n != 1 {
			t.Fatalf("first hit = %d, %v", n, err)
		}
		var wg sync.WaitGroup
		for range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := f.s.HitRateLimit(f.ctx, "register:10.0.0.1", w1, old.Add(-time.Hour)); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if n, err := f.s.HitRateLimit(f.ctx, "register:10.0.0.1", w1, old.Add(-time.Hour)); err != nil || n != 11 {
			t.Fatalf("after 10 concurrent hits, the 11th = %d, %v", n, err)
		}
		if n, _ := f.s.HitRateLimit(f.ctx, "register:10.0.0.2", w1, old.Add(-time.Hour)); n != 1 {
			t.Fatalf("another key shares the count: %d", n)
		}
		if n, _ := f.s.HitRateLimit(f.ctx, "register:10.0.0.1", w2, old.Add(-time.Hour)); n != 1 {
			t.Fatalf("a new window shares the count: %d", n)
		}
		// Pruning the old window starts it afresh.
		if n, _ := f.s.HitRateLimit(f.ctx, "register:10.0.0.1", old, w1); n != 1 {
			t.Fatalf("the pruned window still counts: %d", n)
		}
	}},
}
