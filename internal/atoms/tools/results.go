package tools

import (
	"fmt"
	"reflect"
	"slices"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/atomcp/atomcp/internal/atoms"
)

// EntityResult is the structured result of entity_tool. Which fields are
// set depends on the operation: entity for create, read, update, delete and
// restore; items, total, limit, offset and has_more for list and search;
// created and items for batch_create; error, message and candidates for an
// ambiguous name (a tool error). Entities are maps because their fields
// depend on entity_type and format_type.
//
// Every field is left out when unset (never null), so the output schema
// needs no nullable types; the pointers tell "unset" from a zero count.
type EntityResult struct {
	Operation  string            `json:"operation,omitempty"`
	EntityType string            `json:"entity_type,omitempty"`
	Entity     map[string]any    `json:"entity,omitzero"`
	Items      []map[string]any  `json:"items,omitzero"`
	Created    *int              `json:"created,omitempty"`
	Total      *int              `json:"total,omitempty"`
	Limit      *int              `json:"limit,omitempty"`
	Offset     *int              `json:"offset,omitempty"`
	HasMore    *bool             `json:"has_more,omitempty"`
	Error      string            `json:"error,omitempty"`
	Message    string            `json:"message,omitempty"`
	Candidates []atoms.Candidate `json:"candidates,omitzero"`
}

// Only entity_tool declares an output schema. go-sdk (v1.8.0) validates a
// result against a tool's output schema by decoding it into maps and
// encoding it again, which sorts the keys of every object; entity_tool's
// results are maps already (sorted either way), so what its clients see
// stays byte for byte the same. The other tools return Go structs
// (atoms.Workspace, atoms.LinkResult, atoms.Coverage, workflow steps …)
// whose keys are in field order today: an output schema would reorder the
// JSON text a model reads.
//
// The tools are registered with Out = any and this schema set explicitly,
// not with Out = *EntityResult: for a typed pointer go-sdk turns a nil
// result into the zero value, which would add "structuredContent": {} to
// every error result.

// outputSchema infers the schema of T, whose fields are all omitted when
// unset (omitempty or omitzero), and then simplifies it: it drops the
// "null" the inference adds to pointer, slice and map types (such a field
// is never null, only absent, and a type array is less portable than a
// plain type) and the "additionalProperties": true of maps (the default;
// tools/list is sent to every client and read by the model).
func outputSchema[T any]() *jsonschema.Schema {
	s, err := jsonschema.For[T](nil)
	if err != nil {
		panic(fmt.Sprintf("schema of %T: %v", *new(T), err)) // a programming error, caught by every test
	}
	simplify(s)
	return s
}

func simplify(s *jsonschema.Schema) {
	if s == nil {
		return
	}
	if i := slices.Index(s.Types, "null"); i >= 0 && len(s.Types) == 2 {
		s.Type, s.Types = s.Types[1-i], nil
	}
	if reflect.DeepEqual(s.AdditionalProperties, &jsonschema.Schema{}) {
		s.AdditionalProperties = nil
	}
	simplify(s.Items)
	for _, p := range s.Properties {
		simplify(p)
	}
}
