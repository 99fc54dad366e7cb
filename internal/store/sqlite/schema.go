package sqlite

import (
	"strings"

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

	selectSQL string // SELECT <every column> FROM <table>, to which WHERE … is added
	insertSQL string
	updateSQL string // sets every column but id; the last parameter is the id
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
	t := &table{kind: k}
	for _, f := range k.Fields {
		if f.Name == "organization_id" {
			t.orgField = true
			continue
		}
		t.fields = append(t.fields, f)
	}
	cols := entityColumns(k)
	quoted := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = quoteIdent(c)
	}
	name := quoteIdent(k.Table)

	t.selectSQL = "SELECT " + strings.Join(quoted, ", ") + " FROM " + name
	t.insertSQL = "INSERT INTO " + name + " (" + strings.Join(quoted, ", ") + ") VALUES (" + placeholders(len(cols)) + ")"
	sets := make([]string, 0, len(cols)-1)
	for _, c := range quoted[1:] { // every column but id
		sets = append(sets, c+" = ?")
	}
	t.updateSQL = "UPDATE " + name + " SET " + strings.Join(sets, ", ") + " WHERE \"id\" = ?"
	t.deleteSQL = "DELETE FROM " + name + " WHERE \"id\" = ?"
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

// columnType is the SQLite type of a field's column.
func columnType(k domain.FieldKind) string {
	if k == domain.Int || k == domain.Bool {
		return "INTEGER"
	}
	return "TEXT"
}

// quoteIdent quotes an SQL identifier. The identifiers all come from the
// domain descriptors; quoting keeps a future field named like a keyword
// (order, group) from breaking the SQL.
func quoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// placeholders returns "?, ?, …" with n marks.
func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}
