package sqlite

import (
	"strings"

	"github.com/atomcp/atomcp/internal/store/sqlcore"
)

// table is the SQL of one entity kind (see sqlcore.Table).
type table = sqlcore.Table

// placeholders returns "?, ?, …" with n marks.
func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}
