package postgres

import "github.com/atomcp/atomcp/internal/store/sqlcore"

// table is the SQL of one entity kind (see sqlcore.Table).
type table = sqlcore.Table
