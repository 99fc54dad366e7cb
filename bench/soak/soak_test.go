package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atomcp/atomcp/bench/benchkit"
)

func TestCallsFor(t *testing.T) {
	for _, c := range []struct{ sessions, calls int }{{1, 0}, {3, 10}, {500, 20000}, {7, 3}, {10000, 1000000}} {
		sum, lo, hi := 0, c.calls, 0
		for i := range c.sessions {
			n := callsFor(i, c.sessions, c.calls)
			sum += n
			lo, hi = min(lo, n), max(hi, n)
		}
		if sum != c.calls || hi-lo > 1 {
			t.Errorf("%d sessions, %d calls: sum %d, shares from %d to %d", c.sessions, c.calls, sum, lo, hi)
		}
	}
}

func TestParseMetrics(t *testing.T) {
	text := "# HELP go_goroutines Number of goroutines.\n# TYPE go_goroutines gauge\ngo_goroutines 17\n" +
		"go_goroutines_other 99\natomcp_mcp_sessions_active 3\ngo_memstats_heap_inuse_bytes 1.2e+07\natomcp_store_sqlite_page_cache_bytes 4.5e+06\n"
	m, err := parseMetrics(strings.NewReader(text))
	if err != nil || m.goroutines != 17 || m.sessions != 3 || m.heapInuse != 12e6 || m.pageCache != 4.5e6 {
		t.Fatalf("got %+v, %v", m, err)
	}
	if _, err := parseMetrics(strings.NewReader("go_goroutines 17\n")); err == nil {
		t.Error("no error without atomcp_mcp_sessions_active")
	}
	if _, err := parseMetrics(strings.NewReader("go_goroutines many\natomcp_mcp_sessions_active 0\n")); err == nil {
		t.Error("no error for a value that is not a number")
	}
}

func TestFailures(t *testing.T) {
	o := options{sessions: 10, calls: 100, rssTolerance: 0.10, sqliteRSS: 0.10, goroutineSlack: 5}
	good := func() *result {
		return &result{Backend: "sqlite", Sessions: 10, Calls: 100, Replicas: []*replicaResult{{Name: "sqlite-1",
			Warm: idle{Goroutines: 14, PageCache: 200, Memory: benchkit.Memory{RSS: 1500, Anon: 1200}},
			End:  idle{Goroutines: 19, PageCache: 700, Memory: benchkit.Memory{RSS: 2500, Anon: 1800}}}}}
	}
	if f := good().failures(o); len(f) != 0 {
		t.Fatalf("a soak within every target failed: %v", f)
	}
	for name, c := range map[string]struct {
		spoil func(*result)
		want  string
	}{
		"error": {func(r *result) { r.Errors, r.FirstErrors = 1, []string{"sqlite-1 read: boom"} }, "boom"},
		"short": {func(r *result) { r.Calls = 99 }, "99 of 100 calls"},
		// RssAnon less the page cache: 1000 KiB warm, 1101 at the end.
		"memory":       {func(r *result) { r.Replicas[0].End.Memory.Anon = 1801 }, "page cache grew 10.1%"},
		"page cache":   {func(r *result) { r.Replicas[0].End.PageCache = 699 }, "page cache grew 10.1%"},
		"postgres RSS": {func(r *result) { r.Backend, r.Replicas[0].End.Memory.RSS = "postgres", 1651 }, "VmRSS grew 10.1%"},
		"goroutines":   {func(r *result) { r.Replicas[0].End.Goroutines = 20 }, "goroutines grew from 14 to 20"},
		"sessions":     {func(r *result) { r.Replicas[0].End.Sessions = 2 }, "2 sessions still open"},
		"exited":       {func(r *result) { r.Replicas[0].Exited = true }, "exited"},
		"log":          {func(r *result) { r.Replicas[0].LogErrors = 1 }, "ERROR lines"},
		"aborted":      {func(r *result) { r.Aborted = "stopped by -max-duration 1m0s" }, "max-duration"},
	} {
		r := good()
		c.spoil(r)
		f := r.failures(o)
		if len(f) != 1 || !strings.Contains(f[0], c.want) || !strings.HasPrefix(f[0], r.Backend+": ") {
			t.Errorf("%s: got %q, want one failure with %q", name, f, c.want)
		}
	}
	loose := o
	loose.sqliteRSS = 0.5
	r := good()
	r.Replicas[0].End.Memory.Anon = 2100 // held 1000 → 1400 KiB
	if f := r.failures(loose); len(f) != 0 {
		t.Errorf("-sqlite-rss-tolerance 0.5 refused 40%% growth: %v", f)
	}
	r = good()
	r.Backend = "postgres"
	r.Replicas[0].End.Memory.RSS = 2000 // +33 %
	if f := r.failures(loose); len(f) != 1 {
		t.Errorf("-sqlite-rss-tolerance applied to postgres: %v", f)
	}
	rep := &report{Runs: []*result{good()}}
	if got := backendCounts(options{backends: "postgres,sqlite", sessions: 10, calls: 100, rssTolerance: 0.1, sqliteRSS: 0.1, goroutineSlack: 5}, rep); got != "1 1 0\n" {
		t.Errorf("one backend passed, one did not run: counts %q", got)
	}
	rep.Skipped = []string{"postgres"}
	if got := backendCounts(options{backends: "postgres,sqlite", sessions: 10, calls: 100, rssTolerance: 0.1, sqliteRSS: 0.1, goroutineSlack: 5}, rep); got != "1 0 1\n" {
		t.Errorf("one backend passed, one skipped: counts %q", got)
	}
}

func TestOptionsCheck(t *testing.T) {
	ok := options{backends: "postgres, sqlite", replicas: 3, sessions: 10, calls: 100, workers: 2, writes: 0.2, warmup: 0.1, rssTolerance: 0.1}
	ok.sqliteRSS = -1
	if err := ok.check(); err != nil || ok.sqliteRSS != 0.1 {
		t.Fatalf("%v, -sqlite-rss-tolerance %g (want -rss-tolerance's 0.1)", err, ok.sqliteRSS)
	}
	for _, spoil := range []func(*options){
		func(o *options) { o.backends = "mysql" },
		func(o *options) { o.backends = " , " },
		func(o *options) { o.workers = 0 },
		func(o *options) { o.writes = 1.5 },
		func(o *options) { o.warmup = 1 },
		func(o *options) { o.sessions = 0 },
	} {
		o := ok
		spoil(&o)
		if err := o.check(); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
}

// pinned sends to the replica's address with the public Host and the token.
func TestPinned(t *testing.T) {
	var host, authz string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, authz = r.Host, r.Header.Get("Authorization")
	}))
	defer srv.Close()
	hc := &http.Client{Transport: &pinned{addr: srv.Listener.Addr().String(), token: "t0k", base: http.DefaultTransport}}
	resp, err := hc.Get(publicURL + "/api/mcp")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if host != "atoms.localhost" || authz != "Bearer t0k" {
		t.Errorf("Host %q, Authorization %q", host, authz)
	}
}

func TestLogProblems(t *testing.T) {
	p := filepath.Join(t.TempDir(), "server.log")
	log := `{"level":"INFO","msg":"up"}` + "\n" + `{"level":"WARN","msg":"slow"}` + "\n" + `{"level":"ERROR","msg":"bad"}` + "\n"
	if err := os.WriteFile(p, []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	warn, errs, first := logProblems(p, 1)
	if warn != 1 || errs != 1 || len(first) != 1 || !strings.Contains(first[0], "slow") {
		t.Errorf("warn %d, errors %d, first %q", warn, errs, first)
	}
}
