package fastcall

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Call runs the middleware in go-sdk's order: the last added runs first,
// and within one Use the first listed is outermost, as with
// AddReceivingMiddleware.
func TestChainRunsMiddlewareAsGoSDK(t *testing.T) {
	s := mcp.NewServer(&mcp.Implementation{Name: "t", Version: "1"}, nil)
	var order []string
	mark := func(name string) mcp.Middleware {
		return func(next mcp.MethodHandler) mcp.MethodHandler {
			return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
				order = append(order, name)
				return next(ctx, method, req)
			}
		}
	}
	AddTool(s, &mcp.Tool{Name: "t", InputSchema: map[string]any{"type": "object"}}, func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		order = append(order, "tool")
		return &mcp.CallToolResult{}, nil
	})
	Use(s, mark("a"), mark("b"))
	Use(s, mark("c"))

	// What go-sdk does with the same server, through its own transport.
	ct, st := mcp.NewInMemoryTransports()
	ss, err := s.Connect(t.Context(), st, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ss.Close()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "c", Version: "1"}, nil).Connect(t.Context(), ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	order = nil
	if _, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "t"}); err != nil {
		t.Fatal(err)
	}
	// The middleware also saw initialize and notifications/initialized;
	// the tools/call is the last four marks.
	sdkOrder := order[max(0, len(order)-4):]

	order = nil
	calls, ok := Lookup(s)
	if !ok {
		t.Fatal("no Calls recorded for the server")
	}
	res, err := calls.Call(t.Context(), &mcp.CallToolRequest{Params: &mcp.CallToolParamsRaw{Name: "t"}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(order, " "), strings.Join(sdkOrder, " "); got != want || want != "c a b tool" {
		t.Errorf("fast path order %q, go-sdk order %q; want both \"c a b tool\"", got, want)
	}
	if r := res.(*mcp.CallToolResult); r.Content == nil {
		t.Error("a result without content must get an empty list, as go-sdk gives it")
	}
	if _, err := calls.Call(t.Context(), &mcp.CallToolRequest{Params: &mcp.CallToolParamsRaw{Name: "nope"}}); err == nil || !strings.Contains(err.Error(), `unknown tool "nope"`) {
		t.Errorf("unknown tool: %v", err)
	}
}

// No receiving middleware is added past Use: the fast path would run tool
// calls without it. Tests, bench/ (the bare go-sdk yardstick) and this
// package are outside the search.
func TestNoMiddlewareBypassesTheFastPath(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Skip("not in the module tree")
	}
	out, _ := exec.Command("grep", "-rln", "--include=*.go", "AddReceivingMiddleware", filepath.Join(root, "internal"), filepath.Join(root, "cmd")).Output()
	for _, f := range strings.Fields(string(out)) {
		rel, _ := filepath.Rel(root, f)
		if strings.HasPrefix(rel, "internal/fastcall/") || strings.HasSuffix(rel, "_test.go") {
			continue
		}
		t.Errorf("%s calls AddReceivingMiddleware: use fastcall.Use, or the fast path runs tool calls without that middleware", rel)
	}
}
