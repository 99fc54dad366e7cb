package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/atomcp/atomcp/internal/pgtest"
)

// roundRobin is a client-side load balancer: every request goes to the
// next replica, whatever its URL says (the Host header stays the public
// one). A replica that refuses the connection is skipped, as a load
// balancer with a health check would.
type roundRobin struct {
	mu     sync.Mutex
	addrs  []string
	next   int
	served map[string]int
}

func (rr *roundRobin) RoundTrip(req *http.Request) (*http.Response, error) {
	var errs []error
	for range rr.addrs {
		rr.mu.Lock()
		addr := rr.addrs[rr.next%len(rr.addrs)]
		rr.next++
		rr.mu.Unlock()
		out := req.Clone(req.Context())
		out.URL.Host = addr
		out.Host = req.URL.Host
		if req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			out.Body = body
		}
		resp, err := http.DefaultTransport.RoundTrip(out)
		var opErr *net.OpError
		if errors.As(err, &opErr) && opErr.Op == "dial" {
			errs = append(errs, err)
			continue // nothing was sent: the next replica may take it
		}
		if err == nil {
			rr.mu.Lock()
			rr.served[addr]++
			rr.mu.Unlock()
		}
		return resp, err
	}
	return nil, errors.Join(errs...)
}

func (rr *roundRobin) counts() map[string]int {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	c := map[string]int{}
	for k, v := range rr.served {
		c[k] = v
	}
	return c
}

// TestThreeReplicasOnePostgres is the "done when" of the PostgreSQL
// issue: three `atomcp serve` replicas share one PostgreSQL database
// behind one public URL, and a client whose every request goes to the
// next replica registers, signs in, exchanges the code, refreshes, calls
// tools and runs a workflow; a replayed refresh token revokes its family
// on every replica; then one replica is killed and the others keep
// serving.
func TestThreeReplicasOnePostgres(t *testing.T) {
	db := pgtest.NewDB(t).String()
	dir := t.TempDir()
	const base = "http://atoms.localhost"
	// The replicas share the key that seals the signing keys: with
	// PostgreSQL there is no file beside the database to generate it into.
	common := []string{"ATOMCP_DATABASE_URL=" + db, "ATOMCP_AUTH=embedded", "ATOMCP_BASE_URL=" + base, "ATOMCP_STATELESS=true",
		"ATOMCP_SECRET_KEY=" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))}

	users := exec.Command(binary, "users", "add", "alice@example.com", "--name", "Alice", "--owner")
	users.Dir = dir
	users.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}, common...)
	users.Stdin = strings.NewReader("alice-password\n")
	if out, err := users.CombinedOutput(); err != nil {
		t.Fatalf("users add on PostgreSQL: %v\n%s", err, out)
	}

	var replicas []*server
	rr := &roundRobin{served: map[string]int{}}
	for range 3 {
		addr := freeAddr(t)
		replicas = append(replicas, startServerEnv(t, dir, "http://"+addr, append([]string{"ATOMCP_ADDR=" + addr}, common...)...))
		rr.addrs = append(rr.addrs, addr)
	}
	hc := &http.Client{Transport: rr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	post := func(u string, form url.Values) (int, map[string]any) {
		t.Helper()
		resp, err := hc.PostForm(u, form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}

	// Every replica publishes the same keys (they live in the database).
	var jwks []string
	for range 3 {
		resp, err := hc.Get(base + "/oauth/jwks")
		if err != nil {
			t.Fatal(err)
		}
		var doc struct{ Keys []struct{ Kid string } }
		err = json.NewDecoder(resp.Body).Decode(&doc)
		resp.Body.Close()
		if err != nil || len(doc.Keys) == 0 {
			t.Fatalf("jwks: %v %v", doc, err)
		}
		jwks = append(jwks, doc.Keys[0].Kid)
	}
	if jwks[0] != jwks[1] || jwks[1] != jwks[2] {
		t.Errorf("replicas publish different keys: %v", jwks)
	}

	// Registration on one replica.
	const redirect = "http://127.0.0.1:9/callback"
	resp, err := hc.Post(base+"/oauth/register", "application/json",
		strings.NewReader(`{"redirect_uris":["`+redirect+`"],"token_endpoint_auth_method":"none","client_name":"replicas e2e"}`))
	if err != nil {
		t.Fatal(err)
	}
	var reg map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&reg)
	resp.Body.Close()
	clientID, _ := reg["client_id"].(string)
	if resp.StatusCode != http.StatusCreated || clientID == "" {
		t.Fatalf("register: %d %v", resp.StatusCode, reg)
	}

	// The authorization request, sign-in and consent each reach another
	// replica, which knows the client and the session from the database.
	verifier := strings.Repeat("replica-verifier-", 3)
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {redirect}, "state": {"s1"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}, "resource": {base + "/api/mcp"}}
	b := newBrowser(t)
	b.hc.Transport = rr
	r, page := b.do(http.MethodGet, base+"/oauth/authorize?"+q.Encode(), nil)
	if r.StatusCode != 200 || !strings.Contains(page, "replicas e2e") {
		t.Fatalf("authorize: %d\n%s", r.StatusCode, page)
	}
	r, page = b.submit(page, url.Values{"email": {"alice@example.com"}, "password": {"alice-password"}})
	if r.StatusCode != 200 || !strings.Contains(page, `value="allow"`) {
		t.Fatalf("sign-in: %d\n%s", r.StatusCode, page)
	}
	r, _ = b.submit(page, url.Values{"decision": {"allow"}})
	loc, _ := url.Parse(r.Header.Get("Location"))
	if r.StatusCode != http.StatusSeeOther || loc == nil || loc.Query().Get("code") == "" {
		t.Fatalf("consent: %d %q", r.StatusCode, r.Header.Get("Location"))
	}

	// The code is redeemed at yet another replica.
	exchange := url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")}, "redirect_uri": {redirect},
		"code_verifier": {verifier}, "client_id": {clientID}, "resource": {base + "/api/mcp"}}
	status, tok := post(base+"/oauth/token", exchange)
	if status != 200 || tok["access_token"] == nil || tok["refresh_token"] == nil {
		t.Fatalf("code exchange: %d %v", status, tok)
	}

	// Refresh rotates on one replica.
	status, tok2 := post(base+"/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}, "client_id": {clientID}})
	if status != 200 || tok2["refresh_token"] == nil {
		t.Fatalf("refresh: %d %v", status, tok2)
	}

	// MCP calls, each to the next replica, with the refreshed token.
	cs := connectRoundRobin(t, base+"/api/mcp", rr, tok2["access_token"].(string))
	org := entityOf(t, mustCall(t, cs, "entity_tool", map[string]any{"entity_type": "organization", "operation": "create", "data": map[string]any{"name": "Replicated Org"}}))
	for range 3 { // read back on every replica
		got := entityOf(t, mustCall(t, cs, "entity_tool", map[string]any{"entity_type": "organization", "operation": "read", "entity_id": org["id"]}))
		if got["name"] != "Replicated Org" {
			t.Fatalf("read on another replica: %v", got)
		}
	}
	mustCall(t, cs, "workspace_tool", map[string]any{"operation": "set_context", "context_type": "organization", "entity_id": org["id"]})
	wf := mustCall(t, cs, "workflow_tool", map[string]any{"workflow": "setup_project",
		"parameters": map[string]any{"name": "Rocket", "organization_id": "auto", "initial_documents": []any{"Spec"}}})
	if wf["status"] != "completed" {
		t.Fatalf("setup_project: %v", wf)
	}
	// The workspace context was set on one replica and is used on others.
	mustCall(t, cs, "workflow_tool", map[string]any{"workflow": "import_requirements",
		"parameters": map[string]any{"document_id": "Spec", "requirements": []any{
			map[string]any{"name": "Battery thermal limits", "external_id": "REQ-1"}, map[string]any{"name": "Thrust", "external_id": "REQ-2"}}}})
	for range 3 {
		res := mustCall(t, cs, "query_tool", map[string]any{"query_type": "search", "search_term": "batt"})
		if res["total"] != float64(1) {
			t.Fatalf("search on another replica: %v", res)
		}
	}
	if c := rr.counts(); len(c) != 3 {
		t.Fatalf("requests served per replica = %v; want all three", c)
	}

	// Replaying the rotated refresh token revokes the family: the token
	// it was rotated into fails on the other replicas too.
	if status, body := post(base+"/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}, "client_id": {clientID}}); status != http.StatusBadRequest {
		t.Errorf("replayed refresh token: %d %v; want 400", status, body)
	}
	for range 2 {
		status, body := post(base+"/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok2["refresh_token"].(string)}, "client_id": {clientID}})
		if status != http.StatusBadRequest {
			t.Errorf("refresh in a revoked family: %d %v; want 400 on every replica", status, body)
		}
	}

	// Later sign-ins need no password: the session cookie is honoured by
	// any replica.
	signIn := func() map[string]any {
		t.Helper()
		r, page := b.do(http.MethodGet, base+"/oauth/authorize?"+q.Encode(), nil)
		if r.StatusCode == 200 && strings.Contains(page, `value="allow"`) {
			r, _ = b.submit(page, url.Values{"decision": {"allow"}})
		}
		loc, _ := url.Parse(r.Header.Get("Location"))
		if r.StatusCode/100 != 3 || loc == nil || loc.Query().Get("code") == "" {
			t.Fatalf("authorization with the session: %d %q\n%s", r.StatusCode, r.Header.Get("Location"), page)
		}
		exchange.Set("code", loc.Query().Get("code"))
		status, tok := post(base+"/oauth/token", exchange)
		if status != 200 {
			t.Fatalf("code exchange: %d %v", status, tok)
		}
		return tok
	}

	// A code replayed at another replica fails, and revokes what was
	// issued for it there and everywhere.
	tok3 := signIn()
	if status, body := post(base+"/oauth/token", exchange); status != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Errorf("code replayed at another replica: %d %v; want invalid_grant", status, body)
	}
	if status, _ := post(base+"/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok3["refresh_token"].(string)}, "client_id": {clientID}}); status != http.StatusBadRequest {
		t.Errorf("refresh of a replayed code's tokens: %d; want 400", status)
	}

	// One replica dies; the others keep serving.
	tok3 = signIn()
	replicas[1].kill(t)
	before := rr.counts()[rr.addrs[1]]
	cs = connectRoundRobin(t, base+"/api/mcp", rr, tok3["access_token"].(string))
	for i := range 4 {
		got := entityOf(t, mustCall(t, cs, "entity_tool", map[string]any{"entity_type": "organization", "operation": "read", "entity_id": org["id"]}))
		if got["name"] != "Replicated Org" {
			t.Fatalf("read %d after a replica died: %v", i, got)
		}
	}
	created := entityOf(t, mustCall(t, cs, "entity_tool", map[string]any{"entity_type": "test", "operation": "create",
		"data": map[string]any{"project_id": wf["result"].(map[string]any)["project"].(map[string]any)["id"], "title": "Survives a dead replica"}}))
	if created["id"] == nil {
		t.Fatalf("create after a replica died: %v", created)
	}
	if status, body := post(base+"/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok3["refresh_token"].(string)}, "client_id": {clientID}}); status != 200 {
		t.Errorf("refresh after a replica died: %d %v", status, body)
	}
	if after := rr.counts()[rr.addrs[1]]; after != before {
		t.Errorf("the killed replica served %d requests after its death", after-before)
	}
	for _, i := range []int{0, 2} {
		replicas[i].stop(t)
	}
}

// connectRoundRobin connects a go-sdk client whose requests carry token
// and go to the next replica each.
func connectRoundRobin(t *testing.T, endpoint string, rr *roundRobin, token string) *mcp.ClientSession {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client := mcp.NewClient(&mcp.Implementation{Name: "atomcp-e2e-replicas", Version: "1"}, nil)
	hc := &http.Client{Transport: bearerOver{token: token, next: rr}}
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: endpoint, HTTPClient: hc, MaxRetries: -1}, nil)
	if err != nil {
		t.Fatalf("connect through the replicas: %v", err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

// bearerOver adds a bearer token and hands the request to next.
type bearerOver struct {
	token string
	next  http.RoundTripper
}

func (b bearerOver) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

// runServeFailing runs `atomcp serve` with env and returns its combined output;
// the command must fail.
func runServeFailing(t *testing.T, env ...string) string {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "serve")
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "ATOMCP_ADDR=" + freeAddr(t), "ATOMCP_AUTH=none"}, env...)
	out, err := cmd.CombinedOutput()
	if err == nil || ctx.Err() != nil {
		t.Fatalf("serve with %v: %v (context %v); want it to fail at start-up\n%s", env, err, ctx.Err(), out)
	}
	return string(out)
}

// A wrong PostgreSQL URL stops start-up with a line naming the server and
// the cause, never the password.
func TestServeUnreachablePostgres(t *testing.T) {
	out := runServeFailing(t, "ATOMCP_DATABASE_URL=postgres://atoms:hunter2@127.0.0.1:1/atoms")
	if !strings.Contains(out, "127.0.0.1:1/atoms") || !strings.Contains(out, "connection refused") || strings.Contains(out, "hunter2") {
		t.Errorf("serve with nothing listening:\n%s\nwant a line naming 127.0.0.1:1/atoms and the cause, without the password", out)
	}
}

// A replica older than the database schema refuses to start and says why.
func TestServeRefusesNewerSchema(t *testing.T) {
	db := pgtest.NewDB(t).String()
	dir := t.TempDir()
	migrate := exec.Command(binary, "migrate")
	migrate.Dir = dir
	migrate.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "ATOMCP_DATABASE_URL=" + db}
	if out, err := migrate.CombinedOutput(); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	conn, err := pgx.Connect(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	// What a newer atomcp would leave behind.
	if _, err := conn.Exec(t.Context(), `INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_future.sql', now())`); err != nil {
		t.Fatal(err)
	}
	out := runServeFailing(t, "ATOMCP_DATABASE_URL="+db)
	if !strings.Contains(out, "9999") || !strings.Contains(out, "newer atomcp") {
		t.Errorf("serve on a newer schema:\n%s\nwant a refusal naming version 9999 and a newer atomcp", out)
	}
}
