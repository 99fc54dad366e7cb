// Command soak is atomcp's soak run (`make soak`, docs/performance.md):
// it starts `atomcp serve` replicas — three on one throwaway PostgreSQL
// database, then, separately, one on SQLite — and drives each set with
// go-sdk MCP clients over Streamable HTTP: workers open a session, make
// their share of entity_tool calls (reads by default four in five, the
// rest creates and updates of requirements in the demo organization's
// documents), close it and open the next. It fails on any error, on
// memory that grew more than -rss-tolerance between the end of the warm-up
// and the end (VmRSS on PostgreSQL; on SQLite RssAnon less SQLite's page
// cache, -sqlite-rss-tolerance), on goroutines (go_goroutines of each
// replica's /metrics) that grew by more than -goroutine-slack, and on
// sessions still open at the end.
//
//	go run ./bench/soak                                   # make soak: 10,000 sessions, 1,000,000 calls per backend
//	go run ./bench/soak -sessions 500 -calls 20000        # the short variant (scripts/test.sh stage soak_short)
//	go run ./bench/soak -backends sqlite -workers 16
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

type options struct {
	backends       string
	replicas       int
	sessions       int
	calls          int
	workers        int
	writes         float64
	warmup         float64
	rssTolerance   float64
	sqliteRSS      float64
	goroutineSlack int
	postgres       string
	logLevel       string
	sse            bool
	keep           bool
	jsonOut        string
	maxDuration    time.Duration
	countsOut      string
	pgOptional     bool
}

func main() {
	var o options
	flag.StringVar(&o.backends, "backends", "postgres,sqlite", "comma-separated: postgres (-replicas replicas on one database), sqlite (one replica); each gets the full -sessions and -calls")
	flag.IntVar(&o.replicas, "replicas", 3, "replicas on PostgreSQL")
	flag.IntVar(&o.sessions, "sessions", 10000, "sessions to open and close per backend")
	flag.IntVar(&o.calls, "calls", 1000000, "tool calls per backend, spread evenly over the sessions")
	flag.IntVar(&o.workers, "workers", 48, "concurrent clients, each with one session open at a time")
	flag.Float64Var(&o.writes, "writes", 0.2, "share of the calls that write (creates and updates of requirements); the rest read")
	flag.Float64Var(&o.warmup, "warmup", 0.1, "share of the sessions (and so of the calls) before the warm-up measurement; they count in the totals")
	flag.Float64Var(&o.rssTolerance, "rss-tolerance", 0.10, "largest allowed growth of a PostgreSQL replica's VmRSS from the end of the warm-up to the end")
	flag.Float64Var(&o.sqliteRSS, "sqlite-rss-tolerance", -1, "largest allowed growth of the SQLite replica's RssAnon less its page cache (atomcp_store_sqlite_page_cache_bytes) from the end of the warm-up to the end (default: -rss-tolerance); its VmRSS follows the database's growth (page cache, memory map) and is not the criterion")
	flag.IntVar(&o.goroutineSlack, "goroutine-slack", 5, "largest allowed growth of a replica's go_goroutines from the end of the warm-up to the end, both measured idle")
	flag.StringVar(&o.postgres, "postgres", defaultPostgres(), "PostgreSQL server URL of a user that may CREATE DATABASE (a throwaway database atomcp_soak_… is created and dropped); default ATOMCP_TEST_POSTGRES_URL or postgres on 127.0.0.1:5432")
	flag.StringVar(&o.logLevel, "log-level", "warn", "ATOMCP_LOG_LEVEL of the replicas (info logs every request: a full soak would write gigabytes)")
	flag.BoolVar(&o.sse, "sse", true, "clients open the standalone SSE stream (GET) after initialize, as go-sdk clients do by default")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary directory (server logs, SQLite database) and the PostgreSQL database")
	flag.StringVar(&o.jsonOut, "json", "", "also write the figures to this JSON file")
	flag.StringVar(&o.countsOut, "counts", "", "write \"PASSED FAILED SKIPPED\" (backends that met every target, that did not, that were skipped) to this file, for scripts/test.sh")
	flag.BoolVar(&o.pgOptional, "postgres-optional", false, "skip the postgres backend when no PostgreSQL server answers, unless CI is set (as make test's PostgreSQL tests do)")
	flag.DurationVar(&o.maxDuration, "max-duration", 0, "per backend: stop opening sessions after this long (0: no limit), finish the open ones and measure; a soak cut short fails, with the figures of what ran")
	flag.Parse()
	if err := o.check(); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

func defaultPostgres() string {
	if u := os.Getenv("ATOMCP_TEST_POSTGRES_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

func (o *options) check() error {
	for _, b := range o.backendList() {
		if b != "postgres" && b != "sqlite" {
			return fmt.Errorf("-backends: %q is not a backend (accepted: postgres, sqlite)", b)
		}
	}
	switch {
	case len(o.backendList()) == 0:
		return errors.New("-backends: name at least one of postgres, sqlite")
	case o.replicas < 1:
		return fmt.Errorf("-replicas %d: at least 1", o.replicas)
	case o.sessions < 1 || o.calls < 0:
		return fmt.Errorf("-sessions %d -calls %d: at least one session and no negative calls", o.sessions, o.calls)
	case o.workers < 1:
		return fmt.Errorf("-workers %d: at least 1", o.workers)
	case o.writes < 0 || o.writes > 1:
		return fmt.Errorf("-writes %g: a share from 0 to 1", o.writes)
	case o.warmup <= 0 || o.warmup >= 1:
		return fmt.Errorf("-warmup %g: a share above 0 and below 1", o.warmup)
	case o.rssTolerance < 0 || o.goroutineSlack < 0:
		return errors.New("-rss-tolerance and -goroutine-slack may not be negative")
	}
	if o.sqliteRSS < 0 {
		o.sqliteRSS = o.rssTolerance
	}
	return nil
}

func (o *options) backendList() []string {
	var out []string
	for _, b := range strings.Split(o.backends, ",") {
		if b = strings.TrimSpace(b); b != "" {
			out = append(out, b)
		}
	}
	return out
}

// report is everything one invocation measured.
type report struct {
	Date     time.Time      `json:"date"`
	Command  string         `json:"command"`
	Cores    int            `json:"cores"`
	Load     [2]string      `json:"load_before_after"`
	Settings map[string]any `json:"settings"`
	Runs     []*result      `json:"runs"`
	Failures []string       `json:"failures,omitempty"`
	Skipped  []string       `json:"skipped,omitempty"`
}

func run(ctx context.Context, o options, out io.Writer) error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "atomcp-soak-")
	if err != nil {
		return err
	}
	if o.keep {
		fmt.Fprintln(out, "keeping", work)
	} else {
		defer os.RemoveAll(work)
	}
	rep := &report{Date: time.Now().UTC(), Command: strings.Join(os.Args, " "), Cores: runtime.NumCPU(),
		Settings: map[string]any{"backends": o.backends, "replicas": o.replicas, "sessions": o.sessions, "calls": o.calls,
			"workers": o.workers, "writes": o.writes, "warmup": o.warmup, "rss_tolerance": o.rssTolerance, "sqlite_rss_tolerance": o.sqliteRSS,
			"goroutine_slack": o.goroutineSlack, "log_level": o.logLevel, "sse": o.sse, "max_duration": o.maxDuration.String()}}
	rep.Load[0] = loadAvg()
	fmt.Fprintf(out, "soak: %d sessions, %d tool calls (%.0f%% writes) per backend, %d workers; load %s\n",
		o.sessions, o.calls, o.writes*100, o.workers, rep.Load[0])
	fmt.Fprintln(out, "building atomcp…")
	bin, err := buildAtomcp(ctx, root, work)
	if err != nil {
		return err
	}
	for _, b := range o.backendList() {
		res, err := soakBackend(ctx, o, b, bin, filepath.Join(work, b), out)
		if errors.Is(err, errNoPostgres) && o.pgOptional && os.Getenv("CI") == "" {
			rep.Skipped = append(rep.Skipped, b)
			fmt.Fprintf(out, "%s: skipped: %v\n", b, err)
			continue
		}
		if err != nil {
			rep.Failures = append(rep.Failures, fmt.Sprintf("%s: %v", b, err))
			fmt.Fprintf(out, "%s: %v\n", b, err)
		}
		if res != nil {
			rep.Runs = append(rep.Runs, res)
			rep.Failures = append(rep.Failures, res.failures(o)...)
		}
		if ctx.Err() != nil {
			break
		}
	}
	rep.Load[1] = loadAvg()
	printTable(out, rep)
	if o.jsonOut != "" {
		b, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(o.jsonOut, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	if o.countsOut != "" {
		if err := os.WriteFile(o.countsOut, []byte(backendCounts(o, rep)), 0o644); err != nil {
			return err
		}
	}
	if len(rep.Failures) > 0 {
		fmt.Fprintln(out, "FAILURES:")
		for _, f := range rep.Failures {
			fmt.Fprintln(out, "  "+f)
		}
		return fmt.Errorf("%d target(s) missed", len(rep.Failures))
	}
	skipped := ""
	if len(rep.Skipped) > 0 {
		skipped = " (skipped: " + strings.Join(rep.Skipped, ", ") + ")"
	}
	fmt.Fprintln(out, "PASS: no errors, memory flat, no goroutine growth, every session closed"+skipped)
	return nil
}

// backendCounts is "PASSED FAILED SKIPPED": the backends of o that ran
// and met every target, those that did not (or did not run), and those
// skipped for want of a PostgreSQL server.
func backendCounts(o options, rep *report) string {
	passed := 0
	for _, r := range rep.Runs {
		if len(r.failures(o)) == 0 {
			passed++
		}
	}
	return fmt.Sprintf("%d %d %d\n", passed, len(o.backendList())-passed-len(rep.Skipped), len(rep.Skipped))
}

// moduleRoot is the directory of go.mod above the working directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run the soak inside the atomcp module (no go.mod above the working directory)")
		}
		dir = parent
	}
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
