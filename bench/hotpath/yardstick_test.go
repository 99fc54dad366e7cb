package hotpath

import (
	"context"
	"crypto/rsa"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	sdkauth "github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// BenchmarkYardstick is bench/gosdk's server (go-sdk's echo tool behind
// its RequireBearerToken with an RS256 check by golang-jwt) in process,
// driven exactly as BenchmarkHTTP drives atomcp: the yardstick of the
// issue-15 targets, per request, in the same harness. Compare the two
// with allocations (exact) and instruction counts (valgrind
// --tool=callgrind, docs/performance.md), which survive a loaded machine.
func BenchmarkYardstick(b *testing.B) {
	for _, stateless := range []bool{true, false} {
		name := "stateful"
		if stateless {
			name = "stateless"
		}
		b.Run(name, func(b *testing.B) {
			h, token := newYardstick(b, stateless)
			runHTTP(b, h, token, stateless, `{"name":"echo","arguments":{"message":"hello"}}`, "hello")
		})
	}
}

// yardstickEcho is bench/gosdk's echo tool.
func yardstickEcho(_ context.Context, _ *mcp.CallToolRequest, in struct {
	Message string `json:"message" jsonschema:"the message to echo"`
}) (*mcp.CallToolResult, any, error) {
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: in.Message}}}, nil, nil
}

// newYardstick builds bench/gosdk's handler with a fresh RSA-2048 key and
// returns it with a token it accepts.
func newYardstick(tb testing.TB, stateless bool) (http.Handler, string) {
	tb.Helper()
	key := yardstickKey(tb)
	const iss, aud = "https://bench.example", issuer + mcpPath
	token, err := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"iss": iss, "sub": "bench", "aud": aud, "scope": "mcp", "exp": time.Now().Add(24 * time.Hour).Unix(),
	}).SignedString(key)
	if err != nil {
		tb.Fatal(err)
	}
	server := mcp.NewServer(&mcp.Implementation{Name: "bench-gosdk-echo", Version: "1.0.0"}, nil)
	mcp.AddTool(server, &mcp.Tool{Name: "echo", Description: "Echo the message back"}, yardstickEcho)
	handler := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, &mcp.StreamableHTTPOptions{Stateless: stateless})
	type claims struct {
		jwt.RegisteredClaims
		Scope string `json:"scope"`
	}
	parser := jwt.NewParser(jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuer(iss), jwt.WithExpirationRequired(), jwt.WithAudience(aud))
	keyfunc := func(*jwt.Token) (any, error) { return &key.PublicKey, nil }
	verify := func(_ context.Context, token string, _ *http.Request) (*sdkauth.TokenInfo, error) {
		var c claims
		if _, err := parser.ParseWithClaims(token, &c, keyfunc); err != nil {
			return nil, fmt.Errorf("%w: %v", sdkauth.ErrInvalidToken, err)
		}
		if c.Subject == "" {
			return nil, fmt.Errorf("%w: no subject", sdkauth.ErrInvalidToken)
		}
		return &sdkauth.TokenInfo{Scopes: strings.Fields(c.Scope), Expiration: c.ExpiresAt.Time, UserID: c.Subject}, nil
	}
	mux := http.NewServeMux()
	mux.Handle(mcpPath, sdkauth.RequireBearerToken(verify, nil)(handler))
	return mux, token
}

// yardstickKey is a fixed RSA-2048 key (a test key, used nowhere else),
// so that instruction counts of whole runs do not vary with key
// generation, which costs tens of millions of instructions at random.
func yardstickKey(tb testing.TB) *rsa.PrivateKey {
	tb.Helper()
	pem, err := os.ReadFile("testdata/yardstick-rsa.pem")
	if err != nil {
		tb.Fatal(err)
	}
	key, err := jwt.ParseRSAPrivateKeyFromPEM(pem)
	if err != nil {
		tb.Fatal(err)
	}
	return key
}

// runHTTP is the measured loop of BenchmarkHTTP and BenchmarkYardstick:
// tools/call of params (the JSON of CallToolParams) with token, on one
// session opened beforehand unless stateless, from GOMAXPROCS goroutines;
// every answer must be 200 and contain want. It reports how much the live
// heap grew over the run (heap-growth-KiB).
func runHTTP(b *testing.B, h http.Handler, token string, stateless bool, params, want string) {
	do := func(session, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, issuer+mcpPath, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("MCP-Protocol-Version", "2025-11-25")
		req.Header.Set("Authorization", "Bearer "+token)
		if session != "" {
			req.Header.Set("Mcp-Session-Id", session)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	session := ""
	if !stateless {
		rec := do("", `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"b","version":"1"}}}`)
		session = rec.Header().Get("Mcp-Session-Id")
		if session == "" {
			b.Fatalf("initialize: %d %s", rec.Code, rec.Body)
		}
		do(session, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	}
	// Ids must be unique among the requests in flight in a session.
	var ids atomic.Int64
	body := func() string {
		return `{"jsonrpc":"2.0","id":` + strconv.FormatInt(ids.Add(1), 10) + `,"method":"tools/call","params":` + params + `}`
	}
	if rec := do(session, body()); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), want) || strings.Contains(rec.Body.String(), `"isError":true`) {
		b.Fatalf("%d %s", rec.Code, rec.Body)
	}
	heapBefore, _, _ := live()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if rec := do(session, body()); rec.Code != http.StatusOK {
				b.Errorf("%d %s", rec.Code, rec.Body)
				return
			}
		}
	})
	b.StopTimer()
	heap, _, _ := live()
	b.ReportMetric(float64(heap-heapBefore)/1024, "heap-growth-KiB")
}
