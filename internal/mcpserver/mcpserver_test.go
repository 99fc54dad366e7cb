package mcpserver

//lint:file-ignore SA1019 tests the logging capability that 2025-11-25 clients still use.

import (
	"context"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/atomcp/atomcp/internal/atoms"
)

// connect serves s over an in-memory transport and returns the client's
// view of the session.
func connect(t *testing.T, s *mcp.Server) *mcp.ClientSession {
	t.Helper()
	ctx := context.Background()
	st, ct := mcp.NewInMemoryTransports()
	ss, err := s.Connect(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ss.Close() })
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cs.Close() })
	return cs
}

func TestCapabilitiesOfTheProductServer(t *testing.T) {
	s := New(atoms.New(nil), Options{})
	caps := connect(t, s).InitializeResult().Capabilities
	if caps.Tools == nil {
		t.Error("tools not advertised")
	}
	if caps.Logging == nil {
		t.Error("logging not advertised")
	}
	if caps.Completions == nil {
		t.Error("completions not advertised")
	}
	// Resources, when the Atoms tools register any, can be subscribed to.
	if caps.Resources != nil && !caps.Resources.Subscribe {
		t.Error("resources advertised without subscribe")
	}
}

func TestCapabilitiesFollowWhatIsRegistered(t *testing.T) {
	c := NewCompletions()
	s := New(atoms.New(nil), Options{Completions: c})
	s.AddResource(&mcp.Resource{Name: "r", URI: "test://r"}, func(_ context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
		return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: req.Params.URI, Text: "x"}}}, nil
	})
	cs := connect(t, s)
	caps := cs.InitializeResult().Capabilities
	if caps.Resources == nil || !caps.Resources.Subscribe {
		t.Fatalf("resources.subscribe not advertised: %+v", caps.Resources)
	}
	ctx := context.Background()
	if err := cs.Subscribe(ctx, &mcp.SubscribeParams{URI: "test://r"}); err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	if err := cs.Unsubscribe(ctx, &mcp.UnsubscribeParams{URI: "test://r"}); err != nil {
		t.Fatalf("unsubscribe: %v", err)
	}
	if err := cs.SetLoggingLevel(ctx, &mcp.SetLoggingLevelParams{Level: "info"}); err != nil {
		t.Fatalf("logging/setLevel: %v", err)
	}
}

func TestCacheHints(t *testing.T) {
	for _, tc := range []struct {
		req   mcp.Request
		given string
		want  string
	}{
		{&mcp.ListToolsRequest{}, "", "public"},
		{&mcp.ListPromptsRequest{}, "", "public"},
		{&mcp.ListResourcesRequest{}, "", "private"},
		{&mcp.ReadResourceRequest{}, "", "private"},
		{&mcp.ReadResourceRequest{}, "public", "public"}, // the handler's choice stands
	} {
		c := &mcp.Cacheable{CacheScope: tc.given}
		cacheHints(context.Background(), tc.req, c)
		if c.CacheScope != tc.want {
			t.Errorf("%T with %q: cacheScope %q, want %q", tc.req, tc.given, c.CacheScope, tc.want)
		}
	}
}
