package tools_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/atomcp/atomcp/internal/atoms"
	"github.com/atomcp/atomcp/internal/atoms/tools"
	"github.com/atomcp/atomcp/internal/mcpserver"
)

func TestTraceabilityMatrixResourceAndPrompts(t *testing.T) {
	e := newEnv(t)
	cs := e.client(t, alice)
	_, proj, doc := chain(t, cs, "Matrix")
	r1 := entity(t, ok(t, cs, "entity_tool", map[string]any{"entity_type": "requirement", "operation": "create", "data": map[string]any{"document_id": doc, "name": "Has a | pipe", "external_id": "M-1"}}))["id"]
	ok(t, cs, "entity_tool", map[string]any{"entity_type": "requirement", "operation": "create", "data": map[string]any{"document_id": doc, "name": "Untested", "external_id": "M-2"}})
	tst := entity(t, ok(t, cs, "entity_tool", map[string]any{"entity_type": "test", "operation": "create", "data": map[string]any{"project_id": proj, "title": "Pipe test"}}))["id"]
	ok(t, cs, "relationship_tool", map[string]any{"operation": "link", "relationship_type": "requirement_test", "source": map[string]any{"type": "requirement", "id": r1}, "target": map[string]any{"type": "test", "id": tst}})

	ctx := context.Background()
	tmpls, err := cs.ListResourceTemplates(ctx, nil)
	if err != nil || len(tmpls.ResourceTemplates) != 1 {
		t.Fatalf("templates = %v, %v", tmpls, err)
	}
	res, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "atoms://projects/" + proj + "/traceability-matrix"})
	if err != nil {
		t.Fatal(err)
	}
	md := res.Contents[0].Text
	for _, want := range []string{"| M-1 | Has a \\| pipe |", "Pipe test (full, pending)", "| M-2 | Untested |", "1 of 2 requirements have a test (50.0%)"} {
		if !strings.Contains(md, want) {
			t.Errorf("matrix lacks %q:\n%s", want, md)
		}
	}
	// By name, URL-escaped, works too; another user's project is not found.
	if _, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "atoms://projects/Rover/traceability-matrix"}); err != nil {
		t.Errorf("by name: %v", err)
	}
	if _, err := e.client(t, bob).ReadResource(ctx, &mcp.ReadResourceParams{URI: "atoms://projects/" + proj + "/traceability-matrix"}); err == nil {
		t.Error("bob read alice's matrix")
	}

	prompts, err := cs.ListPrompts(ctx, nil)
	if err != nil || len(prompts.Prompts) < 2 {
		t.Fatalf("prompts = %v, %v", prompts, err)
	}
	p, err := cs.GetPrompt(ctx, &mcp.GetPromptParams{Name: "atoms_traceability_review", Arguments: map[string]string{"project": "Rover"}})
	if err != nil || !strings.Contains(p.Messages[0].Content.(*mcp.TextContent).Text, `"project_id": "Rover"`) {
		t.Fatalf("prompt = %v, %v", p, err)
	}
	if _, err := cs.GetPrompt(ctx, &mcp.GetPromptParams{Name: "atoms_traceability_review"}); err == nil {
		t.Error("a prompt without its required argument succeeded")
	}
}

// TestMatrixSubscribersAreNotified: a client subscribed to a project's
// matrix hears of a requirement created in that project, and not of one
// created elsewhere.
func TestMatrixSubscribersAreNotified(t *testing.T) {
	e := newEnv(t)
	setup := e.client(t, alice)
	_, proj, doc := chain(t, setup, "Notify")
	_, _, otherDoc := chain(t, setup, "Elsewhere")

	updated := make(chan string, 10)
	// The product's server wiring, which accepts subscriptions.
	server := mcpserver.New(e.svc, mcpserver.Options{Caller: func(context.Context, *mcp.CallToolRequest) (atoms.Caller, error) { return alice, nil }})
	st, ct := mcp.NewInMemoryTransports()
	ctx := context.Background()
	ss, err := server.Connect(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ss.Close()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "c", Version: "1"}, &mcp.ClientOptions{
		ResourceUpdatedHandler: func(_ context.Context, req *mcp.ResourceUpdatedNotificationRequest) { updated <- req.Params.URI },
	}).Connect(ctx, ct, &mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	uri := tools.MatrixURI(proj)
	if err := cs.Subscribe(ctx, &mcp.SubscribeParams{URI: uri}); err != nil {
		t.Fatal(err)
	}
	ok(t, cs, "entity_tool", map[string]any{"entity_type": "requirement", "operation": "create", "data": map[string]any{"document_id": otherDoc, "name": "elsewhere"}})
	ok(t, cs, "entity_tool", map[string]any{"entity_type": "requirement", "operation": "create", "data": map[string]any{"document_id": doc, "name": "here"}})
	select {
	case got := <-updated:
		if got != uri {
			t.Fatalf("notified of %q; want %q (and nothing for the other project first)", got, uri)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no resources/updated notification")
	}
}
