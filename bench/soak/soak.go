package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/atomcp/atomcp/bench/benchkit"
)

// result is one backend's soak.
type result struct {
	Backend     string           `json:"backend"`
	Sessions    int              `json:"sessions"` // opened, used and closed without an error
	Calls       int              `json:"calls"`    // answered without an error
	Reads       int              `json:"reads"`
	Creates     int              `json:"creates"`
	Updates     int              `json:"updates"`
	Errors      int              `json:"errors"`
	FirstErrors []string         `json:"first_errors,omitempty"`
	Seconds     float64          `json:"seconds"` // both phases, without the pauses to measure
	Replicas    []*replicaResult `json:"replicas"`
	Aborted     string           `json:"aborted,omitempty"`
}

// Rate is tool calls per second.
func (r *result) Rate() float64 {
	if r.Seconds == 0 {
		return 0
	}
	return float64(r.Calls) / r.Seconds
}

// replicaResult is one replica's figures.
type replicaResult struct {
	Name       string   `json:"name"`
	Sessions   int      `json:"sessions"`
	Calls      int      `json:"calls"`
	Warm       idle     `json:"warm"`
	End        idle     `json:"end"`
	PeakRSS    int      `json:"peak_rss_kib"`
	LogWarn    int      `json:"log_warn"`
	LogErrors  int      `json:"log_errors"`
	LogFirst   []string `json:"log_first,omitempty"`
	Exited     bool     `json:"exited"`
	sessions   atomic.Int64
	calls      atomic.Int64
	peak       atomic.Int64
	replicaRef *replica
}

// Growth is the change of VmRSS from warm to end, as a share of warm.
func (r *replicaResult) Growth() float64 {
	return growth(r.Warm.Memory.RSS, r.End.Memory.RSS)
}

// Held is the memory of a replica that neither maps a file nor caches
// database pages, in KiB: RssAnon less SQLite's page cache
// (atomcp_store_sqlite_page_cache_bytes; 0 on PostgreSQL). It is what a
// leak in the Go heap or in SQLite outside its page cache (statements,
// connections) makes grow; the page cache grows with the database up to
// cache_size per connection and the memory-mapped file (RssFile) up to
// mmap_size, both bounded.
func (s idle) Held() int { return s.Memory.Anon - s.PageCache }

// HeldGrowth is the change of Held from warm to end, as a share of warm.
func (r *replicaResult) HeldGrowth() float64 { return growth(r.Warm.Held(), r.End.Held()) }

func growth(warm, end int) float64 {
	if warm <= 0 {
		return 0
	}
	return float64(end-warm) / float64(warm)
}

// failures are the targets res missed.
func (res *result) failures(o options) []string {
	var f []string
	add := func(format string, args ...any) { f = append(f, res.Backend+": "+fmt.Sprintf(format, args...)) }
	if res.Aborted != "" {
		add("aborted: %s", res.Aborted)
	}
	if res.Errors > 0 {
		add("%d errors; the first: %s", res.Errors, strings.Join(res.FirstErrors, " | "))
	}
	if res.Sessions != o.sessions || res.Calls != o.calls {
		add("%d of %d sessions and %d of %d calls completed", res.Sessions, o.sessions, res.Calls, o.calls)
	}
	for _, r := range res.Replicas {
		if r.Exited {
			add("%s exited during the soak (log: %s)", r.Name, strings.Join(r.LogFirst, " | "))
		}
		if res.Backend == "sqlite" {
			// VmRSS follows the database's growth on SQLite (page cache
			// and memory map, docs/performance.md#soak): held memory is
			// the criterion there.
			if r.Warm.Held() > 0 && r.HeldGrowth() > o.sqliteRSS {
				add("%s: RssAnon less the page cache grew %.1f%% (%d → %d KiB), more than %.0f%%", r.Name, r.HeldGrowth()*100, r.Warm.Held(), r.End.Held(), o.sqliteRSS*100)
			}
		} else if r.Warm.Memory.RSS > 0 && r.Growth() > o.rssTolerance {
			add("%s: VmRSS grew %.1f%% (%d → %d KiB), more than %.0f%%", r.Name, r.Growth()*100, r.Warm.Memory.RSS, r.End.Memory.RSS, o.rssTolerance*100)
		}
		if r.End.Goroutines > r.Warm.Goroutines+o.goroutineSlack {
			add("%s: goroutines grew from %d to %d (allowed: %d more)", r.Name, r.Warm.Goroutines, r.End.Goroutines, o.goroutineSlack)
		}
		if r.End.Sessions != 0 {
			add("%s: %d sessions still open at the end (atomcp_mcp_sessions_active)", r.Name, r.End.Sessions)
		}
		if r.LogErrors > 0 {
			add("%s: %d ERROR lines in its log; the first: %s", r.Name, r.LogErrors, strings.Join(r.LogFirst, " | "))
		}
	}
	return f
}

// soakBackend prepares a database, starts the backend's replicas, runs the
// warm-up sessions, measures, runs the rest, measures again and stops the
// replicas.
func soakBackend(ctx context.Context, o options, backend, bin, dir string, out io.Writer) (*result, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	dbURL, drop, err := database(ctx, o, backend, dir)
	if err != nil {
		return nil, err
	}
	defer drop()
	env := commonEnv(o, dbURL)
	token, err := benchkit.PrepareAtomcp(ctx, bin, dir, env)
	if err != nil {
		return nil, err
	}
	n := 1
	if backend == "postgres" {
		n = o.replicas
	}
	res := &result{Backend: backend}
	var replicas []*replica
	defer func() {
		for _, r := range replicas {
			r.proc.Stop()
		}
	}()
	for i := range n {
		name := fmt.Sprintf("%s-%d", backend, i+1)
		r, err := startReplica(ctx, o, name, bin, filepath.Join(dir, name), env, token)
		if err != nil {
			return nil, err
		}
		replicas = append(replicas, r)
		res.Replicas = append(res.Replicas, &replicaResult{Name: name, replicaRef: r})
	}
	fx, err := loadFixtures(ctx, replicas[0])
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "%s: %d replica(s) up; %d requirements and %d documents of the demo data to work on\n", backend, n, len(fx.requirements), len(fx.documents))

	// However the soak ends, each replica's counts, peak and log are kept.
	defer func() {
		for _, rr := range res.Replicas {
			rr.Sessions, rr.Calls, rr.PeakRSS = int(rr.sessions.Load()), int(rr.calls.Load()), int(rr.peak.Load())
			rr.Exited = rr.replicaRef.proc.Exited()
			rr.LogWarn, rr.LogErrors, rr.LogFirst = logProblems(rr.replicaRef.proc.Log, 3)
		}
	}()
	sampleCtx, stopSampling := context.WithCancel(ctx)
	defer stopSampling()
	go sample(sampleCtx, res.Replicas)

	d := &driver{o: o, res: res, fx: fx, replicas: replicas, client: mcp.NewClient(&mcp.Implementation{Name: "atomcp-soak", Version: "1"}, nil)}
	warm := max(1, min(o.sessions-1, int(float64(o.sessions)*o.warmup)))
	if o.sessions == 1 {
		warm = 1
	}
	measure := func(set func(*replicaResult, idle)) error {
		for _, rr := range res.Replicas {
			st, err := rr.replicaRef.settle(ctx)
			if err != nil {
				return err
			}
			set(rr, st)
		}
		return nil
	}
	runCtx := ctx
	if o.maxDuration > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(ctx, o.maxDuration)
		defer cancel()
	}
	start := time.Now()
	d.runSessions(ctx, runCtx, 0, warm)
	res.Seconds += time.Since(start).Seconds()
	fmt.Fprintf(out, "%s: warm-up done: %d sessions, %d calls, %d errors in %.0f s\n", backend, res.Sessions, res.Calls, res.Errors, res.Seconds)
	if err := measure(func(r *replicaResult, st idle) { r.Warm = st }); err != nil {
		res.Aborted = err.Error()
		return res, nil
	}
	start = time.Now()
	d.progress = func() {
		var rss []string
		for _, r := range replicas {
			m, _ := benchkit.ReadMemory(r.proc.Pid())
			rss = append(rss, fmt.Sprintf("%.1f", mib(m.RSS)))
		}
		fmt.Fprintf(out, "%s %s: %d sessions, %d calls, %d errors, %.0f calls/s, VmRSS MiB %s\n", time.Now().UTC().Format("15:04:05"), backend,
			res.Sessions, res.Calls, res.Errors, float64(res.Calls)/(res.Seconds+time.Since(start).Seconds()), strings.Join(rss, " "))
	}
	d.runSessions(ctx, runCtx, warm, o.sessions)
	res.Seconds += time.Since(start).Seconds()
	switch {
	case ctx.Err() != nil:
		res.Aborted = "interrupted"
	case runCtx.Err() != nil:
		res.Aborted = fmt.Sprintf("stopped by -max-duration %s", o.maxDuration)
	}
	if err := measure(func(r *replicaResult, st idle) { r.End = st }); err != nil && res.Aborted == "" {
		res.Aborted = err.Error()
	}
	return res, nil
}

// sample keeps each replica's peak VmRSS, reading it every 2 s.
func sample(ctx context.Context, rs []*replicaResult) {
	for {
		for _, r := range rs {
			if m, err := benchkit.ReadMemory(r.replicaRef.proc.Pid()); err == nil && int64(m.RSS) > r.peak.Load() {
				r.peak.Store(int64(m.RSS))
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(2 * time.Second):
		}
	}
}

// fixtures are the demo data's requirements and documents, and the ids of
// requirements the soak created (a bounded ring), which reads pick from.
type fixtures struct {
	documents    []string
	requirements []string
	mu           sync.Mutex
	created      []string
	next         int
}

const createdRing = 2000

func (f *fixtures) add(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.created) < createdRing {
		f.created = append(f.created, id)
		return
	}
	f.created[f.next] = id
	f.next = (f.next + 1) % createdRing
}

// readable picks a requirement to read: one of the demo data or one the
// soak created, alike.
func (f *fixtures) readable(r *rand.Rand) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if n := len(f.created); n > 0 && r.IntN(2) == 0 {
		return f.created[r.IntN(n)]
	}
	return f.requirements[r.IntN(len(f.requirements))]
}

// loadFixtures lists the demo organization's documents and requirements
// through one session.
func loadFixtures(ctx context.Context, r *replica) (*fixtures, error) {
	cs, err := connect(ctx, mcp.NewClient(&mcp.Implementation{Name: "atomcp-soak", Version: "1"}, nil), r, false)
	if err != nil {
		return nil, err
	}
	defer cs.Close()
	fx := &fixtures{}
	for _, k := range []struct {
		kind string
		ids  *[]string
	}{{"document", &fx.documents}, {"requirement", &fx.requirements}} {
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "entity_tool", Arguments: map[string]any{"entity_type": k.kind, "operation": "list", "limit": 500, "format_type": "summary"}})
		if err := toolErr(res, err); err != nil {
			return nil, fmt.Errorf("list %ss: %w", k.kind, err)
		}
		m, _ := res.StructuredContent.(map[string]any)
		items, _ := m["items"].([]any)
		for _, it := range items {
			if e, ok := it.(map[string]any); ok {
				if id, _ := e["id"].(string); id != "" {
					*k.ids = append(*k.ids, id)
				}
			}
		}
		if len(*k.ids) == 0 {
			return nil, fmt.Errorf("the demo data has no %s: %v", k.kind, res.StructuredContent)
		}
	}
	return fx, nil
}

func connect(ctx context.Context, c *mcp.Client, r *replica, sse bool) (*mcp.ClientSession, error) {
	// MaxRetries -1: a dropped stream is an error here, not a reconnect.
	return c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: publicURL + "/api/mcp", HTTPClient: r.hc, MaxRetries: -1, DisableStandaloneSSE: !sse}, nil)
}

// toolErr is err, or the tool error of res.
func toolErr(res *mcp.CallToolResult, err error) error {
	if err != nil {
		return err
	}
	if res.IsError {
		text := ""
		if len(res.Content) > 0 {
			if t, ok := res.Content[0].(*mcp.TextContent); ok {
				text = t.Text
			}
		}
		return fmt.Errorf("tool error: %.300s", text)
	}
	return nil
}

// entityID is the id of the entity in an entity_tool result.
func entityID(res *mcp.CallToolResult) string {
	m, _ := res.StructuredContent.(map[string]any)
	e, _ := m["entity"].(map[string]any)
	id, _ := e["id"].(string)
	return id
}

// driver runs sessions against a backend's replicas.
type driver struct {
	o        options
	res      *result
	fx       *fixtures
	replicas []*replica
	client   *mcp.Client
	progress func()

	mu       sync.Mutex // guards res's counters
	lastNote time.Time
}

// callsFor spreads calls evenly over sessions: session i's share.
func callsFor(i, sessions, calls int) int {
	q, r := calls/sessions, calls%sessions
	if i < r {
		return q + 1
	}
	return q
}

// runSessions runs sessions from (inclusive) to to (exclusive) with
// o.workers workers; session i goes to replica i mod the replicas. No
// session starts once stop is done; those open finish (unless ctx ends).
func (d *driver) runSessions(ctx, stop context.Context, from, to int) {
	next := atomic.Int64{}
	next.Store(int64(from))
	var wg sync.WaitGroup
	for w := range d.o.workers {
		wg.Go(func() {
			wk := &worker{d: d, id: w, rnd: rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))}
			for stop.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= to {
					return
				}
				wk.session(ctx, i)
			}
		})
	}
	wg.Wait()
}

type worker struct {
	d   *driver
	id  int
	rnd *rand.Rand
	own []string // requirements this worker created, which it updates
	seq int
}

// session opens session i, makes its calls and closes it.
func (w *worker) session(ctx context.Context, i int) {
	d := w.d
	ri := i % len(d.replicas)
	r, rr := d.replicas[ri], d.res.Replicas[ri]
	cs, err := connect(ctx, d.client, r, d.o.sse)
	if err != nil {
		if ctx.Err() == nil {
			d.fail(r, "connect", err)
		}
		return
	}
	rr.sessions.Add(1)
	ok := true
	for range callsFor(i, d.o.sessions, d.o.calls) {
		if ctx.Err() != nil {
			ok = false
			break
		}
		kind, err := w.call(ctx, cs)
		if err != nil {
			ok = false
			if ctx.Err() == nil { // not a call the interruption cut short
				d.fail(r, kind, err)
			}
			continue
		}
		rr.calls.Add(1)
		d.count(kind)
	}
	if err := cs.Close(); err != nil && ctx.Err() == nil {
		d.fail(r, "close", err)
		ok = false
	}
	if ok {
		d.mu.Lock()
		d.res.Sessions++
		d.mu.Unlock()
	}
}

// call makes one tool call: a write with probability o.writes (an update
// of a requirement this worker created, or a create), else a read.
func (w *worker) call(ctx context.Context, cs *mcp.ClientSession) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	args := map[string]any{"entity_type": "requirement"}
	var kind, want string
	switch {
	case w.rnd.Float64() >= w.d.o.writes:
		kind, want = "read", w.d.fx.readable(w.rnd)
		args["operation"], args["entity_id"] = "read", want
	case len(w.own) > 0 && w.rnd.IntN(2) == 0:
		kind, want = "update", w.own[w.rnd.IntN(len(w.own))]
		w.seq++
		args["operation"], args["entity_id"] = "update", want
		args["data"] = map[string]any{"description": fmt.Sprintf("updated by soak worker %d, change %d", w.id, w.seq)}
	default:
		kind = "create"
		w.seq++
		args["operation"] = "create"
		args["data"] = map[string]any{
			"document_id": w.d.fx.documents[w.rnd.IntN(len(w.d.fx.documents))],
			"name":        fmt.Sprintf("Soak requirement %d-%d", w.id, w.seq),
			"description": "written by the soak run",
			"priority":    []string{"low", "medium", "high"}[w.rnd.IntN(3)],
		}
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "entity_tool", Arguments: args})
	if err := toolErr(res, err); err != nil {
		return kind, err
	}
	got := entityID(res)
	switch {
	case got == "":
		return kind, fmt.Errorf("%s answered without an entity id: %.200v", kind, res.StructuredContent)
	case want != "" && got != want:
		return kind, fmt.Errorf("%s of %s answered entity %s", kind, want, got)
	}
	if kind == "create" {
		w.d.fx.add(got)
		if len(w.own) < 50 {
			w.own = append(w.own, got)
		} else {
			w.own[w.rnd.IntN(len(w.own))] = got
		}
	}
	return kind, nil
}

func (d *driver) count(kind string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.res.Calls++
	switch kind {
	case "read":
		d.res.Reads++
	case "create":
		d.res.Creates++
	case "update":
		d.res.Updates++
	}
	if d.progress != nil && time.Since(d.lastNote) > 30*time.Second {
		d.lastNote = time.Now()
		d.progress() // under d.mu: it reads the counters
	}
}

func (d *driver) fail(r *replica, kind string, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.res.Errors++
	if len(d.res.FirstErrors) < 5 {
		d.res.FirstErrors = append(d.res.FirstErrors, fmt.Sprintf("%s %s: %.300v", r.name, kind, err))
	}
}
