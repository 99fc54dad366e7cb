// Package hotpath holds micro-benchmarks of the pieces of atomcp's
// authenticated entity_tool read (bench/README.md, docs/performance.md):
//
//	go test -run xxx -bench . -benchmem ./bench/hotpath/
//	go test -run xxx -bench HTTP -cpuprofile cpu.out ./bench/hotpath/ && go tool pprof -top cpu.out
//
// They build what `atomcp serve` builds (SQLite store with the demo data,
// embedded authorization server, auth provider, MCP server, HTTP front) in
// process, with a personal access token of the demo's owner.
package hotpath

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/atomcp/atomcp/internal/atoms"
	"github.com/atomcp/atomcp/internal/auth"
	"github.com/atomcp/atomcp/internal/authserver"
	"github.com/atomcp/atomcp/internal/demo"
	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/httpserver"
	"github.com/atomcp/atomcp/internal/mcpserver"
	"github.com/atomcp/atomcp/internal/store"
	"github.com/atomcp/atomcp/internal/store/sqlite"
)

const (
	issuer  = "http://127.0.0.1:8000"
	mcpPath = "/api/mcp"
)

// fixture is atomcp, assembled as serve assembles it.
type fixture struct {
	st       store.Store
	svc      *atoms.Service
	as       *authserver.Server
	provider *auth.Provider
	server   *mcp.Server
	token    string
	patID    string
	caller   atoms.Caller
	reqID    string
}

func newFixture(tb testing.TB) *fixture {
	tb.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(tb.TempDir(), "atomcp.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		tb.Fatal(err)
	}
	f := &fixture{st: st, svc: atoms.New(st)}
	acct, err := authserver.AddAccount(ctx, st, "bench@example.com", "Bench", "bench-password-1", false, time.Now())
	if err != nil {
		tb.Fatal(err)
	}
	f.as, err = authserver.New(ctx, authserver.Options{Issuer: issuer, Resource: issuer + mcpPath, Store: st})
	if err != nil {
		tb.Fatal(err)
	}
	var pat *authserver.PersonalToken
	f.token, pat, err = authserver.CreatePersonalToken(ctx, st, authserver.PersonalTokenRequest{
		Account: acct, Issuer: issuer, Resource: issuer + mcpPath, TTL: 24 * time.Hour,
		KeyRetention: authserver.KeyRetention(authserver.DefaultAccessTokenTTL),
	}, time.Now())
	if err != nil {
		tb.Fatal(err)
	}
	f.patID = pat.ID
	f.caller = atoms.Caller{Issuer: authserver.EmbeddedIssuer, Subject: acct.ID, Email: acct.Email, EmailVerified: true, Name: acct.Name}
	actor, err := f.svc.Actor(ctx, f.caller)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := demo.Seed(ctx, f.svc, actor); err != nil {
		tb.Fatal(err)
	}
	page, err := f.svc.ListEntities(ctx, actor, domain.Requirement, atoms.ListParams{Limit: 1})
	if err != nil || len(page.Items) == 0 {
		tb.Fatalf("no requirement: %v", err)
	}
	f.reqID = page.Items[0].ID
	f.provider, err = auth.New(ctx, auth.Settings{
		Provider: auth.ProviderEmbedded, Issuer: issuer, Keys: auth.LocalKeys(f.as.AccessKeyfunc(ctx)),
		IssuerAlias: authserver.EmbeddedIssuer, Revoked: f.as.TokenRevoked,
		Algorithms: []string{"ES256"}, Public: &auth.PublicURL{MCPPath: mcpPath},
	})
	if err != nil {
		tb.Fatal(err)
	}
	f.server = mcpserver.New(f.svc, mcpserver.Options{Caller: mcpserver.TokenIdentity})
	return f
}

func (f *fixture) readParams() string {
	return fmt.Sprintf(`{"name":"entity_tool","arguments":{"entity_type":"requirement","operation":"read","entity_id":%q}}`, f.reqID)
}

// BenchmarkVerifyToken is the bearer check of one request: the verifier
// of the embedded provider (header and claims checks, ES256 signature
// with the cached key, the jti deny-list lookup in SQLite), beside its
// parts and the go-sdk yardstick's RS256 check.
func BenchmarkVerifyToken(b *testing.B) {
	f := newFixture(b)
	ctx := context.Background()
	req := httptest.NewRequest(http.MethodPost, issuer+mcpPath, nil)
	b.Run("atomcp-verifier", func(b *testing.B) {
		for b.Loop() {
			if _, err := f.provider.Verifier.Verify(ctx, f.token, req); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("deny-list-lookup", func(b *testing.B) {
		for b.Loop() {
			if _, err := f.st.AccessTokenDenied(ctx, "0f8b6f1e-4c54-4bd6-9a55-8d1f0c0e7d11"); err != nil {
				b.Fatal(err)
			}
		}
	})
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rsaKey := yardstickKey(b) // fixed: RSA key generation would swamp instruction counts
	claims := jwt.MapClaims{"iss": issuer, "sub": "x", "aud": issuer + mcpPath, "exp": time.Now().Add(time.Hour).Unix()}
	for _, tc := range []struct {
		name   string
		method jwt.SigningMethod
		sign   any
		verify any
	}{
		{"es256-signature-only", jwt.SigningMethodES256, ecKey, &ecKey.PublicKey},
		{"rs256-signature-only (go-sdk yardstick)", jwt.SigningMethodRS256, rsaKey, &rsaKey.PublicKey},
	} {
		tok, err := jwt.NewWithClaims(tc.method, claims).SignedString(tc.sign)
		if err != nil {
			b.Fatal(err)
		}
		p := jwt.NewParser(jwt.WithValidMethods([]string{tc.method.Alg()}), jwt.WithExpirationRequired())
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := p.Parse(tok, func(*jwt.Token) (any, error) { return tc.verify, nil }); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkStoreRead is the database part of the read: the store's
// GetEntity, and the service's caller resolution (Actor, which runs in a
// write transaction) and GetEntity (membership check included).
func BenchmarkStoreRead(b *testing.B) {
	f := newFixture(b)
	ctx := context.Background()
	b.Run("store-GetEntity", func(b *testing.B) {
		for b.Loop() {
			if _, err := f.st.GetEntity(ctx, domain.Requirement, f.reqID); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("service-Actor", func(b *testing.B) {
		for b.Loop() {
			if _, err := f.svc.Actor(ctx, f.caller); err != nil {
				b.Fatal(err)
			}
		}
	})
	actor, err := f.svc.Actor(ctx, f.caller)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("service-GetEntity", func(b *testing.B) {
		for b.Loop() {
			if _, err := f.svc.GetEntity(ctx, actor, domain.Requirement, f.reqID, false); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkToolDispatch is a tools/call of entity_tool read through
// go-sdk over an in-memory transport: argument decoding and schema
// validation, the handler (caller resolution, service read, result
// building) and the encoding of the answer, without HTTP and auth.
func BenchmarkToolDispatch(b *testing.B) {
	f := newFixture(b)
	ctx := context.Background()
	server := mcpserver.New(f.svc, mcpserver.Options{Caller: func(context.Context, *mcp.CallToolRequest) (atoms.Caller, error) {
		return f.caller, nil
	}})
	ct, st := mcp.NewInMemoryTransports()
	ss, err := server.Connect(ctx, st, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer ss.Close()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "bench", Version: "1"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer cs.Close()
	params := &mcp.CallToolParams{Name: "entity_tool", Arguments: map[string]any{"entity_type": "requirement", "operation": "read", "entity_id": f.reqID}}
	for b.Loop() {
		res, err := cs.CallTool(ctx, params)
		if err != nil || res.IsError {
			b.Fatalf("%v %+v", err, res)
		}
	}
}

// BenchmarkEncodeResult is the JSON encoding of entity_tool read's
// result, as the answer carries it.
func BenchmarkEncodeResult(b *testing.B) {
	f := newFixture(b)
	ctx := context.Background()
	ct, st := mcp.NewInMemoryTransports()
	server := mcpserver.New(f.svc, mcpserver.Options{Caller: func(context.Context, *mcp.CallToolRequest) (atoms.Caller, error) { return f.caller, nil }})
	ss, err := server.Connect(ctx, st, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer ss.Close()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "bench", Version: "1"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer cs.Close()
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "entity_tool", Arguments: map[string]any{"entity_type": "requirement", "operation": "read", "entity_id": f.reqID}})
	if err != nil || res.IsError {
		b.Fatalf("%v %+v", err, res)
	}
	var n int
	for b.Loop() {
		out, err := json.Marshal(res)
		if err != nil {
			b.Fatal(err)
		}
		n = len(out)
	}
	b.ReportMetric(float64(n), "bytes/result")
}

// BenchmarkHTTP is the whole authenticated request as wrk sends it,
// through atomcp's HTTP front in process (no sockets): the place to take
// a CPU profile from. Stateful uses one session opened beforehand.
//
// Each reports how much the live heap grew over its run (heap-growth-KiB): stateful
// sessions keep their response events (the event store) and, in go-sdk
// v1.8, one entry per response stream until the session ends.
func BenchmarkHTTP(b *testing.B) {
	for _, tc := range []struct {
		name       string
		stateless  bool
		eventStore int64
	}{{"stateless", true, 0}, {"stateful", false, 0}, {"stateful-event-store-1MiB", false, 1 << 20}, {"stateful-event-store-off", false, -1}} {
		stateless := tc.stateless
		b.Run(tc.name, func(b *testing.B) {
			f := newFixture(b)
			front := httpserver.New(f.server, httpserver.Options{
				MCPPath: mcpPath, BaseURL: issuer, Stateless: stateless, ListenLoopback: true, EventStoreBytes: tc.eventStore,
				Auth: f.provider.Middleware.Wrap, Logger: slog.New(slog.DiscardHandler),
			})
			runHTTP(b, front, f.token, stateless, f.readParams(), f.reqID)
		})
	}
}

// call sends one stateless tools/call of the read with token.
func (f *fixture) call(front http.Handler, token string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, issuer+mcpPath, strings.NewReader(`{"jsonrpc":"2.0","id":"1","method":"tools/call","params":`+f.readParams()+`}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("MCP-Protocol-Version", "2025-11-25")
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	front.ServeHTTP(rec, req)
	return rec
}

// TestFixture checks the fixture the benchmarks measure: the token is
// accepted and the read answers with the requirement, statelessly.
func TestFixture(t *testing.T) {
	f := newFixture(t)
	front := httpserver.New(f.server, httpserver.Options{MCPPath: mcpPath, BaseURL: issuer, Stateless: true, ListenLoopback: true,
		Auth: f.provider.Middleware.Wrap})
	for _, tc := range []struct {
		token string
		want  int
	}{{f.token, http.StatusOK}, {f.token + "x", http.StatusUnauthorized}} {
		rec := f.call(front, tc.token)
		if rec.Code != tc.want || (tc.want == http.StatusOK && !strings.Contains(rec.Body.String(), f.reqID)) {
			t.Errorf("token accepted=%v: %d %s", tc.want == 200, rec.Code, rec.Body)
		}
	}
}

// TestRevocationIsImmediate: the verifier caches the verified token, and
// still the first request after `atomcp tokens revoke` (the store alone,
// as another process or replica would do it) is refused.
func TestRevocationIsImmediate(t *testing.T) {
	f := newFixture(t)
	front := httpserver.New(f.server, httpserver.Options{MCPPath: mcpPath, BaseURL: issuer, Stateless: true, ListenLoopback: true,
		Auth: f.provider.Middleware.Wrap})
	for i := range 2 { // the second answer comes from the cache
		if rec := f.call(front, f.token); rec.Code != http.StatusOK {
			t.Fatalf("request %d before the revocation: %d %s", i, rec.Code, rec.Body)
		}
	}
	if _, err := authserver.RevokePersonalToken(t.Context(), f.st, f.patID, time.Now()); err != nil {
		t.Fatal(err)
	}
	rec := f.call(front, f.token)
	if rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Header().Get("WWW-Authenticate"), "revoked") {
		t.Fatalf("after the revocation: %d %q; want 401 saying revoked", rec.Code, rec.Header().Get("WWW-Authenticate"))
	}
}

// BenchmarkIdleSessions opens 1,000 stateful sessions (initialize and
// notifications/initialized, authenticated) and reports the live heap each
// one holds after a GC, with and without the event store: the in-process
// counterpart of bench/driver's sessions table, and the place to take a
// heap profile (-memprofile, then go tool pprof -sample_index=inuse_space).
func BenchmarkIdleSessions(b *testing.B) {
	for _, tc := range []struct {
		name  string
		bytes int64
	}{{"event-store-default", 0}, {"event-store-off", -1}} {
		b.Run(tc.name, func(b *testing.B) {
			f := newFixture(b)
			front := httpserver.New(f.server, httpserver.Options{
				MCPPath: mcpPath, BaseURL: issuer, ListenLoopback: true, EventStoreBytes: tc.bytes,
				Auth: f.provider.Middleware.Wrap, Logger: slog.New(slog.DiscardHandler),
			})
			post := func(session, body string) *httptest.ResponseRecorder {
				req := httptest.NewRequest(http.MethodPost, issuer+mcpPath, strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Accept", "application/json, text/event-stream")
				req.Header.Set("MCP-Protocol-Version", "2025-11-25")
				req.Header.Set("Authorization", "Bearer "+f.token)
				if session != "" {
					req.Header.Set("Mcp-Session-Id", session)
				}
				rec := httptest.NewRecorder()
				front.ServeHTTP(rec, req)
				return rec
			}
			open := func() {
				rec := post("", `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"b","version":"1"}}}`)
				sid := rec.Header().Get("Mcp-Session-Id")
				if sid == "" {
					b.Fatalf("initialize: %d %s", rec.Code, rec.Body)
				}
				post(sid, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
			}
			for range 10 { // warm pools and caches
				open()
			}
			const n = 1000
			var heap, stack, goroutines float64
			for b.Loop() {
				h0, s0, g0 := live()
				for range n {
					open()
				}
				h1, s1, g1 := live()
				heap, stack, goroutines = float64(h1-h0)/n, float64(s1-s0)/n, float64(g1-g0)/n
			}
			b.ReportMetric(heap, "heap-B/session")
			b.ReportMetric(stack, "stack-B/session")
			b.ReportMetric(goroutines, "goroutines/session")
		})
	}
}

// live is the live heap, the goroutine stacks and the goroutines, after
// a full collection.
func live() (heap, stack int64, goroutines int) {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc), int64(m.StackInuse), runtime.NumGoroutine()
}
