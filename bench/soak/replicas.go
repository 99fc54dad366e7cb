package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/atomcp/atomcp/bench/benchkit"
)

// publicURL is the base URL every replica is configured with (the issuer
// and audience of the token); requests reach a replica at its own address
// with this Host, as through a load balancer.
const publicURL = "http://atoms.localhost"

func buildAtomcp(ctx context.Context, root, work string) (string, error) {
	return benchkit.BuildAtomcp(ctx, root, filepath.Join(work, "bin"))
}

// replica is one running `atomcp serve`.
type replica struct {
	name    string
	addr    string // host:port of the MCP listener
	metrics string // URL of its /metrics
	proc    *benchkit.Proc
	hc      *http.Client
	tr      *http.Transport
}

// pinned sends every request to one replica's address, keeping the public
// Host, with the bearer token: a sticky load balancer in the client.
type pinned struct {
	addr, token string
	base        http.RoundTripper
}

func (p *pinned) RoundTrip(req *http.Request) (*http.Response, error) {
	out := req.Clone(req.Context())
	out.URL.Host = p.addr
	out.Host = req.URL.Host
	out.Header.Set("Authorization", "Bearer "+p.token)
	return p.base.RoundTrip(out)
}

// errNoPostgres is the PostgreSQL server not answering.
var errNoPostgres = errors.New("no PostgreSQL server answers")

// database creates what a backend's replicas share: a throwaway
// PostgreSQL database or a SQLite file, and returns its URL and a function
// that removes it.
func database(ctx context.Context, o options, backend, dir string) (string, func(), error) {
	if backend == "sqlite" {
		return "sqlite://" + filepath.Join(dir, "atomcp.db"), func() {}, nil
	}
	cfg, err := pgx.ParseConfig(o.postgres)
	if err != nil {
		return "", nil, fmt.Errorf("-postgres: %v", err)
	}
	cfg.ConnectTimeout = 5 * time.Second
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return "", nil, fmt.Errorf("%w at %s:%d: %v", errNoPostgres, cfg.Host, cfg.Port, err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "atomcp_soak_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		conn.Close(ctx)
		return "", nil, err
	}
	drop := func() {
		c := context.Background()
		if o.keep {
			fmt.Printf("keeping PostgreSQL database %s\n", name)
		} else if _, err := conn.Exec(c, "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			fmt.Fprintf(os.Stderr, "soak: drop %s: %v\n", name, err)
		}
		conn.Close(c)
	}
	u, err := url.Parse(o.postgres)
	if err != nil || u.Scheme == "" {
		drop()
		return "", nil, fmt.Errorf("-postgres must be a postgres:// URL")
	}
	u.Path = "/" + name
	return u.String(), drop, nil
}

// commonEnv is the environment of every replica of a backend and of the
// admin commands that prepare its database.
func commonEnv(o options, dbURL string) []string {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	env := append(benchkit.CleanEnviron(),
		"ATOMCP_DATABASE_URL="+dbURL,
		"ATOMCP_AUTH=embedded",
		"ATOMCP_BASE_URL="+publicURL,
		"ATOMCP_LOG_FORMAT=json",
		"ATOMCP_LOG_LEVEL="+o.logLevel,
		// With PostgreSQL there is no file beside the database to generate
		// the key that seals the signing keys into: the replicas share it.
		"ATOMCP_SECRET_KEY="+base64.StdEncoding.EncodeToString(key),
	)
	return append(env, benchkit.HighRateEnv...)
}

// startReplica starts `atomcp serve` in dir with its own MCP and metrics
// ports.
func startReplica(ctx context.Context, o options, name, bin, dir string, env []string, token string) (*replica, error) {
	port, err := benchkit.FreePort()
	if err != nil {
		return nil, err
	}
	mport, err := benchkit.FreePort()
	if err != nil {
		return nil, err
	}
	r := &replica{name: name, addr: "127.0.0.1:" + strconv.Itoa(port), metrics: "http://127.0.0.1:" + strconv.Itoa(mport) + "/metrics"}
	env = append(append([]string{}, env...), "ATOMCP_ADDR="+r.addr, "ATOMCP_METRICS_ADDR=127.0.0.1:"+strconv.Itoa(mport))
	// The replicas log warnings only: ready is when /readyz says so.
	ready := func([]byte) (string, bool) {
		resp, err := http.Get("http://" + r.addr + "/readyz")
		if err != nil {
			return "", false
		}
		resp.Body.Close()
		return publicURL + "/api/mcp", resp.StatusCode == http.StatusOK
	}
	if r.proc, err = benchkit.StartWhen(ctx, dir, env, nil, ready, bin, "serve"); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	// Two connections per open session (the POSTs and the standalone SSE
	// stream), all kept for reuse.
	r.tr = &http.Transport{MaxIdleConns: 4 * o.workers, MaxIdleConnsPerHost: 4 * o.workers, IdleConnTimeout: 90 * time.Second}
	r.hc = &http.Client{Transport: &pinned{addr: r.addr, token: token, base: r.tr}}
	return r, nil
}

// idle is what a replica looks like with no session open and no client
// connection left: its goroutines (once they stopped changing), open
// sessions and memory.
type idle struct {
	Goroutines int             `json:"goroutines"`
	HeapInuse  int             `json:"go_heap_inuse_kib"`     // go_memstats_heap_inuse_bytes: the Go heap, without SQLite's page cache (modernc's allocator is outside it)
	PageCache  int             `json:"sqlite_page_cache_kib"` // atomcp_store_sqlite_page_cache_bytes: SQLite's page cache, in RssAnon; 0 on PostgreSQL
	Sessions   int             `json:"sessions_active"`
	Memory     benchkit.Memory `json:"memory_kib"`
}

// settle closes the client's idle connections to the replica and waits,
// up to 30 s, until its go_goroutines and VmRSS (which falls for a while
// as the Go runtime returns freed memory) read the same, VmRSS within
// 0.5 %, three seconds in a row.
func (r *replica) settle(ctx context.Context) (idle, error) {
	r.tr.CloseIdleConnections()
	var last idle
	same := 0
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline) && same < 3; {
		select {
		case <-ctx.Done():
			return idle{}, ctx.Err()
		case <-time.After(time.Second):
		}
		m, err := r.scrape(ctx)
		if err != nil {
			return idle{}, err
		}
		mem, err := benchkit.ReadMemory(r.proc.Pid())
		if err != nil {
			return idle{}, err
		}
		now := idle{Goroutines: m.goroutines, HeapInuse: int(m.heapInuse / 1024), PageCache: int(m.pageCache / 1024), Sessions: m.sessions, Memory: mem}
		if now.Goroutines == last.Goroutines && abs(now.Memory.RSS-last.Memory.RSS)*200 <= last.Memory.RSS {
			same++
		} else {
			same = 1
		}
		last = now
	}
	return last, nil
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// metrics are the figures read from a replica's /metrics.
type metrics struct {
	goroutines int
	sessions   int
	heapInuse  float64 // bytes; 0 when not exported
	pageCache  float64 // bytes of atomcp_store_sqlite_page_cache_bytes; 0 when not exported (PostgreSQL)
}

func (r *replica) scrape(ctx context.Context) (metrics, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.metrics, nil)
	if err != nil {
		return metrics{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return metrics{}, fmt.Errorf("%s /metrics: %w", r.name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return metrics{}, fmt.Errorf("%s /metrics: HTTP %d", r.name, resp.StatusCode)
	}
	return parseMetrics(resp.Body)
}

// parseMetrics reads go_goroutines and atomcp_mcp_sessions_active (both
// must be there), go_memstats_heap_inuse_bytes and
// atomcp_store_sqlite_page_cache_bytes from the Prometheus text format.
func parseMetrics(body io.Reader) (metrics, error) {
	var m metrics
	found := map[string]bool{}
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok || (name != "go_goroutines" && name != "atomcp_mcp_sessions_active" && name != "go_memstats_heap_inuse_bytes" && name != "atomcp_store_sqlite_page_cache_bytes") {
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			return m, fmt.Errorf("metrics: %s has the value %q", name, value)
		}
		found[name] = true
		switch name {
		case "go_goroutines":
			m.goroutines = int(f)
		case "atomcp_mcp_sessions_active":
			m.sessions = int(f)
		case "atomcp_store_sqlite_page_cache_bytes":
			m.pageCache = f
		default:
			m.heapInuse = f
		}
	}
	if err := sc.Err(); err != nil {
		return m, err
	}
	if !found["go_goroutines"] || !found["atomcp_mcp_sessions_active"] {
		return m, fmt.Errorf("metrics: go_goroutines or atomcp_mcp_sessions_active is missing")
	}
	return m, nil
}

// logProblems counts the lines of level WARN and ERROR in a replica's log
// and returns the first few.
func logProblems(path string, keep int) (warn, errs int, first []string) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, []string{err.Error()}
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.Contains(line, `"level":"ERROR"`):
			errs++
		case strings.Contains(line, `"level":"WARN"`):
			warn++
		default:
			continue
		}
		if len(first) < keep {
			first = append(first, benchkit.Tail([]byte(line), 1))
		}
	}
	return warn, errs, first
}
