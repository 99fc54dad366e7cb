package domain

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// EntityType names a kind of Atoms entity.
type EntityType string

// The entity types of the Atoms domain.
const (
	Organization EntityType = "organization"
	Project      EntityType = "project"
	Document     EntityType = "document"
	Block        EntityType = "block"
	Requirement  EntityType = "requirement"
	Test         EntityType = "test"
)

// FieldKind is the storage type of a field.
type FieldKind int

// Field kinds. Values in Entity.Fields have these Go types:
// String, Text, Ref → string; Int → int64; Bool → bool; JSON → any
// (decoded JSON: map[string]any, []any, string, float64, bool or nil).
const (
	String FieldKind = iota // short text
	Text                    // long text
	Int
	Bool
	JSON
	Ref // the id of another entity
)

func (k FieldKind) String() string {
	return [...]string{"string", "text", "integer", "boolean", "json", "id"}[k]
}

// Field describes one user-visible field of an entity kind.
type Field struct {
	Name     string
	Kind     FieldKind
	Required bool       // must be given on create
	Default  any        // applied on create when absent
	Enum     []string   // allowed values, for String fields
	Ref      EntityType // for Ref fields: the referenced kind
	// Generated fields are computed by the service (slug, derived project_id)
	// and cannot be set by callers.
	Generated bool
	// Searchable fields take part in text search and fuzzy name matching.
	Searchable  bool
	Description string
	// Unlisted fields are accepted and stored but left out of entity_tool's
	// data schema, which every client reads in tools/list; workspace_tool
	// get_defaults lists them. The fields of the Atoms data model that
	// atomcp added for the old server's clients are unlisted, so that
	// tools/list stays small.
	Unlisted bool
}

// Kind describes an entity type: its table, its parent and its fields.
type Kind struct {
	Type  EntityType
	Table string
	// NameField is the human name used for fuzzy resolution ("name" or "title").
	NameField string
	// ParentField is the Ref field that points to the parent entity, empty
	// for organizations.
	ParentField string
	// SoftDelete kinds are marked deleted and can be restored; others are
	// removed for good.
	SoftDelete bool
	Fields     []Field
}

// Field returns the named field.
func (k *Kind) Field(name string) (Field, bool) {
	for _, f := range k.Fields {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

// FieldNames lists the kind's field names in declaration order.
func (k *Kind) FieldNames() []string {
	names := make([]string, len(k.Fields))
	for i, f := range k.Fields {
		names[i] = f.Name
	}
	return names
}

var (
	// The statuses of the Atoms data model (the Python server's Supabase
	// enums) are accepted beside atomcp's own: in_review and in_progress
	// are requirement states atomcp had no word for; a test's draft,
	// ready, in_progress, completed and obsolete are its lifecycle, where
	// pending, passed and failed are its last result.
	requirementStatuses = []string{"draft", "active", "approved", "rejected", "archived", "in_review", "in_progress"}
	priorities          = []string{"low", "medium", "high", "critical"}
	testStatuses        = []string{"pending", "passed", "failed", "blocked", "draft", "ready", "in_progress", "completed", "obsolete"}
	organizationTypes   = []string{"team", "personal", "business", "enterprise"}
	projectStatuses     = []string{"active", "archived", "draft"}
	projectVisibilities = []string{"private", "team", "organization", "public"}
	requirementLevels   = []string{"component", "system", "subsystem"}
	requirementFormats  = []string{"incose", "ears", "other"}
	testTypes           = []string{"unit", "integration", "system", "acceptance", "performance", "security", "usability", "other"}
	testMethods         = []string{"manual", "automated", "hybrid"}
)

// kinds is the schema of the Atoms domain. Adding a field means adding it
// here and a column in a new migration of every store backend.
var kinds = []*Kind{
	{
		Type: Organization, Table: "organizations", NameField: "name", SoftDelete: true,
		Fields: []Field{
			{Name: "name", Kind: String, Required: true, Searchable: true, Description: "display name"},
			{Name: "slug", Kind: String, Description: "unique URL-safe name; generated from the name unless given on create"},
			{Name: "type", Kind: String, Default: "team", Enum: organizationTypes},
			{Name: "description", Kind: Text, Searchable: true},
			{Name: "logo_url", Kind: String, Unlisted: true},
		},
	},
	{
		Type: Project, Table: "projects", NameField: "name", ParentField: "organization_id", SoftDelete: true,
		Fields: []Field{
			{Name: "organization_id", Kind: Ref, Ref: Organization, Required: true},
			{Name: "name", Kind: String, Required: true, Searchable: true},
			{Name: "slug", Kind: String, Generated: true, Description: "unique within the organization, generated from the name"},
			{Name: "description", Kind: Text, Searchable: true},
			{Name: "status", Kind: String, Default: "active", Enum: projectStatuses},
			{Name: "visibility", Kind: String, Enum: projectVisibilities, Unlisted: true},
			{Name: "tags", Kind: JSON, Description: "a list of strings", Unlisted: true},
		},
	},
	{
		Type: Document, Table: "documents", NameField: "name", ParentField: "project_id", SoftDelete: true,
		Fields: []Field{
			{Name: "project_id", Kind: Ref, Ref: Project, Required: true},
			{Name: "name", Kind: String, Required: true, Searchable: true},
			{Name: "description", Kind: Text, Searchable: true},
			{Name: "content", Kind: Text, Searchable: true},
			{Name: "version", Kind: Int, Default: int64(1)},
		},
	},
	{
		Type: Block, Table: "blocks", NameField: "content", ParentField: "document_id", SoftDelete: false,
		Fields: []Field{
			{Name: "document_id", Kind: Ref, Ref: Document, Required: true},
			{Name: "type", Kind: String, Default: "text"},
			{Name: "content", Kind: Text, Searchable: true},
			{Name: "position", Kind: Int, Default: int64(0)},
		},
	},
	{
		Type: Requirement, Table: "requirements", NameField: "name", ParentField: "document_id", SoftDelete: true,
		Fields: []Field{
			{Name: "document_id", Kind: Ref, Ref: Document, Required: true},
			{Name: "project_id", Kind: Ref, Ref: Project, Generated: true, Description: "the document's project"},
			{Name: "block_id", Kind: Ref, Ref: Block},
			{Name: "name", Kind: String, Required: true, Searchable: true},
			{Name: "description", Kind: Text, Searchable: true},
			{Name: "content", Kind: Text, Searchable: true},
			{Name: "external_id", Kind: String, Searchable: true, Description: "e.g. REQ-012; unique within the project"},
			{Name: "status", Kind: String, Default: "active", Enum: requirementStatuses},
			{Name: "priority", Kind: String, Default: "low", Enum: priorities},
			{Name: "type", Kind: String, Default: "component"},
			{Name: "properties", Kind: JSON},
			{Name: "version", Kind: Int, Default: int64(1)},
			{Name: "level", Kind: String, Enum: requirementLevels, Unlisted: true},
			{Name: "format", Kind: String, Enum: requirementFormats, Unlisted: true},
			{Name: "tags", Kind: JSON, Description: "a list of strings", Unlisted: true},
			{Name: "position", Kind: Int, Unlisted: true},
			{Name: "original_requirement", Kind: Text, Searchable: true, Description: "the text as first written", Unlisted: true},
			{Name: "enhanced_requirement", Kind: Text, Searchable: true, Description: "an improved wording", Unlisted: true},
		},
	},
	{
		Type: Test, Table: "tests", NameField: "title", ParentField: "project_id", SoftDelete: true,
		Fields: []Field{
			{Name: "project_id", Kind: Ref, Ref: Project, Required: true},
			{Name: "title", Kind: String, Required: true, Searchable: true},
			{Name: "description", Kind: Text, Searchable: true},
			{Name: "status", Kind: String, Default: "pending", Enum: testStatuses},
			{Name: "priority", Kind: String, Default: "medium", Enum: priorities},
			{Name: "is_active", Kind: Bool, Default: true},
			{Name: "test_id", Kind: String, Searchable: true, Description: "e.g. TC-012", Unlisted: true},
			{Name: "test_type", Kind: String, Enum: testTypes, Unlisted: true},
			{Name: "method", Kind: String, Enum: testMethods, Unlisted: true},
			{Name: "category", Kind: String, Unlisted: true},
			{Name: "preconditions", Kind: Text, Searchable: true, Unlisted: true},
			{Name: "test_steps", Kind: JSON, Description: "a list of steps", Unlisted: true},
			{Name: "expected_results", Kind: Text, Searchable: true, Unlisted: true},
			{Name: "result", Kind: Text, Unlisted: true},
			{Name: "test_environment", Kind: String, Unlisted: true},
			{Name: "estimated_duration", Kind: String, Description: "e.g. 30m", Unlisted: true},
		},
	},
}

var kindByType = func() map[EntityType]*Kind {
	m := make(map[EntityType]*Kind, len(kinds))
	for _, k := range kinds {
		m[k.Type] = k
	}
	return m
}()

// KindOf returns the kind of an entity type.
func KindOf(t EntityType) (*Kind, error) {
	k, ok := kindByType[t]
	if !ok {
		return nil, fmt.Errorf("%w: unknown entity_type %q; accepted: %v", ErrInvalid, t, EntityTypeNames())
	}
	return k, nil
}

// Kinds returns every entity kind, parents before children.
func Kinds() []*Kind { return append([]*Kind(nil), kinds...) }

// EntityTypeNames lists the entity type names, sorted.
func EntityTypeNames() []string {
	names := make([]string, 0, len(kinds))
	for _, k := range kinds {
		names = append(names, string(k.Type))
	}
	sort.Strings(names)
	return names
}

// Entity is one stored entity of any kind. Fields holds the kind's fields
// by name (see FieldKind for their Go types); the bookkeeping columns are
// separate.
type Entity struct {
	Type           EntityType
	ID             string
	OrganizationID string // owning organization; for an organization, its own id
	Fields         map[string]any
	CreatedAt      time.Time
	UpdatedAt      time.Time
	CreatedBy      string
	UpdatedBy      string
	IsDeleted      bool
	DeletedAt      *time.Time
	// DeletedWith is, for a deleted entity, the id of the entity whose
	// soft delete hid it: its own id when it was deleted itself, an
	// ancestor's when it was hidden with that ancestor (a requirement
	// under a deleted document). Restoring that entity brings it back.
	DeletedWith string
}

// Str returns a string field, or "" when absent.
func (e *Entity) Str(name string) string {
	s, _ := e.Fields[name].(string)
	return s
}

// Name returns the entity's human name (its kind's NameField).
func (e *Entity) Name() string {
	k, err := KindOf(e.Type)
	if err != nil {
		return ""
	}
	return e.Str(k.NameField)
}

// Clone returns a deep-enough copy: the Fields map is copied so that the
// copy can be changed without touching the original.
func (e *Entity) Clone() *Entity {
	c := *e
	c.Fields = make(map[string]any, len(e.Fields))
	for k, v := range e.Fields {
		c.Fields[k] = v
	}
	if e.DeletedAt != nil {
		t := *e.DeletedAt
		c.DeletedAt = &t
	}
	return &c
}

// ProjectID is the project an entity belongs to: a project's own id, the
// project_id field of documents, requirements and tests, "" for
// organizations and blocks (a block's project is its document's).
func (e *Entity) ProjectID() string {
	if e.Type == Project {
		return e.ID
	}
	return e.Str("project_id")
}

// SearchText splits an entity's searchable text into its name (the name
// field and external_id, weighted higher by search backends) and the rest.
func (k *Kind) SearchText(e *Entity) (name, body string) {
	var names, bodies []string
	for _, f := range k.Fields {
		if !f.Searchable {
			continue
		}
		v, _ := e.Fields[f.Name].(string)
		if v == "" {
			continue
		}
		if f.Name == k.NameField || f.Name == "external_id" {
			names = append(names, v)
		} else {
			bodies = append(bodies, v)
		}
	}
	return strings.Join(names, " "), strings.Join(bodies, "\n")
}

// FilterField returns the field a store filter key names: a field of the
// kind, or the bookkeeping id or organization_id (compared like references).
func (k *Kind) FilterField(name string) (Field, bool) {
	if f, ok := k.Field(name); ok {
		return f, true
	}
	if name == "id" || name == "organization_id" {
		return Field{Name: name, Kind: Ref}, true
	}
	return Field{}, false
}

// FilterNames lists the accepted filter keys, for error messages.
func (k *Kind) FilterNames() []string {
	names := []string{"id", "organization_id"}
	for _, f := range k.Fields {
		if f.Kind != JSON && !slices.Contains(names, f.Name) {
			names = append(names, f.Name)
		}
	}
	return names
}
