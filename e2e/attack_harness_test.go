//go:build attack

package e2e

// The attack suite (issue 18, docs/security.md#the-attack-suite): hostile
// requests against the built `atomcp serve` with its embedded
// authorization server and SQLite in a temporary directory, one subtest
// per attack. Each asserts the refusal (status, error code or tool error)
// and that nothing was written: a hash of every table that holds data is
// taken before and compared after. It is behind the build tag "attack" so
// that `go test ./...` does not run it twice; scripts/test.sh's stage
// attack runs it:
//
//	go test -tags attack ./e2e -run '^TestAttack' -v
//
// The attacks on private, link-local and metadata addresses are skipped
// unless the process sees no network interface but loopback (the stage
// runs it in a network namespace of its own, `unshare -n`), so that even a
// server that failed to refuse could not send a packet off the machine.

import (
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	_ "modernc.org/sqlite" // the test reads the server's database, read-only
)

// attackServer is one `atomcp serve` under attack, with two accounts and
// a personal access token for each.
type attackServer struct {
	*server
	dir      string
	db       string
	alicePAT string
	bobPAT   string
	// secrets are every credential the run used; none may reach the log.
	secrets []string

	mu   sync.Mutex
	logs []string // every line the server logged, read as it comes
}

const (
	alicePassword = "alice-attack-password-7f3a"
	bobPassword   = "bob-attack-password-91c2"
)

// newAttackServer starts atomcp serve (embedded auth) in a new directory
// with the accounts alice@example.com and bob@example.com; env are more
// settings.
func newAttackServer(t *testing.T, env ...string) *attackServer {
	t.Helper()
	dir := t.TempDir()
	addUser(t, dir, "alice@example.com", alicePassword, "--name", "Alice")
	addUser(t, dir, "bob@example.com", bobPassword, "--name", "Bob")
	addr := freeAddr(t)
	// Debug logging: the most a log could give away.
	s := startServerEnv(t, dir, "http://"+addr, append([]string{"ATOMCP_ADDR=" + addr, "ATOMCP_AUTH=embedded", "ATOMCP_LOG_LEVEL=debug"}, env...)...)
	a := &attackServer{server: s, dir: dir, db: filepath.Join(dir, "atomcp.db"), logs: slices.Clone(s.stderr.all)}
	// The harness keeps 1000 unread lines and drops the rest; the
	// secrets check must see every line, so they are read at once.
	go func() {
		for line := range s.stderr.lines {
			a.mu.Lock()
			a.logs = append(a.logs, line)
			a.mu.Unlock()
		}
	}()
	a.alicePAT = a.pat(t, "alice@example.com")
	a.bobPAT = a.pat(t, "bob@example.com")
	a.secrets = append(a.secrets, alicePassword, bobPassword, a.alicePAT, a.bobPAT)
	return a
}

// admin runs an atomcp administration command against the server's
// database and returns its standard output.
func (a *attackServer) admin(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = a.dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + a.dir, "ATOMCP_DATABASE_URL=sqlite://" + a.db,
		"ATOMCP_ADDR=" + strings.TrimPrefix(a.Base, "http://")}
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("atomcp %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func (a *attackServer) pat(t *testing.T, email string) string {
	t.Helper()
	return strings.TrimSpace(a.admin(t, "", "tokens", "create", "--user", email, "--quiet"))
}

// exemptTables change on a refused request by design: the rate limiters'
// and the sign-in guard's counters.
var exemptTables = []string{"rate_limits"}

// state hashes every table of the database except exempt ones (and
// exemptTables): the value to compare before and after an attack.
func (a *attackServer) state(t *testing.T, exempt ...string) map[string]string {
	t.Helper()
	// The background indexer takes what earlier requests queued (a first
	// request creates the caller's personal organization); a snapshot is
	// taken when it is idle. What an attack queued is still seen, in the
	// entity tables and in the embeddings it leaves.
	a.waitEmbeddings(t)
	db, err := sql.Open("sqlite", "file:"+a.db+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	names, err := db.QueryContext(t.Context(), `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '%_fts%'`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for names.Next() {
		var n string
		if err := names.Scan(&n); err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(exemptTables, n) && !slices.Contains(exempt, n) {
			tables = append(tables, n)
		}
	}
	names.Close()
	out := map[string]string{}
	for _, table := range tables {
		rows, err := db.QueryContext(t.Context(), `SELECT * FROM "`+table+`"`)
		if err != nil {
			t.Fatalf("read %s: %v", table, err)
		}
		cols, _ := rows.Columns()
		var lines []string
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			lines = append(lines, fmt.Sprintf("%q", vals))
		}
		rows.Close()
		slices.Sort(lines)
		sum := sha256.Sum256([]byte(strings.Join(lines, "\n")))
		out[table] = fmt.Sprintf("%d rows %s", len(lines), hex.EncodeToString(sum[:8]))
	}
	return out
}

// unchanged fails the test for every table whose content differs from
// before.
func (a *attackServer) unchanged(t *testing.T, before map[string]string, exempt ...string) {
	t.Helper()
	after := a.state(t, exempt...)
	for table, was := range before {
		if slices.Contains(exempt, table) {
			continue
		}
		if after[table] != was {
			t.Errorf("the attack wrote to %s: %s before, %s after", table, was, after[table])
		}
	}
}

// logsClean checks that no secret the run used reached the server's log.
func (a *attackServer) logsClean(t *testing.T) {
	t.Helper()
	logs := a.logsUntilNow(t)
	if len(logs) == 0 {
		t.Fatal("the server logged nothing; the check would prove nothing")
	}
	for _, s := range a.secrets {
		if s == "" {
			continue
		}
		if strings.Contains(logs, s) {
			t.Errorf("a secret (%d characters, starting %.6q) is in the server's log", len(s), s)
		}
		// A JWT's signature alone identifies it too.
		if parts := strings.Split(s, "."); len(parts) == 3 && len(parts[2]) > 20 && strings.Contains(logs, parts[2]) {
			t.Errorf("the signature of a token (starting %.6q) is in the server's log", s)
		}
	}
}

// logsUntilNow returns every line logged so far: it requests a unique
// path and waits for its request log line (lines come in order).
func (a *attackServer) logsUntilNow(t *testing.T) string {
	t.Helper()
	marker := fmt.Sprintf("/log-marker-%d", time.Now().UnixNano())
	if resp, err := http.Get(a.Base + marker); err == nil {
		resp.Body.Close()
	}
	for range 600 {
		a.mu.Lock()
		logs := strings.Join(a.logs, "\n")
		a.mu.Unlock()
		if strings.Contains(logs, marker) {
			return logs
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the request log line for %s did not come within 60 s", marker)
	return ""
}

// postJSONRPC sends one raw body to the MCP endpoint with a bearer token
// and returns the status, the header and the body.
func postJSONRPC(t *testing.T, u, token, body string, header ...string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	statelessHeaders(req, body)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] == "" {
			req.Header.Del(header[i])
		} else {
			req.Header.Set(header[i], header[i+1])
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, resp.Header, string(b)
}

// statelessHeaders sets what a request of protocol 2026-07-28 (no
// session) carries besides its body: the revision, and the method and
// name headers, read from the body when it parses. An initialize is left
// for the 2025-11-25 handshake.
func statelessHeaders(req *http.Request, body string) {
	if strings.Contains(body, `"method":"initialize"`) {
		return
	}
	req.Header.Set("MCP-Protocol-Version", "2026-07-28")
	var m struct {
		Method string `json:"method"`
		Params struct {
			Name string `json:"name"`
		} `json:"params"`
	}
	if len(body) < 8<<20 && json.Unmarshal([]byte(body), &m) == nil && m.Method != "" {
		req.Header.Set("Mcp-Method", m.Method)
		if m.Params.Name != "" {
			req.Header.Set("Mcp-Name", m.Params.Name)
		}
	}
}

// jsonrpcError finds the JSON-RPC error of a response body (plain JSON or
// one SSE event).
func jsonrpcError(body string) (code int, msg string, ok bool) {
	for _, line := range strings.Split(body, "\n") {
		line = strings.TrimPrefix(strings.TrimSpace(line), "data:")
		var m struct {
			Error *struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if json.Unmarshal([]byte(line), &m) == nil && m.Error != nil {
			return m.Error.Code, m.Error.Message, true
		}
	}
	return 0, "", false
}

// isolated reports whether this process sees no network interface but
// loopback, so that no attack can reach another machine.
func isolated(t *testing.T) bool {
	t.Helper()
	ifs, err := net.Interfaces()
	if err != nil {
		return false
	}
	for _, i := range ifs {
		if i.Flags&net.FlagLoopback == 0 {
			return false
		}
	}
	return true
}

func htmlUnescape(s string) string { return html.UnescapeString(s) }

// certPEM is the PEM of a TLS test server's certificate, for SSL_CERT_FILE.
func certPEM(ts *httptest.Server) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw})
}
