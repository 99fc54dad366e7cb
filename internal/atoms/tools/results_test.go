package tools

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/atomcp/atomcp/internal/atoms"
)

// checkPortable reports what the MCP Inspector's --strict lint reports:
// a type array (nullable must be spelled with anyOf branches of one type
// each) and a schema without a type (unless it is a set of such branches).
func checkPortable(t *testing.T, path string, v any) {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		return
	}
	if typ, has := m["type"]; has {
		if _, isString := typ.(string); !isString {
			t.Errorf("%s: type %v is not a single type", path, typ)
		}
	} else if _, has := m["anyOf"]; !has && !strings.HasSuffix(path, "additionalProperties") {
		t.Errorf("%s: no type", path)
	}
	if props, ok := m["properties"].(map[string]any); ok {
		for name, p := range props {
			checkPortable(t, path+".properties."+name, p)
		}
	}
	if branches, ok := m["anyOf"].([]any); ok {
		for i, b := range branches {
			if _, typed := b.(map[string]any)["type"]; !typed {
				t.Errorf("%s.anyOf[%d]: no type", path, i)
			}
			checkPortable(t, path+".anyOf", b)
		}
	}
	if items, ok := m["items"]; ok {
		checkPortable(t, path+".items", items)
	}
}

func portableJSON(t *testing.T, s any) (any, string) {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v, string(b)
}

// The output schema must stay portable: no type arrays (nullable would be
// spelled with anyOf) and a type on every property.
func TestEntityOutputSchemaIsPortable(t *testing.T) {
	s, b := portableJSON(t, outputSchema[EntityResult]())
	checkPortable(t, "outputSchema", s)
	if !strings.Contains(b, `"candidates"`) || !strings.Contains(b, `"has_more"`) {
		t.Errorf("outputSchema lacks the ambiguous-name or list fields: %s", b)
	}
	if strings.Contains(b, `"null"`) {
		t.Errorf("outputSchema declares null, which a result never is: %s", b)
	}
	// A boolean schema (`true`, what jsonschema.For gives a field of type
	// any) is valid JSON Schema, but the TypeScript SDK's client refuses a
	// tool list that has one in an output schema.
	if strings.Contains(b, `": true`) || strings.Contains(b, `":true`) {
		t.Errorf("outputSchema has a boolean subschema, which the TypeScript SDK refuses: %s", b)
	}
}

// Every tool's input schema is portable too, and still accepts null where
// the inferred schema did (an optional argument, an entity field to clear).
func TestInputSchemasArePortable(t *testing.T) {
	server := mcp.NewServer(&mcp.Implementation{Name: "test", Version: "1"}, nil)
	Register(server, Deps{Service: atoms.New(nil)}) // listing the tools reads no store
	st, ct := mcp.NewInMemoryTransports()
	ctx := context.Background()
	ss, err := server.Connect(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ss.Close()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "c", Version: "1"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	res, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	nullable := map[string]bool{}
	for _, tool := range res.Tools {
		s, _ := portableJSON(t, tool.InputSchema)
		checkPortable(t, tool.Name+".inputSchema", s)
		props, _ := s.(map[string]any)["properties"].(map[string]any)
		for name, p := range props {
			if b, _ := json.Marshal(p); strings.Contains(string(b), `{"type":"null"}`) {
				nullable[tool.Name+"."+name] = true
			}
		}
		if tool.Name == "entity_tool" {
			data := props["data"].(map[string]any)["properties"].(map[string]any)
			for _, f := range []string{"name", "position", "properties"} {
				if b, _ := json.Marshal(data[f]); !strings.Contains(string(b), `{"type":"null"}`) {
					t.Errorf("entity_tool data.%s no longer accepts null: %s", f, b)
				}
			}
			if b, _ := json.Marshal(data["status"]); strings.Contains(string(b), `"null"`) {
				t.Errorf("entity_tool data.status declares null, which its enum refuses: %s", b)
			}
		}
	}
	for _, want := range []string{"entity_tool.soft_delete", "entity_tool.batch", "query_tool.entities", "relationship_tool.source", "workflow_tool.transaction_mode"} {
		if !nullable[want] {
			t.Errorf("%s no longer accepts null", want)
		}
	}
}
