package mcpserver

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

func complete(t *testing.T, c *Completions, ref *mcp.CompleteReference, arg, value string, resolved map[string]string) mcp.CompletionResultDetails {
	t.Helper()
	p := &mcp.CompleteParams{Ref: ref, Argument: mcp.CompleteParamsArgument{Name: arg, Value: value}}
	if resolved != nil {
		p.Context = &mcp.CompleteContext{Arguments: resolved}
	}
	res, err := c.handle(context.Background(), &mcp.CompleteRequest{Params: p})
	if err != nil {
		t.Fatal(err)
	}
	return res.Completion
}

func TestCompletionsDispatchByReferenceAndArgument(t *testing.T) {
	c := NewCompletions()
	c.Prompt("plan", "priority", OneOf("low", "medium", "high", "critical"))
	c.ResourceTemplate("atoms://{kind}/{id}", "kind", OneOf("requirement", "test"))
	var sawResolved map[string]string
	c.Prompt("plan", "status", func(_ context.Context, req *mcp.CompleteRequest) ([]string, error) {
		sawResolved = req.Params.Context.Arguments
		return []string{"draft"}, nil
	})

	if got := complete(t, c, &mcp.CompleteReference{Type: "ref/prompt", Name: "plan"}, "priority", "H", nil); !slices.Equal(got.Values, []string{"high"}) || got.Total != 1 || got.HasMore {
		t.Errorf("prompt completion = %+v", got)
	}
	if got := complete(t, c, &mcp.CompleteReference{Type: "ref/resource", URI: "atoms://{kind}/{id}"}, "kind", "re", nil); !slices.Equal(got.Values, []string{"requirement"}) {
		t.Errorf("template completion = %+v", got)
	}
	complete(t, c, &mcp.CompleteReference{Type: "ref/prompt", Name: "plan"}, "status", "", map[string]string{"priority": "high"})
	if sawResolved["priority"] != "high" {
		t.Errorf("completer did not see the resolved arguments: %v", sawResolved)
	}
	// A prompt name does not complete a template variable of the same name.
	if got := complete(t, c, &mcp.CompleteReference{Type: "ref/resource", URI: "plan"}, "priority", "", nil); len(got.Values) != 0 {
		t.Errorf("ref/resource matched a prompt completer: %+v", got)
	}
}

func TestCompletionsUnknownArgumentIsEmptyNotNull(t *testing.T) {
	c := NewCompletions()
	got := complete(t, c, &mcp.CompleteReference{Type: "ref/prompt", Name: "nope"}, "x", "a", nil)
	if got.Values == nil || len(got.Values) != 0 || got.Total != 0 {
		t.Errorf("unknown argument = %+v, want an empty (non-nil) list", got)
	}
}

func TestCompletionsCapAtOneHundred(t *testing.T) {
	c := NewCompletions()
	var many []string
	for i := range 150 {
		many = append(many, fmt.Sprintf("v%03d", i))
	}
	c.Prompt("p", "a", OneOf(many...))
	got := complete(t, c, &mcp.CompleteReference{Type: "ref/prompt", Name: "p"}, "a", "v", nil)
	if len(got.Values) != 100 || got.Total != 150 || !got.HasMore {
		t.Errorf("got %d values, total %d, hasMore %v; want 100, 150, true", len(got.Values), got.Total, got.HasMore)
	}
}
