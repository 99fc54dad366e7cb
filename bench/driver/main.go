// Command driver runs atomcp's benchmark (bench/README.md,
// docs/performance.md): it builds and starts every server on loopback —
// atomcp (stateless and stateful, entity_tool read with a personal access
// token), the bare go-sdk echo server (with and without a JWT check), the
// TypeScript SDK echo server and the raw net/http ceiling — drives each
// with wrk and bench/wrk/toolcall.lua, checks that no request failed,
// reads resident memory, measures the memory of idle sessions, and prints
// one table with the ratios to atomcp.
//
//	go run ./bench/driver                 # make bench: 3 runs of 10 s each after a 3 s warm-up, 64 connections
//	go run ./bench/driver -smoke          # 2 s per server, only checks that every server answered without errors
//	go run ./bench/driver -servers atomcp-stateful,gosdk-stateful-jwt -runs 5
//
// Runs are interleaved (round-robin over the servers, all of which stay
// up), so that a noisy neighbour slows every server alike rather than one.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"
)

type options struct {
	duration    time.Duration
	warmup      time.Duration
	runs        int
	threads     int
	connections int
	timeout     time.Duration
	servers     string
	sessions    int
	smoke       bool
	jsonOut     string
	keep        bool
	atomcpEnv   stringList
}

type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, " ") }
func (l *stringList) Set(s string) error { *l = append(*l, s); return nil }

func main() {
	var o options
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "length of each measured run (whole seconds)")
	flag.DurationVar(&o.warmup, "warmup", 3*time.Second, "unmeasured warm-up run per server before the first round (0: none)")
	flag.IntVar(&o.runs, "runs", 3, "measured runs per server; the table shows their medians")
	flag.IntVar(&o.threads, "t", 2, "wrk threads (one stateful session each)")
	flag.IntVar(&o.connections, "c", 64, "wrk connections")
	flag.DurationVar(&o.timeout, "timeout", 10*time.Second, "wrk's request timeout (a timeout counts as an error)")
	flag.StringVar(&o.servers, "servers", "all", "comma-separated server keys (see -list), or all")
	flag.IntVar(&o.sessions, "sessions", 1000, "idle sessions to open for the memory-per-session measurement (0: skip)")
	flag.BoolVar(&o.smoke, "smoke", false, "smoke run: 2 s per server, 16 connections, no warm-up, no session measurement; fails only if a server did not answer or answered with errors")
	flag.StringVar(&o.jsonOut, "json", "", "also write every figure to this JSON file")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary directory (server logs, databases)")
	flag.Var(&o.atomcpEnv, "atomcp-env", "extra KEY=VALUE for atomcp (repeatable), e.g. ATOMCP_LOG_LEVEL=warn")
	list := flag.Bool("list", false, "list the server keys and exit")
	flag.Parse()
	if *list {
		for _, s := range specs() {
			fmt.Printf("%-22s %s %s, %s, %s\n", s.Key, s.Label, s.Mode, s.Auth, s.Tool)
		}
		return
	}
	if o.smoke {
		o.duration, o.runs, o.warmup, o.sessions = 2*time.Second, 1, 0, 0
		if !flagSet("c") {
			o.connections = 16
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func flagSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// report is everything one invocation measured.
type report struct {
	Date        time.Time        `json:"date"`
	Command     string           `json:"command"`
	Machine     machine          `json:"machine"`
	Settings    map[string]any   `json:"settings"`
	Rows        []*row           `json:"rows"`
	Sessions    []*sessionResult `json:"sessions,omitempty"`
	ExpiryCheck string           `json:"session_expiry_check,omitempty"`
	Failures    []string         `json:"failures,omitempty"`
}

type machine struct {
	Cores      int    `json:"cores"`
	CPU        string `json:"cpu"`
	LoadBefore string `json:"load_before"`
	LoadAfter  string `json:"load_after"`
	Go         string `json:"go"`
	Node       string `json:"node,omitempty"`
	Wrk        string `json:"wrk"`
}

// row is one server's figures.
type row struct {
	Key    string       `json:"server"`
	spec   *spec        //
	Runs   []*wrkResult `json:"runs"`
	Warmup *wrkResult   `json:"warmup,omitempty"`
	RPS    float64      `json:"rps_median"`
	P50US  int64        `json:"p50_us_median"`
	P99US  int64        `json:"p99_us_median"`
	Errors int64        `json:"errors"`
	RSSKiB int          `json:"rss_kib_after"`
}

func run(ctx context.Context, o options, out io.Writer) error {
	root, err := repoRoot()
	if err != nil {
		return err
	}
	if _, err := exec.LookPath("wrk"); err != nil {
		return errors.New("wrk is not installed: apt-get install -y wrk (Debian), or your system's package")
	}
	selected, err := selectSpecs(o.servers)
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "atomcp-bench-")
	if err != nil {
		return err
	}
	if o.keep {
		fmt.Fprintln(out, "temporary directory (kept):", work)
	} else {
		defer os.RemoveAll(work)
	}
	needTS := slices.ContainsFunc(selected, func(s *spec) bool { return strings.HasPrefix(s.Key, "ts-") })
	fmt.Fprintln(out, "building the servers…")
	e, err := newEnv(ctx, root, work, o.threads, needTS, o.atomcpEnv)
	if err != nil {
		return err
	}
	rep := &report{
		Date:    time.Now().UTC(),
		Command: strings.Join(append([]string{"go run ./bench/driver"}, os.Args[1:]...), " "),
		Machine: machine{Cores: runtime.NumCPU(), CPU: cpuModel(), LoadBefore: loadAvg(), Go: runtime.Version(), Wrk: wrkVersion()},
		Settings: map[string]any{"duration_s": o.duration.Seconds(), "warmup_s": o.warmup.Seconds(), "runs": o.runs,
			"threads": o.threads, "connections": o.connections, "timeout_s": o.timeout.Seconds(), "protocol": protocolVersion,
			"atomcp_env": []string(o.atomcpEnv)},
	}
	if needTS {
		rep.Machine.Node = firstLine(e.node, "--version")
	}

	// Start every server, then check each answers.
	var servers []*server
	defer func() {
		for _, s := range servers {
			s.stop()
		}
	}()
	for _, s := range selected {
		srv, err := s.start(ctx, e, s)
		if err != nil {
			return fmt.Errorf("start %s: %w", s.Key, err)
		}
		servers = append(servers, srv)
		if err := srv.prepare(ctx, o.threads); err != nil {
			return fmt.Errorf("%w (log: %s)", err, srv.logs)
		}
		fmt.Fprintf(out, "%-22s %s\n", s.Key, srv.url)
	}

	wo := wrkOptions{threads: o.threads, connections: o.connections, timeout: o.timeout}
	rows := make([]*row, len(servers))
	for i, srv := range servers {
		rows[i] = &row{Key: srv.spec.Key, spec: srv.spec}
	}
	if o.warmup > 0 {
		for i, srv := range servers {
			fmt.Fprintf(out, "warm-up %-22s ", srv.spec.Key)
			r, err := runWrk(ctx, root, srv, wo, o.warmup)
			if err != nil {
				return err
			}
			rows[i].Warmup = r
			fmt.Fprintf(out, "%8.0f req/s, %d errors\n", r.RPS(), r.Errors())
			if r.Errors() > 0 {
				rep.Failures = append(rep.Failures, fmt.Sprintf("%s: %d errors in the warm-up; first: %s", srv.spec.Key, r.Errors(), r.FirstError))
			}
		}
	}
	for round := range o.runs {
		for k := range servers {
			i := (k + round) % len(servers) // a different server goes first in every round
			srv := servers[i]
			r, err := runWrk(ctx, root, srv, wo, o.duration)
			if err != nil {
				return err
			}
			rows[i].Runs = append(rows[i].Runs, r)
			fmt.Fprintf(out, "run %d/%d %-22s %8.0f req/s  p50 %6.2f ms  p99 %7.2f ms  %d errors\n", round+1, o.runs, srv.spec.Key,
				r.RPS(), ms(r.P50US), ms(r.P99US), r.Errors())
			if r.Errors() > 0 {
				rep.Failures = append(rep.Failures, fmt.Sprintf("%s: %d errors in run %d; first: %s", srv.spec.Key, r.Errors(), round+1, r.FirstError))
			}
			if r.Requests == 0 {
				rep.Failures = append(rep.Failures, fmt.Sprintf("%s: no request answered in run %d", srv.spec.Key, round+1))
			}
		}
	}
	for i, srv := range servers {
		rows[i].summarize()
		if rows[i].RSSKiB, err = srv.rssKiB(); err != nil {
			return err
		}
	}
	for _, s := range servers {
		s.stop()
	}
	servers = nil
	rep.Rows = rows
	rep.Machine.LoadAfter = loadAvg()

	if o.sessions > 0 {
		for _, s := range selected {
			if !s.Stateful || !(s.jwt() || strings.HasPrefix(s.Key, "atomcp")) {
				continue
			}
			fmt.Fprintf(out, "sessions %-22s opening %d…\n", s.Key, o.sessions)
			r, err := measureSessions(ctx, e, s, o.sessions, 16)
			if err != nil {
				rep.Failures = append(rep.Failures, err.Error())
			}
			if r != nil {
				rep.Sessions = append(rep.Sessions, r)
			}
		}
		for _, s := range selected {
			if s.Key == "atomcp-stateful" {
				if err := checkSessionExpiry(ctx, e, s, 2*time.Second); err != nil {
					rep.ExpiryCheck = "FAILED: " + err.Error()
					rep.Failures = append(rep.Failures, "session expiry: "+err.Error())
				} else {
					rep.ExpiryCheck = "an idle session is gone after ATOMCP_SESSION_TIMEOUT=2s (404 on its next request)"
				}
			}
		}
	}

	printReport(out, rep, o.smoke)
	if o.jsonOut != "" {
		b, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(o.jsonOut, b, 0o644); err != nil {
			return err
		}
	}
	if len(rep.Failures) > 0 {
		return fmt.Errorf("%d failures:\n  %s", len(rep.Failures), strings.Join(rep.Failures, "\n  "))
	}
	return nil
}

func selectSpecs(list string) ([]*spec, error) {
	all := specs()
	if list == "" || list == "all" {
		return all, nil
	}
	var out []*spec
	for _, key := range strings.Split(list, ",") {
		key = strings.TrimSpace(key)
		i := slices.IndexFunc(all, func(s *spec) bool { return s.Key == key })
		if i < 0 {
			return nil, fmt.Errorf("no server %q; see -list", key)
		}
		out = append(out, all[i])
	}
	return out, nil
}

// summarize takes the medians of the measured runs.
func (r *row) summarize() {
	var rps []float64
	var p50, p99 []int64
	for _, x := range r.Runs {
		rps = append(rps, x.RPS())
		p50 = append(p50, x.P50US)
		p99 = append(p99, x.P99US)
		r.Errors += x.Errors()
	}
	r.RPS, r.P50US, r.P99US = median(rps), median(p50), median(p99)
}

// median of the values (the lower middle one for an even count).
func median[T int64 | float64](v []T) T {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[(len(s)-1)/2]
}

func ms(us int64) float64 { return float64(us) / 1000 }

// repoRoot is the directory of go.mod, from the working directory up.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.Contains(string(b), "module github.com/atomcp/atomcp\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run the benchmark inside the atomcp repository (make bench)")
		}
		dir = parent
	}
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "model name"); ok {
			return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
		}
	}
	return runtime.GOARCH
}

func loadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

func firstLine(name string, args ...string) string {
	b, _ := exec.Command(name, args...).CombinedOutput()
	line, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	return strings.TrimSpace(line)
}

func wrkVersion() string {
	v, _, _ := strings.Cut(firstLine("wrk", "-v"), " [")
	return v
}
