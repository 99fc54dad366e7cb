package tools

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/atomcp/atomcp/internal/atoms"
	"github.com/atomcp/atomcp/internal/auth"
)

// TestEveryOperationHasAnAccess: the scope check of the HTTP layer asks
// Access of every tools/call. Every registered tool must be declared,
// every value of its selecting argument's enum must have an access, and
// every declared operation must be in the enum; a tool whose operations
// differ in access must select them with the argument the scope check
// reads.
func TestEveryOperationHasAnAccess(t *testing.T) {
	server := mcp.NewServer(&mcp.Implementation{Name: "test", Version: "1"}, nil)
	Register(server, Deps{Service: atoms.New(nil)})
	st, ct := mcp.NewInMemoryTransports()
	ctx := context.Background()
	ss, err := server.Connect(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "c", Version: "1"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close(); ss.Close() })
	res, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	registered := map[string]bool{}
	for _, tool := range res.Tools {
		registered[tool.Name] = true
		i := slices.IndexFunc(declarations, func(d declaration) bool { return d.tool == tool.Name })
		if i < 0 {
			t.Errorf("tool %s declares no operations (internal/atoms/tools/access.go declarations)", tool.Name)
			continue
		}
		d := declarations[i]
		if d.arg == "" {
			// A tool without arguments (health_check): one access.
			if len(d.ops) != 1 {
				t.Errorf("tool %s: no selecting argument but %d operations", tool.Name, len(d.ops))
			}
			continue
		}
		raw, _ := json.Marshal(tool.InputSchema)
		var schema struct {
			Properties map[string]struct {
				Enum []string `json:"enum"`
			} `json:"properties"`
		}
		if err := json.Unmarshal(raw, &schema); err != nil {
			t.Fatal(err)
		}
		enum := schema.Properties[d.arg].Enum
		if len(enum) == 0 {
			t.Errorf("tool %s: argument %s has no enum", tool.Name, d.arg)
		}
		declared := d.ops.names()
		for _, v := range enum {
			if !slices.Contains(declared, v) {
				t.Errorf("tool %s: %s %q has no declared access", tool.Name, d.arg, v)
			}
		}
		for _, v := range declared {
			if !slices.Contains(enum, v) {
				t.Errorf("tool %s: declared operation %q is not in the schema's enum of %s", tool.Name, v, d.arg)
			}
		}
		if _, ok := d.ops.uniform(); !ok && d.arg != operationArg {
			t.Errorf("tool %s: its operations differ in access, so it must select them with %q (the argument the scope check reads), not %q", tool.Name, operationArg, d.arg)
		}
	}
	for _, d := range declarations {
		if !registered[d.tool] {
			t.Errorf("declared tool %s is not registered", d.tool)
		}
	}
}

// TestAccess pins the decisions the scope check relies on, including the
// fail-closed ones.
func TestAccess(t *testing.T) {
	for _, tc := range []struct {
		tool, op string
		want     auth.Access
	}{
		{"entity_tool", "read", auth.Read},
		{"entity_tool", "search", auth.Read},
		{"entity_tool", "create", auth.Write},
		{"entity_tool", "batch_create", auth.Write},
		{"entity_tool", "", auth.Write},
		{"entity_tool", "new_operation", auth.Write},
		{"relationship_tool", "list", auth.Read},
		{"relationship_tool", "link", auth.Write},
		{"workspace_tool", "set_context", auth.Read},
		{"workspace_tool", "", auth.Read},
		{"query_tool", "", auth.Read},
		{"workflow_tool", "", auth.Write},
		{"new_tool", "read", auth.Write},
		{"", "", auth.Write},
	} {
		if got := Access(tc.tool, tc.op); got != tc.want {
			t.Errorf("Access(%q, %q) = %s, want %s", tc.tool, tc.op, got, tc.want)
		}
	}
}
