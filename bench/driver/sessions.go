package main

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// sessionResult is the memory of n idle stateful sessions on a fresh
// server process.
type sessionResult struct {
	Key          string  `json:"server"`
	Sessions     int     `json:"sessions"`
	Failed       int     `json:"failed"`
	Seconds      float64 `json:"seconds"`
	RSSBeforeKiB int     `json:"rss_before_kib"`
	RSSAfterKiB  int     `json:"rss_after_kib"`
}

// PerSessionKiB is the resident memory each session added.
func (r *sessionResult) PerSessionKiB() float64 {
	if r.Sessions == 0 {
		return 0
	}
	return float64(r.RSSAfterKiB-r.RSSBeforeKiB) / float64(r.Sessions)
}

// Rate is sessions opened per second.
func (r *sessionResult) Rate() float64 {
	if r.Seconds == 0 {
		return 0
	}
	return float64(r.Sessions) / r.Seconds
}

// measureSessions starts a fresh server, lets it settle, opens n sessions
// (initialize and notifications/initialized) from `workers` clients at
// once, lets it settle again and reads its resident memory before and
// after.
func measureSessions(ctx context.Context, e *env, s *spec, n, workers int) (*sessionResult, error) {
	srv, err := s.start(ctx, e, s)
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	w := newWire(srv.url, srv.token)
	w.client.Transport = &http.Transport{MaxIdleConnsPerHost: workers}
	// A few sessions first, so that code paths and pools are warm.
	for range 10 {
		if _, err := w.initialize(ctx); err != nil {
			return nil, fmt.Errorf("%s: %w", s.Key, err)
		}
	}
	time.Sleep(time.Second)
	res := &sessionResult{Key: s.Key}
	if res.RSSBeforeKiB, err = srv.rssKiB(); err != nil {
		return nil, err
	}
	var next, failed atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				if _, err := w.initialize(ctx); err != nil {
					failed.Add(1)
					once.Do(func() { firstErr = err })
				}
			}
		})
	}
	wg.Wait()
	res.Seconds = time.Since(start).Seconds()
	res.Failed = int(failed.Load())
	res.Sessions = n - res.Failed
	time.Sleep(2 * time.Second)
	if res.RSSAfterKiB, err = srv.rssKiB(); err != nil {
		return nil, err
	}
	if firstErr != nil {
		return res, fmt.Errorf("%s: %d of %d sessions failed, the first: %w", s.Key, res.Failed, n, firstErr)
	}
	return res, nil
}

// checkSessionExpiry starts atomcp with a short ATOMCP_SESSION_TIMEOUT and
// checks that an idle session is gone after it.
func checkSessionExpiry(ctx context.Context, e *env, s *spec, timeout time.Duration) error {
	ee := *e
	ee.atomcpEnv = append(append([]string{}, e.atomcpEnv...), "ATOMCP_SESSION_TIMEOUT="+timeout.String())
	srv, err := s.start(ctx, &ee, s)
	if err != nil {
		return err
	}
	defer srv.stop()
	w := newWire(srv.url, srv.token)
	sid, err := w.initialize(ctx)
	if err != nil {
		return err
	}
	if _, err := w.callTool(ctx, sid, srv.params); err != nil {
		return fmt.Errorf("a fresh session: %w", err)
	}
	time.Sleep(timeout + time.Second)
	resp, _, err := w.post(ctx, sid, map[string]any{"jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": srv.params})
	if resp != nil && resp.StatusCode == http.StatusNotFound {
		return nil
	}
	return fmt.Errorf("a session idle for %s still answers (%v)", timeout+time.Second, err)
}
