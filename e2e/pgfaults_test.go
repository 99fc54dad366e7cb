package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/atomcp/atomcp/internal/pgtest"
)

// The fault tests: each starts a PostgreSQL cluster of its own
// (pgtest.StartCluster) and stops, crashes or cuts it off under atomcp
// replicas, then checks what survived in the database itself.

// pgReplicas migrates the database at dbURL and starts n `atomcp serve`
// replicas on it (auth none, stateless), each warmed up by one tool call
// so that the local user exists before any concurrency.
func pgReplicas(t *testing.T, dbURL string, n int, env ...string) []*server {
	t.Helper()
	dir := t.TempDir()
	common := append([]string{"ATOMCP_DATABASE_URL=" + dbURL, "ATOMCP_AUTH=none", "ATOMCP_STATELESS=true",
		"ATOMCP_SECRET_KEY=" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, 32))}, env...)
	migrate := exec.Command(binary, "migrate")
	migrate.Dir = dir
	migrate.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}, common...)
	if out, err := migrate.CombinedOutput(); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	var replicas []*server
	for range n {
		addr := freeAddr(t)
		s := startServerEnv(t, dir, "http://"+addr, append([]string{"ATOMCP_ADDR=" + addr}, common...)...)
		mustCall(t, connect(t, s.URL), "workspace_tool", map[string]any{"operation": "get_context"})
		replicas = append(replicas, s)
	}
	return replicas
}

// newDocument creates an organization, a project and a document and
// returns the document's id.
func newDocument(t *testing.T, cs *mcp.ClientSession, name string) string {
	t.Helper()
	org := entityOf(t, mustCall(t, cs, "entity_tool", map[string]any{"entity_type": "organization", "operation": "create", "data": map[string]any{"name": name + " Org"}}))
	proj := entityOf(t, mustCall(t, cs, "entity_tool", map[string]any{"entity_type": "project", "operation": "create", "data": map[string]any{"organization_id": org["id"], "name": name + " Project"}}))
	doc := entityOf(t, mustCall(t, cs, "entity_tool", map[string]any{"entity_type": "document", "operation": "create", "data": map[string]any{"project_id": proj["id"], "name": name + " Doc"}}))
	return doc["id"].(string)
}

// isUnavailable reports whether a tool error is the retryable "database
// unavailable" answer (tools.unavailableMessage) in the old JSON shape.
func isUnavailable(r result) bool {
	var body map[string]any
	if json.Unmarshal([]byte(r.Text), &body) != nil {
		return false
	}
	msg, _ := body["error"].(string)
	return r.IsError && body["retryable"] == true && strings.Contains(msg, "the database is unavailable") && strings.Contains(msg, "retry")
}

// reqRow is one requirement as the database holds it.
type reqRow struct{ ID, Name, ExternalID string }

// requirementsOf reads the live requirements of a document straight from
// PostgreSQL, ordered by id.
func requirementsOf(t *testing.T, dbURL, docID string) []reqRow {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(ctx, `SELECT id, name, coalesce(external_id, '') FROM requirements WHERE document_id = $1 AND NOT is_deleted ORDER BY id`, docID)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (reqRow, error) {
		var x reqRow
		return x, r.Scan(&x.ID, &x.Name, &x.ExternalID)
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// checksum is a digest over ids and names, in id order.
func checksum(rows []reqRow) string {
	sorted := append([]reqRow(nil), rows...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].ID < sorted[j].ID })
	h := sha256.New()
	for _, r := range sorted {
		fmt.Fprintf(h, "%s\x00%s\x00", r.ID, r.Name)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// batchResult is what a writer knows of one batch_create: created (the
// response said so, with these rows), failed with the retryable error
// (outcome unknown), or something else, which the test rejects.
type batchResult struct {
	externalIDs []string
	created     []reqRow // set when the response was a success
	unknown     bool
}

// writeBatches runs batch_create of size requirements on cs until stop is
// closed, and returns every batch it sent. A protocol error or a tool
// error other than "database unavailable" fails the test.
func writeBatches(t *testing.T, cs *mcp.ClientSession, docID string, writer, size int, stop <-chan struct{}, ok func()) []batchResult {
	var out []batchResult
	for seq := 0; ; seq++ {
		select {
		case <-stop:
			return out
		default:
		}
		b := batchResult{}
		items := make([]any, size)
		for j := range items {
			ext := fmt.Sprintf("F%d-%04d-%d", writer, seq, j)
			b.externalIDs = append(b.externalIDs, ext)
			items[j] = map[string]any{"document_id": docID, "name": "Fault requirement " + ext, "external_id": ext}
		}
		r, err := tryCall(cs, "entity_tool", map[string]any{"entity_type": "requirement", "operation": "batch_create", "batch": items}, 60*time.Second)
		switch {
		case err != nil:
			t.Errorf("writer %d batch %d: protocol error %v; want a result or the retryable tool error", writer, seq, err)
			return out
		case r.IsError && isUnavailable(r):
			b.unknown = true
			time.Sleep(100 * time.Millisecond) // as a client told to retry would
		case r.IsError:
			t.Errorf("writer %d batch %d: tool error %s; want success or the retryable 'database unavailable' error", writer, seq, r.Text)
			return out
		default:
			items, _ := r.Data["items"].([]any)
			for _, it := range items {
				m, _ := it.(map[string]any)
				id, _ := m["id"].(string)
				name, _ := m["name"].(string)
				ext, _ := m["external_id"].(string)
				b.created = append(b.created, reqRow{id, name, ext})
			}
			if len(b.created) != size {
				t.Errorf("writer %d batch %d: success with %d items, want %d: %v", writer, seq, len(b.created), size, r.Data)
			}
			ok()
		}
		out = append(out, b)
	}
}

// TestPostgresRestartUnderLoad: three replicas take batch_create writes
// from six concurrent clients while PostgreSQL is restarted (fast) and
// then crashed (immediate) and started again. During each outage calls
// fail with the retryable "database unavailable" tool error (never a
// protocol error); afterwards every replica writes again without being
// restarted; every batch a response confirmed is in the database with the
// ids and names it reported, every unconfirmed batch is all there or
// absent, and the rows written before the faults are unchanged.
func TestPostgresRestartUnderLoad(t *testing.T) {
	cluster := pgtest.StartCluster(t)
	dbURL := cluster.NewDB("atomcp")
	replicas := pgReplicas(t, dbURL, 3)
	setup := connect(t, replicas[0].URL)
	docID := newDocument(t, setup, "Restart")
	// Rows from before the faults, and their checksum.
	seed := make([]any, 20)
	for i := range seed {
		seed[i] = map[string]any{"document_id": docID, "name": fmt.Sprintf("Seed requirement %d", i), "external_id": fmt.Sprintf("SEED-%02d", i)}
	}
	mustCall(t, setup, "entity_tool", map[string]any{"entity_type": "requirement", "operation": "batch_create", "batch": seed})
	seedRows := requirementsOf(t, dbURL, docID)
	seedSum := checksum(seedRows)

	const writers, size = 6, 4
	stop := make(chan struct{})
	var mu sync.Mutex
	successes := make([]int, writers)
	waitSuccesses := func(phase string, want int) {
		t.Helper()
		mu.Lock()
		base := append([]int(nil), successes...)
		mu.Unlock()
		deadline := time.Now().Add(90 * time.Second)
		for {
			mu.Lock()
			done := true
			for i := range successes {
				if successes[i] < base[i]+want {
					done = false
				}
			}
			cur := append([]int(nil), successes...)
			mu.Unlock()
			if done {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: successes per writer %v (were %v); want %d more each within 90s\nPostgreSQL log:\n%s", phase, cur, base, want, cluster.Log())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	results := make([][]batchResult, writers)
	var wg sync.WaitGroup
	for w := range writers {
		cs := connect(t, replicas[w%len(replicas)].URL)
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[w] = writeBatches(t, cs, docID, w, size, stop, func() { mu.Lock(); successes[w]++; mu.Unlock() })
		}()
	}
	waitSuccesses("before the faults", 2)
	cluster.Restart("fast")
	waitSuccesses("after pg_ctl restart -m fast", 3)
	cluster.Kill()
	time.Sleep(300 * time.Millisecond) // writes meet the crashed server
	cluster.Start()
	waitSuccesses("after a crash (pg_ctl stop -m immediate) and start", 3)
	close(stop)
	wg.Wait()

	// What the database holds, by external id.
	after := requirementsOf(t, dbURL, docID)
	byExt := map[string]reqRow{}
	for _, r := range after {
		byExt[r.ExternalID] = r
	}
	want := append([]reqRow(nil), seedRows...)
	confirmed, unknown, unknownPresent := 0, 0, 0
	for w, rs := range results {
		for i, b := range rs {
			if !b.unknown {
				confirmed++
				for _, c := range b.created {
					if got, ok := byExt[c.ExternalID]; !ok || got != c {
						t.Errorf("writer %d batch %d: confirmed row %+v is %+v in the database", w, i, c, got)
					}
				}
				want = append(want, b.created...)
				continue
			}
			unknown++
			var present []reqRow
			for _, ext := range b.externalIDs {
				if r, ok := byExt[ext]; ok {
					present = append(present, r)
				}
			}
			switch len(present) {
			case 0:
			case size:
				unknownPresent++
				want = append(want, present...)
			default:
				t.Errorf("writer %d batch %d: %d of %d rows of an unconfirmed batch exist; want all or none", w, i, len(present), size)
			}
		}
	}
	if len(after) != len(want) || checksum(after) != checksum(want) {
		t.Errorf("database holds %d rows (checksum %s); the confirmed and complete unconfirmed batches and the seed make %d (checksum %s)",
			len(after), checksum(after), len(want), checksum(want))
	}
	var seedAfter []reqRow
	for _, r := range after {
		if strings.HasPrefix(r.ExternalID, "SEED-") {
			seedAfter = append(seedAfter, r)
		}
	}
	if checksum(seedAfter) != seedSum || len(seedAfter) != len(seedRows) {
		t.Errorf("rows written before the faults: %d, checksum %s after; %d, %s before", len(seedAfter), checksum(seedAfter), len(seedRows), seedSum)
	}
	if unknown == 0 {
		t.Errorf("no call met the outages (%d confirmed batches): the test did not exercise them", confirmed)
	}
	for i, s := range replicas {
		s.stop(t)
		if log := s.rest(); strings.Contains(log, "panic") || strings.Contains(log, "goroutine ") {
			t.Errorf("replica %d logged a panic:\n%s", i, log)
		}
	}
	t.Logf("%d confirmed batches, %d failed with the retryable error (%d of them complete in the database, the rest absent); %d rows, checksum %s",
		confirmed, unknown, unknownPresent, len(after), checksum(after))
}

// TestReadyzPostgresStopped: with PostgreSQL stopped, /readyz answers 503
// naming the database while /healthz stays 200; once PostgreSQL is back,
// /readyz answers 200 again without restarting atomcp.
func TestReadyzPostgresStopped(t *testing.T) {
	cluster := pgtest.StartCluster(t)
	dbURL := cluster.NewDB("atomcp")
	s := pgReplicas(t, dbURL, 1)[0]
	get := func(path string) (int, map[string]any) {
		t.Helper()
		resp, err := http.Get(s.Base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body
	}
	if code, body := get("/readyz"); code != 200 {
		t.Fatalf("/readyz with PostgreSQL up: %d %v", code, body)
	}
	cluster.Stop("fast")
	code, body := get("/readyz")
	reason, _ := body["reason"].(string)
	if code != http.StatusServiceUnavailable || !strings.Contains(reason, "database") {
		t.Errorf("/readyz with PostgreSQL stopped: %d %v; want 503 with a reason naming the database", code, body)
	}
	if code, body := get("/healthz"); code != 200 {
		t.Errorf("/healthz with PostgreSQL stopped: %d %v; want 200 (liveness only)", code, body)
	}
	cluster.Start()
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, body := get("/readyz")
		if code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz 30s after PostgreSQL came back: %d %v", code, body)
		}
		time.Sleep(200 * time.Millisecond)
	}
	s.stop(t)
}

// openTransactions counts the transactions other sessions have open on
// database db (pg_stat_activity) whose latest statement contains like (a
// LIKE pattern).
func openTransactions(t *testing.T, conn *pgx.Conn, db, like string) int {
	t.Helper()
	var n int
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
		WHERE datname = $1 AND pid <> pg_backend_pid() AND xact_start IS NOT NULL AND query LIKE $2`, db, like).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestKillDuringPostgresWorkflow: a replica killed with SIGKILL while its
// transactional workflow (import_requirements) or batch_create has a
// transaction open on PostgreSQL leaves all of it or none of it, and the
// rows from before are unchanged (count and checksum); the server rolls
// the dead replica's transaction back.
func TestKillDuringPostgresWorkflow(t *testing.T) {
	cluster := pgtest.StartCluster(t)
	dbURL := cluster.NewDB("atomcp")
	watch, err := pgx.Connect(t.Context(), cluster.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer watch.Close(context.Background())
	replicas := pgReplicas(t, dbURL, 2)
	survivor := connect(t, replicas[1].URL)
	docID := newDocument(t, survivor, "Kill")
	mustCall(t, survivor, "entity_tool", map[string]any{"entity_type": "requirement", "operation": "batch_create", "batch": []any{
		map[string]any{"document_id": docID, "name": "Before the kill", "external_id": "KEEP-1"}}})
	before := requirementsOf(t, dbURL, docID)

	const n = 1000
	// items are the requirements to write; a workflow's name their
	// document once, in its parameters.
	items := func(prefix string, inDocument bool) []any {
		out := make([]any, n)
		for i := range out {
			m := map[string]any{"name": fmt.Sprintf("%s requirement %d", prefix, i),
				"external_id": fmt.Sprintf("%s-%04d", prefix, i), "content": strings.Repeat("lorem ipsum ", 20)}
			if inDocument {
				m["document_id"] = docID
			}
			out[i] = m
		}
		return out
	}
	for _, tc := range []struct {
		name, prefix, tool string
		args               map[string]any
	}{
		{"workflow import_requirements", "WF", "workflow_tool",
			map[string]any{"workflow": "import_requirements", "parameters": map[string]any{"document_id": docID, "requirements": items("WF", false)}}},
		{"batch_create", "BC", "entity_tool",
			map[string]any{"entity_type": "requirement", "operation": "batch_create", "batch": items("BC", true)}},
	} {
		victim := pgReplicas(t, dbURL, 1)[0]
		client := mcp.NewClient(&mcp.Implementation{Name: "killer", Version: "1"}, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: victim.URL, MaxRetries: -1}, nil)
		if err != nil {
			t.Fatal(err)
		}
		const inserting = `INSERT INTO "requirements" %`
		idle := openTransactions(t, watch, "atomcp", inserting)
		answered := make(chan string, 1)
		go func() {
			res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: tc.tool, Arguments: tc.args})
			if err == nil {
				b, _ := json.Marshal(res)
				answered <- string(b)
			}
		}()
		// Kill once the replica has a transaction open that inserts
		// requirements: the import is under way in the database.
		for openTransactions(t, watch, "atomcp", inserting) <= idle {
			select {
			case res := <-answered:
				t.Fatalf("%s: answered before a transaction inserting requirements was seen: %.300s", tc.name, res)
			default:
			}
			if ctx.Err() != nil {
				t.Fatalf("%s: no transaction was seen open", tc.name)
			}
			time.Sleep(2 * time.Millisecond)
		}
		victim.kill(t)
		cancel()
		// The server notices the dead connection and rolls back.
		for deadline := time.Now().Add(30 * time.Second); openTransactions(t, watch, "atomcp", "%") > 0; {
			if time.Now().After(deadline) {
				t.Fatalf("%s: the killed replica's transaction is still open 30s later", tc.name)
			}
			time.Sleep(50 * time.Millisecond)
		}
		rows := requirementsOf(t, dbURL, docID)
		count := 0
		for _, r := range rows {
			if strings.HasPrefix(r.ExternalID, tc.prefix+"-") {
				count++
			}
		}
		if count != 0 && count != n {
			t.Errorf("%s: after SIGKILL, %d of %d requirements exist; want all or none", tc.name, count, n)
		}
		var kept []reqRow
		for _, r := range rows {
			if r.ExternalID == "KEEP-1" {
				kept = append(kept, r)
			}
		}
		if checksum(kept) != checksum(before) {
			t.Errorf("%s: the row from before changed: %v, was %v", tc.name, kept, before)
		}
		// The survivor still writes, and sees the same rows.
		list := mustCall(t, survivor, "entity_tool", map[string]any{"entity_type": "requirement", "operation": "list", "filters": map[string]any{"document_id": docID}, "limit": 1})
		if list["total"] != float64(len(rows)) {
			t.Errorf("%s: the surviving replica lists %v requirements, the database holds %d", tc.name, list["total"], len(rows))
		}
		t.Logf("%s: SIGKILL with the transaction open left %d of %d", tc.name, count, n)
	}
}

// goroutines scrapes go_goroutines from a replica's /metrics.
func goroutines(t *testing.T, s *server) float64 {
	t.Helper()
	samples, _ := scrape(t, s.Base+"/metrics")
	n, ok := find(samples, "go_goroutines", nil)
	if !ok {
		t.Fatal("no go_goroutines in /metrics")
	}
	return n
}

// TestPostgresNetworkStall: the network between atomcp and PostgreSQL
// stops forwarding (a proxy that holds every byte). Reads and writes
// already running and new ones fail with the retryable "database
// unavailable" tool error once the statement and connect timeouts pass,
// well before the request timeout, instead of hanging; /readyz says 503
// and /healthz 200. After the stall everything works again without a
// restart, no confirmed write is missing, and the goroutine count comes
// back to where it was (no goroutine stuck on a dead connection).
func TestPostgresNetworkStall(t *testing.T) {
	cluster := pgtest.StartCluster(t)
	cluster.NewDB("atomcp")
	proxy := startStallProxy(t, fmt.Sprintf("127.0.0.1:%d", cluster.Port))
	dbURL := fmt.Sprintf("postgres://postgres@%s/atomcp?sslmode=disable", proxy.Addr())
	// A request timeout far beyond the statement timeout: a call that
	// reaches it was not stopped by the database timeouts.
	s := pgReplicas(t, dbURL, 1, "ATOMCP_DB_STATEMENT_TIMEOUT=2s", "ATOMCP_DB_CONNECT_TIMEOUT=2s", "ATOMCP_REQUEST_TIMEOUT=5m")[0]
	const clients = 4
	var sessions []*mcp.ClientSession
	for range clients {
		sessions = append(sessions, connect(t, s.URL))
	}
	docID := newDocument(t, sessions[0], "Stall")
	create := func(cs *mcp.ClientSession, ext string) (result, error) {
		return tryCall(cs, "entity_tool", map[string]any{"entity_type": "requirement", "operation": "create",
			"data": map[string]any{"document_id": docID, "name": "Stall requirement " + ext, "external_id": ext}}, 3*time.Minute)
	}
	list := func(cs *mcp.ClientSession) (result, error) {
		return tryCall(cs, "entity_tool", map[string]any{"entity_type": "requirement", "operation": "list",
			"filters": map[string]any{"document_id": docID}}, 3*time.Minute)
	}
	var confirmed []string
	var mu sync.Mutex
	// Warm up: the pool holds several connections, the runtime its usual
	// goroutines.
	var wg sync.WaitGroup
	for i, cs := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 5 {
				ext := fmt.Sprintf("WARM-%d-%d", i, j)
				if r, err := create(cs, ext); err != nil || r.IsError {
					t.Errorf("warm-up create: %v %s", err, r.Text)
					return
				}
				mu.Lock()
				confirmed = append(confirmed, ext)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	baseline := goroutines(t, s)

	proxy.Stall()
	type outcome struct {
		what string
		r    result
		err  error
	}
	outcomes := make(chan outcome, 2*clients)
	for i, cs := range sessions {
		go func() {
			ext := fmt.Sprintf("STALL-%d", i)
			r, err := create(cs, ext)
			if err == nil && !r.IsError {
				mu.Lock()
				confirmed = append(confirmed, ext)
				mu.Unlock()
			}
			outcomes <- outcome{"create " + ext, r, err}
		}()
		go func() {
			r, err := list(cs)
			outcomes <- outcome{"list", r, err}
		}()
	}
	for range 2 * clients {
		select {
		case o := <-outcomes:
			if o.err != nil || !isUnavailable(o.r) {
				t.Errorf("%s during the stall: %v %s; want the retryable 'database unavailable' tool error", o.what, o.err, o.r.Text)
			}
		case <-time.After(2 * time.Minute):
			t.Fatal("calls during the stall still had no answer after 2 minutes: the statement timeout did not stop them")
		}
	}
	resp, err := http.Get(s.Base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/readyz during the stall: %d, want 503", resp.StatusCode)
	}
	if resp, err := http.Get(s.Base + "/healthz"); err != nil || resp.StatusCode != 200 {
		t.Errorf("/healthz during the stall: %v %v, want 200", resp, err)
	} else {
		resp.Body.Close()
	}

	proxy.Resume()
	// Every session writes again, on the pool the replica already has.
	for i, cs := range sessions {
		ext := fmt.Sprintf("AFTER-%d", i)
		for deadline := time.Now().Add(60 * time.Second); ; {
			r, err := create(cs, ext)
			if err == nil && !r.IsError {
				confirmed = append(confirmed, ext)
				break
			}
			if err != nil || !isUnavailable(r) || time.Now().After(deadline) {
				t.Fatalf("create after the stall: %v %s", err, r.Text)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	rows := requirementsOf(t, cluster.URL("atomcp"), docID)
	have := map[string]bool{}
	for _, r := range rows {
		have[r.ExternalID] = true
	}
	for _, ext := range confirmed {
		if !have[ext] {
			t.Errorf("confirmed requirement %s is missing after the stall", ext)
		}
	}
	// The goroutines of the stalled calls and connections are gone.
	const tolerance = 10
	var now float64
	for deadline := time.Now().Add(60 * time.Second); ; {
		now = goroutines(t, s)
		if now <= baseline+tolerance {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("go_goroutines %v a minute after the stall, %v before it: more than %d goroutines leaked", now, baseline, tolerance)
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	s.stop(t)
	t.Logf("%d confirmed requirements all present (%d rows); goroutines %v before the stall, %v after", len(confirmed), len(rows), baseline, now)
}
