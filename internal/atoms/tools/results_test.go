package tools

import (
	"encoding/json"
	"strings"
	"testing"
)

// The output schema must stay portable: no type arrays (nullable would be
// spelled with anyOf) and a type on every property.
func TestEntityOutputSchemaIsPortable(t *testing.T) {
	b, err := json.Marshal(outputSchema[EntityResult]())
	if err != nil {
		t.Fatal(err)
	}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		m, ok := v.(map[string]any)
		if !ok {
			return
		}
		if typ, has := m["type"]; has {
			if _, isString := typ.(string); !isString {
				t.Errorf("%s: type %v is not a single type", path, typ)
			}
		} else if !strings.HasSuffix(path, "additionalProperties") {
			t.Errorf("%s: no type", path)
		}
		if props, ok := m["properties"].(map[string]any); ok {
			for name, p := range props {
				walk(path+".properties."+name, p)
			}
		}
		if items, ok := m["items"]; ok {
			walk(path+".items", items)
		}
	}
	var s any
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	walk("outputSchema", s)
	if !strings.Contains(string(b), `"candidates"`) || !strings.Contains(string(b), `"has_more"`) {
		t.Errorf("outputSchema lacks the ambiguous-name or list fields: %s", b)
	}
}
