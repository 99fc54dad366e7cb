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

	// The old Atoms server's envelope, added to every result by the
	// compatibility layer (compat_envelope.go): success, data (the entity
	// or the items), count and total_count of a list; error_type and
	// suggestions of a failure.
	Success     *bool  `json:"success,omitempty"`
	Data        any    `json:"data,omitempty" jsonschema:"the entity (an object) or the items (an array)"`
	Count       *int   `json:"count,omitempty"`
	TotalCount  *int   `json:"total_count,omitempty"`
	ErrorType   string `json:"error_type,omitempty"`
	Suggestions any    `json:"suggestions,omitempty" jsonschema:"the closest names, when a name matched nothing or more than one"`
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
// unset (omitempty or omitzero), and then simplifies it (see portable): it
// also drops the "null" the inference adds to pointer, slice and map types,
// since such a field is never null, only absent.
func outputSchema[T any]() *jsonschema.Schema {
	s, err := jsonschema.For[T](nil)
	if err != nil {
		panic(fmt.Sprintf("schema of %T: %v", *new(T), err)) // a programming error, caught by every test
	}
	simplify(s, false)
	typeUntyped(s)
	return s
}

// untypedShapes are the types of EntityResult's fields whose Go type is
// any: jsonschema.For gives them the empty schema, which it writes as
// `true`, and clients that validate tool definitions with a JSON Schema
// object type (the TypeScript SDK's Zod schema) refuse a boolean schema.
var untypedShapes = map[string]func() *jsonschema.Schema{
	"data": func() *jsonschema.Schema {
		return &jsonschema.Schema{AnyOf: []*jsonschema.Schema{{Type: "object"}, {Type: "array"}}}
	},
	"suggestions": func() *jsonschema.Schema {
		return &jsonschema.Schema{Type: "array", Items: &jsonschema.Schema{Type: "object"}}
	},
}

// typeUntyped gives the properties listed in untypedShapes their shape,
// keeping the description.
func typeUntyped(s *jsonschema.Schema) {
	for name, shape := range untypedShapes {
		if p, ok := s.Properties[name]; ok && p.Type == "" && len(p.Types) == 0 && p.AnyOf == nil {
			t := shape()
			t.Description = p.Description
			s.Properties[name] = t
		}
	}
}

// portable simplifies a finished input schema (see simplify; addTool
// calls it for every tool), keeping
// null wherever it is accepted today: a client may send null for an
// optional argument, and null clears an entity field.
func portable(s *jsonschema.Schema) *jsonschema.Schema {
	simplify(s, true)
	return s
}

// simplify rewrites s, in place, into the spelling that clients mapping
// tool schemas onto a single-type dialect (Gemini's function declarations,
// OpenAPI 3.0) and the MCP Inspector's --strict lint accept, without
// changing what it accepts: a type array such as ["string","null"] becomes
// anyOf branches of one type each, the type's own keywords (items,
// properties, required, additionalProperties, maxLength) inside its branch; "null" is
// dropped where it can never match (an enum without null) or, unless
// keepNull, where the value is never null; and the default
// "additionalProperties": true is left out (tools/list is sent to every
// client and read by the model).
func simplify(s *jsonschema.Schema, keepNull bool) {
	if s == nil {
		return
	}
	if reflect.DeepEqual(s.AdditionalProperties, &jsonschema.Schema{}) {
		s.AdditionalProperties = nil
	}
	simplify(s.Items, keepNull)
	simplify(s.AdditionalProperties, keepNull)
	for _, p := range s.Properties {
		simplify(p, keepNull)
	}
	types := s.Types
	if s.Type != "" || len(types) == 0 {
		return
	}
	if !keepNull || (s.Enum != nil && !slices.Contains(s.Enum, nil)) {
		types = slices.DeleteFunc(slices.Clone(types), func(t string) bool { return t == "null" })
	}
	s.Types = nil
	if len(types) == 1 {
		s.Type = types[0]
		return
	}
	// null last, as clients that read anyOf as "nullable X" expect.
	nonNull := slices.DeleteFunc(slices.Clone(types), func(t string) bool { return t == "null" })
	for _, t := range nonNull {
		s.AnyOf = append(s.AnyOf, &jsonschema.Schema{Type: t})
	}
	if len(nonNull) < len(types) {
		s.AnyOf = append(s.AnyOf, &jsonschema.Schema{Type: "null"})
	}
	if len(nonNull) == 1 {
		b := s.AnyOf[0]
		b.Items, s.Items = s.Items, nil
		b.Properties, s.Properties = s.Properties, nil
		b.Required, s.Required = s.Required, nil
		b.AdditionalProperties, s.AdditionalProperties = s.AdditionalProperties, nil
		b.MaxLength, s.MaxLength = s.MaxLength, nil
	}
}
