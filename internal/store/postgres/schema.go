package postgres

import (
	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store/sqlcore"
)

// table is the SQL of one entity kind (see sqlcore.Table).
type table = sqlcore.Table

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
