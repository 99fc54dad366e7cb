package sqlcore

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/atomcp/atomcp/internal/domain"
)

// The bookkeeping columns every entity table has, before and after the
// kind's own fields (see the backends' migrations/0001_init.sql).
var (
	headColumns = []string{"id", "organization_id"}
	tailColumns = []string{"created_at", "updated_at", "created_by", "updated_by", "is_deleted", "deleted_at", "deleted_with"}
)

// Table is the SQL of one entity kind, derived from its domain.Kind when a
// Store opens. Every identifier in it comes from the Kind or from the fixed
// column lists above, and is quoted; values are always parameters.
type Table struct {
	Kind *domain.Kind
	// Fields are the kind's fields that have a column of their own: all of
	// them but an organization_id field (projects have one), which is the
	// bookkeeping column of the same name.
	Fields []domain.Field
	// OrgField says the kind has an organization_id field.
	OrgField bool

	Name      string // the quoted table name
	SelectSQL string // SELECT <every column> FROM <table>, to which WHERE … is added
	columns   string // the column list of SelectSQL, for RETURNING
	insertSQL string
	updateSQL string // sets every column but id ($1)
	deleteSQL string
}

// NewTables builds the table of every kind in domain.Kinds.
func NewTables() map[domain.EntityType]*Table {
	kinds := domain.Kinds()
	m := make(map[domain.EntityType]*Table, len(kinds))
	for _, k := range kinds {
		m[k.Type] = newTable(k)
	}
	return m
}

func newTable(k *domain.Kind) *Table {
	t := &Table{Kind: k, Name: QuoteIdent(k.Table)}
	// The columns in order: the head bookkeeping columns, one per field
	// (organization_id only once), the tail bookkeeping columns.
	cols := append([]string(nil), headColumns...)
	for _, f := range k.Fields {
		if f.Name == "organization_id" {
			t.OrgField = true
			continue
		}
		t.Fields = append(t.Fields, f)
		cols = append(cols, f.Name)
	}
	cols = append(cols, tailColumns...)
	quoted := make([]string, len(cols))
	selected := make([]string, len(cols))
	marks := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = QuoteIdent(c)
		selected[i] = quoted[i]
		if f, ok := k.Field(c); ok && f.Kind == domain.JSON {
			// Read as JSON text whatever the column type (jsonb in
			// PostgreSQL), so that scanning is the same in both engines.
			selected[i] = "CAST(" + quoted[i] + " AS text)"
		}
		marks[i] = "$" + strconv.Itoa(i+1)
	}
	t.columns = strings.Join(selected, ", ")
	t.SelectSQL = "SELECT " + t.columns + " FROM " + t.Name
	t.insertSQL = "INSERT INTO " + t.Name + " (" + strings.Join(quoted, ", ") + ") VALUES (" + strings.Join(marks, ", ") + ")"
	sets := make([]string, 0, len(cols)-1)
	for i, c := range quoted[1:] { // every column but id, which is $1
		sets = append(sets, c+" = "+marks[i+1])
	}
	t.updateSQL = "UPDATE " + t.Name + " SET " + strings.Join(sets, ", ") + ` WHERE "id" = $1`
	t.deleteSQL = "DELETE FROM " + t.Name + ` WHERE "id" = $1`
	return t
}

// QuoteIdent quotes an SQL identifier. The identifiers all come from the
// domain descriptors; quoting keeps a future field named like a keyword
// (order, group, position) from breaking the SQL.
func QuoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// args returns the column values of e in column order (id first), after
// checking that e fits the kind.
func (t *Table) args(d *Dialect, e *domain.Entity) ([]any, error) {
	if e.ID == "" {
		return nil, fmt.Errorf("%w: id is required", domain.ErrInvalid)
	}
	orgID, err := t.organizationID(e)
	if err != nil {
		return nil, err
	}
	for name := range e.Fields {
		if _, ok := t.Kind.Field(name); !ok {
			return nil, fmt.Errorf("%w: unknown field %q for %s; accepted: %s",
				domain.ErrInvalid, name, t.Kind.Type, strings.Join(t.Kind.FieldNames(), ", "))
		}
	}

	args := make([]any, 0, len(headColumns)+len(t.Fields)+len(tailColumns))
	args = append(args, e.ID, orgID)
	for _, f := range t.Fields {
		v, err := EncodeField(d, f, e.Fields[f.Name])
		if err != nil {
			return nil, err
		}
		args = append(args, v)
	}
	return append(args,
		d.Time(e.CreatedAt), d.Time(e.UpdatedAt),
		NullIfEmpty(e.CreatedBy), NullIfEmpty(e.UpdatedBy),
		e.IsDeleted, d.NullTime(e.DeletedAt), deletedWith(e),
	), nil
}

// organizationID returns the value of the organization_id column. An
// organization owns itself; a project may name its organization in
// OrganizationID, in its organization_id field, or both if they agree.
func (t *Table) organizationID(e *domain.Entity) (string, error) {
	if t.Kind.Type == domain.Organization {
		if e.OrganizationID != "" && e.OrganizationID != e.ID {
			return "", fmt.Errorf("%w: an organization's organization_id must be its own id %q, not %q",
				domain.ErrInvalid, e.ID, e.OrganizationID)
		}
		return e.ID, nil
	}
	orgID := e.OrganizationID
	if t.OrgField {
		switch v := e.Fields["organization_id"].(type) {
		case nil:
		case string:
			if orgID == "" {
				orgID = v
			} else if v != "" && v != orgID {
				return "", fmt.Errorf("%w: field organization_id %q differs from the entity's organization %q",
					domain.ErrInvalid, v, orgID)
			}
		default:
			return "", fmt.Errorf("%w: field %q must be of type %s, got %T", domain.ErrInvalid, "organization_id", domain.Ref, v)
		}
	}
	if orgID == "" {
		return "", fmt.Errorf("%w: %s %q has no organization_id", domain.ErrInvalid, t.Kind.Type, e.ID)
	}
	return orgID, nil
}

// Scan reads one row of SelectSQL. NULL fields are left out of Fields.
func (t *Table) Scan(d *Dialect, row Row) (*domain.Entity, error) {
	e := &domain.Entity{Type: t.Kind.Type, Fields: make(map[string]any, len(t.Fields)+1)}
	var (
		raw                  = make([]any, len(t.Fields))
		createdBy, updatedBy sql.NullString
		deletedWith          sql.NullString
	)
	dest := make([]any, 0, len(headColumns)+len(raw)+len(tailColumns))
	dest = append(dest, &e.ID, &e.OrganizationID)
	for i := range raw {
		dest = append(dest, &raw[i])
	}
	dest = append(dest, d.ScanTime(&e.CreatedAt), d.ScanTime(&e.UpdatedAt), &createdBy, &updatedBy,
		&e.IsDeleted, d.ScanNullTime(&e.DeletedAt), &deletedWith)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	for i, f := range t.Fields {
		if raw[i] == nil {
			continue
		}
		v, err := decodeField(f, raw[i])
		if err != nil {
			return nil, fmt.Errorf("%s %q: %w", t.Kind.Type, e.ID, err)
		}
		e.Fields[f.Name] = v
	}
	if t.OrgField {
		e.Fields["organization_id"] = e.OrganizationID
	}
	e.CreatedBy, e.UpdatedBy = createdBy.String, updatedBy.String
	e.DeletedWith = deletedWith.String
	return e, nil
}

// deletedWith is the deleted_with column of e: NULL for a live entity, and
// the entity's own id for a deleted one that does not say (one written
// deleted by an import), so that every deleted row can be restored.
func deletedWith(e *domain.Entity) any {
	switch {
	case !e.IsDeleted:
		return nil
	case e.DeletedWith == "":
		return e.ID
	}
	return e.DeletedWith
}

// EncodeField converts the Go value of an entity field to the value its
// column stores (see the backends' documentation). nil becomes NULL.
// Besides the documented Go types, Int fields accept any Go integer and
// integral floats (what JSON decoding produces), so callers need not
// convert.
func EncodeField(d *Dialect, f domain.Field, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch f.Kind {
	case domain.String, domain.Text:
		if s, ok := v.(string); ok {
			return s, nil
		}
	case domain.Ref:
		if s, ok := v.(string); ok {
			return NullIfEmpty(s), nil // "" references nothing
		}
	case domain.Int:
		if n, ok := domain.ToInt64(v); ok {
			return n, nil
		}
	case domain.Bool:
		if b, ok := v.(bool); ok {
			return b, nil // SQLite binds it as 0 or 1
		}
	case domain.JSON:
		data, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("%w: field %q: %v", domain.ErrInvalid, f.Name, err)
		}
		if string(data) == "null" {
			return nil, nil
		}
		return d.JSON(data), nil
	default:
		return nil, fmt.Errorf("field %q has unknown kind %d", f.Name, f.Kind)
	}
	return nil, fmt.Errorf("%w: field %q must be of type %s, got %T", domain.ErrInvalid, f.Name, f.Kind, v)
}

// decodeField converts a non-NULL column value back to the Go type of its
// field. Bool columns are INTEGER 0/1 in SQLite, boolean in PostgreSQL.
func decodeField(f domain.Field, raw any) (any, error) {
	if b, ok := raw.([]byte); ok {
		raw = string(b)
	}
	switch f.Kind {
	case domain.String, domain.Text, domain.Ref:
		if s, ok := raw.(string); ok {
			return s, nil
		}
	case domain.Int:
		if n, ok := raw.(int64); ok {
			return n, nil
		}
	case domain.Bool:
		switch v := raw.(type) {
		case bool:
			return v, nil
		case int64:
			return v != 0, nil
		}
	case domain.JSON:
		if s, ok := raw.(string); ok {
			var v any
			if err := json.Unmarshal([]byte(s), &v); err != nil {
				return nil, fmt.Errorf("stored JSON of field %q: %w", f.Name, err)
			}
			return v, nil
		}
	}
	return nil, fmt.Errorf("column %q holds %T, which is not a stored %s", f.Name, raw, f.Kind)
}
