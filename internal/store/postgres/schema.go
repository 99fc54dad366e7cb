package postgres

import (
	"strconv"
	"strings"
	"time"

	"github.com/atomcp/atomcp/internal/domain"
)

// The bookkeeping columns every entity table has, before and after the
// kind's own fields (see migrations/0001_init.sql).
var (
	headColumns = []string{"id", "organization_id"}
	tailColumns = []string{"created_at", "updated_at", "created_by", "updated_by", "is_deleted", "deleted_at"}
)

// table is the SQL of one entity kind, derived from its domain.Kind when a
// Store opens. Every identifier in it comes from the Kind or from the fixed
// column lists above, and is quoted; values are always parameters.
type table struct {
	kind *domain.Kind
	// fields are the kind's fields that have a column of their own: all of
	// them but an organization_id field (projects have one), which is the
	// bookkeeping column of the same name.
	fields []domain.Field
	// orgField says the kind has an organization_id field.
	orgField bool
	// refs maps each reference column (organization_id included) to the
	// kind it references, to name a missing reference.
	refs map[string]domain.EntityType

	name      string // the quoted table name
	selectSQL string // SELECT <every column> FROM <table>, to which WHERE … is added
	insertSQL string
	updateSQL string // sets every column but id ($1)
	deleteSQL string
}

// newTables builds the table of every kind in domain.Kinds.
func newTables() map[domain.EntityType]*table {
	kinds := domain.Kinds()
	m := make(map[domain.EntityType]*table, len(kinds))
	for _, k := range kinds {
		m[k.Type] = newTable(k)
	}
	return m
}

func newTable(k *domain.Kind) *table {
	t := &table{kind: k, refs: map[string]domain.EntityType{}}
	if k.Type != domain.Organization {
		t.refs["organization_id"] = domain.Organization
	}
	for _, f := range k.Fields {
		if f.Kind == domain.Ref {
			t.refs[f.Name] = f.Ref
		}
		if f.Name == "organization_id" {
			t.orgField = true
			continue
		}
		t.fields = append(t.fields, f)
	}
	cols := entityColumns(k)
	quoted := make([]string, len(cols))
	marks := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = quoteIdent(c)
		marks[i] = "$" + strconv.Itoa(i+1)
	}
	t.name = quoteIdent(k.Table)

	t.selectSQL = "SELECT " + strings.Join(quoted, ", ") + " FROM " + t.name
	t.insertSQL = "INSERT INTO " + t.name + " (" + strings.Join(quoted, ", ") + ") VALUES (" + strings.Join(marks, ", ") + ")"
	sets := make([]string, 0, len(cols)-1)
	for i, c := range quoted[1:] { // every column but id, which is $1
		sets = append(sets, c+" = "+marks[i+1])
	}
	t.updateSQL = "UPDATE " + t.name + " SET " + strings.Join(sets, ", ") + ` WHERE "id" = $1`
	t.deleteSQL = "DELETE FROM " + t.name + ` WHERE "id" = $1`
	return t
}

// entityColumns lists the columns of a kind's table in order: the head
// bookkeeping columns, one per field (organization_id only once), the tail
// bookkeeping columns.
func entityColumns(k *domain.Kind) []string {
	cols := append([]string(nil), headColumns...)
	for _, f := range k.Fields {
		if f.Name != "organization_id" {
			cols = append(cols, f.Name)
		}
	}
	return append(cols, tailColumns...)
}

// ColumnType is the PostgreSQL type of a field's column, as
// information_schema.columns.data_type spells it.
func ColumnType(k domain.FieldKind) string {
	switch k {
	case domain.Int:
		return "bigint"
	case domain.Bool:
		return "boolean"
	case domain.JSON:
		return "jsonb"
	}
	return "text"
}

// quoteIdent quotes an SQL identifier. The identifiers all come from the
// domain descriptors; quoting keeps a future field named like a keyword
// (order, group, position) from breaking the SQL.
func quoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// utcPtr returns *t in UTC, nil for nil.
func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// nullIfEmpty stores "" as NULL, for optional references and texts.
func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
