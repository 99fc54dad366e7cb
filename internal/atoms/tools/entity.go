package tools

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/atomcp/atomcp/internal/atoms"
	"github.com/atomcp/atomcp/internal/auth"
	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

// EntityArgs are the arguments of entity_tool.
type EntityArgs struct {
	EntityType     string           `json:"entity_type" jsonschema:"the kind of entity"`
	Operation      string           `json:"operation" jsonschema:"what to do"`
	EntityID       string           `json:"entity_id,omitempty" jsonschema:"for read, update, delete, restore: the entity's id or its name (misspellings are matched; an ambiguous name returns the candidates); \"auto\" means the current one from the workspace context"`
	Data           map[string]any   `json:"data,omitempty" jsonschema:"for create and update: the fields. organization_id, project_id and document_id accept an id, a name or \"auto\""`
	Batch          []map[string]any `json:"batch,omitempty" jsonschema:"for batch_create: a list of data objects, created all or none"`
	Filters        map[string]any   `json:"filters,omitempty" jsonschema:"for list and search: field equals value, e.g. {\"project_id\": \"auto\", \"status\": \"active\"}"`
	SearchTerm     string           `json:"search_term,omitempty" jsonschema:"for search: text contained in the name, description, content or external_id"`
	Limit          int              `json:"limit,omitempty" jsonschema:"page size for list and search (default 50, at most 500)"`
	Offset         int              `json:"offset,omitempty" jsonschema:"entities to skip, for paging"`
	OrderBy        string           `json:"order_by,omitempty" jsonschema:"a field name, created_at or updated_at (default created_at)"`
	OrderDesc      bool             `json:"order_desc,omitempty" jsonschema:"sort descending"`
	SoftDelete     *bool            `json:"soft_delete,omitempty" jsonschema:"for delete: true (default) keeps the entity restorable; false deletes it for good (owner or admin only)"`
	IncludeDeleted bool             `json:"include_deleted,omitempty" jsonschema:"for read, list and search: include soft-deleted entities"`
	FormatType     string           `json:"format_type,omitempty" jsonschema:"detailed (default): every field; summary: id, name and key fields; raw: every stored column, nulls included"`
}

// entityOps are entity_tool's operations and what each does to data.
var entityOps = ops{
	{"create", auth.Write}, {"read", auth.Read}, {"update", auth.Write}, {"delete", auth.Write},
	{"restore", auth.Write}, {"list", auth.Read}, {"search", auth.Read}, {"batch_create", auth.Write},
}

var entityOperations = entityOps.names()

func registerEntityTool(s *mcp.Server, d Deps) {
	schema := inputSchema[EntityArgs](map[string][]string{
		"entity_type": domain.EntityTypeNames(),
		"operation":   entityOperations,
		"format_type": atoms.Formats,
	})
	schema.Properties["data"] = dataSchema(schema.Properties["data"].Description)
	schema.Properties["batch"].Items = dataSchema("one entity's fields")
	addTool(s, d, &mcp.Tool{
		Name:  "entity_tool",
		Title: "Atoms entities",
		Description: "Create, read, update, delete (soft by default), restore, list, search and batch-create Atoms entities: " +
			"organizations, projects, documents, blocks, requirements and tests. " +
			"Call workspace_tool get_defaults to see every field, default and accepted value.",
		InputSchema:  schema,
		OutputSchema: outputSchema[EntityResult](),
		Annotations:  &mcp.ToolAnnotations{DestructiveHint: ptr(true), OpenWorldHint: ptr(false)},
	}, func(ctx context.Context, req *mcp.CallToolRequest, args EntityArgs) (*mcp.CallToolResult, any, error) {
		out, err := d.entity(ctx, req, args)
		if err != nil {
			return d.toolError(ctx, "entity_tool", err)
		}
		return nil, out, nil
	})
}

// dataSchema describes the union of every kind's settable fields, with
// their types and accepted values; which fields apply depends on
// entity_type, which the service checks with a message naming the kind.
func dataSchema(description string) *jsonschema.Schema {
	props := map[string]*jsonschema.Schema{}
	usedBy := map[string][]string{}
	open := map[string]bool{}
	for _, k := range domain.Kinds() {
		for _, f := range k.Fields {
			if f.Generated || f.Unlisted {
				continue
			}
			usedBy[f.Name] = append(usedBy[f.Name], string(k.Type))
			p, ok := props[f.Name]
			if !ok {
				p = fieldSchema(f)
				props[f.Name] = p
			}
			if len(f.Enum) == 0 && f.Kind == domain.String {
				open[f.Name] = true
			}
			for _, v := range f.Enum {
				if !containsAny(p.Enum, v) {
					p.Enum = append(p.Enum, v)
				}
			}
		}
	}
	// A field that is free text in one kind (a block's or requirement's
	// type) takes any value: an enum of another kind's values (an
	// organization's type) would refuse it.
	for name := range open {
		props[name].Enum = nil
	}
	for name, p := range props {
		p.Description = strings.TrimSpace(p.Description + " (" + strings.Join(usedBy[name], ", ") + ")")
		if name == "status" {
			// The accepted statuses depend on the kind: say which, instead
			// of an enum of all of them (the service refuses a wrong one,
			// naming the accepted).
			p.Enum = nil
			p.Types = []string{"string"} // a status is never cleared
			p.Description += "; " + statusesByKind()
		}
	}
	return &jsonschema.Schema{Type: "object", Description: description, Properties: props}
}

// statusesByKind lists each kind's statuses, e.g. "project:
// active|archived|draft, requirement: …".
func statusesByKind() string {
	var parts []string
	for _, k := range domain.Kinds() {
		if f, ok := k.Field("status"); ok {
			parts = append(parts, string(k.Type)+": "+strings.Join(f.Enum, "|"))
		}
	}
	return strings.Join(parts, ", ")
}

func fieldSchema(f domain.Field) *jsonschema.Schema {
	s := &jsonschema.Schema{Description: f.Description}
	switch f.Kind {
	case domain.String, domain.Ref:
		s.Types = []string{"string", "null"}
		s.MaxLength = ptr(atoms.MaxStringChars)
	case domain.Text:
		s.Types = []string{"string", "null"}
		s.MaxLength = ptr(atoms.MaxTextChars)
	case domain.Int:
		s.Types = []string{"integer", "string", "null"}
	case domain.Bool:
		s.Types = []string{"boolean", "string", "null"}
	case domain.JSON:
		// Stored as given; declared an object (custom properties), as a
		// schema without a type constrains nothing and is not portable.
		s.Types = []string{"object", "null"}
	}
	return s
}

func containsAny(vs []any, v string) bool {
	for _, x := range vs {
		if x == v {
			return true
		}
	}
	return false
}

func (d Deps) entity(ctx context.Context, req *mcp.CallToolRequest, args EntityArgs) (*EntityResult, error) {
	if err := checkOneOf("operation", args.Operation, entityOperations); err != nil {
		return nil, err
	}
	t := domain.EntityType(args.EntityType)
	if _, err := domain.KindOf(t); err != nil {
		return nil, err
	}
	format, err := atoms.CheckFormat(args.FormatType)
	if err != nil {
		return nil, err
	}
	a, err := d.actor(ctx, req)
	if err != nil {
		return nil, err
	}
	needID := func() error {
		if strings.TrimSpace(args.EntityID) == "" {
			return errInvalid(fmt.Sprintf("%s needs entity_id: the %s's id or name", args.Operation, t))
		}
		return nil
	}
	single := func(e *domain.Entity, err error) (*EntityResult, error) {
		if err != nil {
			return nil, err
		}
		out := atoms.Format(e, format)
		if compatOf(ctx).includeRelations && (args.Operation == "read" || args.Operation == "update") {
			if err := d.withRelations(ctx, a, t, out); err != nil {
				return nil, err
			}
		}
		return &EntityResult{Operation: args.Operation, EntityType: string(t), Entity: out}, nil
	}
	switch args.Operation {
	case "create":
		return single(d.Service.CreateEntity(ctx, a, t, args.Data))
	case "read":
		if err := needID(); err != nil {
			return nil, err
		}
		return single(d.Service.GetEntity(ctx, a, t, args.EntityID, args.IncludeDeleted))
	case "update":
		if err := needID(); err != nil {
			return nil, err
		}
		return single(d.Service.UpdateEntity(ctx, a, t, args.EntityID, args.Data))
	case "delete":
		if err := needID(); err != nil {
			return nil, err
		}
		hard := args.SoftDelete != nil && !*args.SoftDelete
		return single(d.Service.DeleteEntity(ctx, a, t, args.EntityID, hard))
	case "restore":
		if err := needID(); err != nil {
			return nil, err
		}
		return single(d.Service.RestoreEntity(ctx, a, t, args.EntityID))
	case "list", "search":
		if args.Operation == "search" && strings.TrimSpace(args.SearchTerm) == "" {
			return nil, errInvalid("search needs search_term: the text to look for")
		}
		p := atoms.ListParams{Filters: args.Filters, Search: args.SearchTerm, OrderBy: args.OrderBy, Desc: args.OrderDesc, Limit: args.Limit, Offset: args.Offset}
		if args.IncludeDeleted {
			p.Deleted = store.IncludeDeleted
		}
		page, err := d.Service.ListEntities(ctx, a, t, p)
		if err != nil {
			return nil, err
		}
		return listResult(args, t, page, format), nil
	case "batch_create":
		created, err := d.Service.BatchCreate(withProgress(ctx, req, "creating "+string(t)+"s"), a, t, args.Batch)
		if err != nil {
			return nil, err
		}
		items := make([]map[string]any, len(created))
		for i, e := range created {
			items[i] = atoms.Format(e, format)
		}
		return &EntityResult{Operation: args.Operation, EntityType: string(t), Created: ptr(len(items)), Items: items}, nil
	}
	return nil, unknownOperation(args.Operation, entityOperations)
}

func listResult(args EntityArgs, t domain.EntityType, page store.EntityPage, format string) *EntityResult {
	items := make([]map[string]any, len(page.Items))
	for i, e := range page.Items {
		items[i] = atoms.Format(e, format)
	}
	limit := args.Limit
	if limit == 0 {
		limit = 50
	}
	return &EntityResult{
		Operation: args.Operation, EntityType: string(t), Items: items,
		Total: ptr(page.Total), Limit: ptr(limit), Offset: ptr(args.Offset),
		HasMore: ptr(args.Offset+len(items) < page.Total),
	}
}

func errInvalid(msg string) error { return fmt.Errorf("%w: %s", domain.ErrInvalid, msg) }
