package atoms

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/atomcp/atomcp/internal/domain"
)

// Formats of entity output, chosen by the tools' format_type argument.
const (
	FormatDetailed = "detailed" // every set field and the bookkeeping columns
	FormatSummary  = "summary"  // id, name and the few fields that identify the entity
	FormatRaw      = "raw"      // every column as stored, nulls included
)

// Formats lists the accepted format names.
var Formats = []string{FormatDetailed, FormatSummary, FormatRaw}

// CheckFormat validates a format name; "" means detailed.
func CheckFormat(f string) (string, error) {
	switch f {
	case "":
		return FormatDetailed, nil
	case FormatDetailed, FormatSummary, FormatRaw:
		return f, nil
	}
	return "", fmt.Errorf("%w: format_type %q; accepted: %s", domain.ErrInvalid, f, strings.Join(Formats, ", "))
}

// summaryFields are shown in summary format when the kind has them.
var summaryFields = []string{"external_id", "status", "priority", "slug", "type"}

// Format renders an entity for a tool result.
func Format(e *domain.Entity, format string) map[string]any {
	k, _ := domain.KindOf(e.Type)
	out := map[string]any{"id": e.ID, "entity_type": string(e.Type)}
	switch format {
	case FormatSummary:
		out["name"] = e.Name()
		for _, f := range summaryFields {
			if v, ok := e.Fields[f]; ok && v != nil {
				if _, isField := k.Field(f); isField {
					out[f] = v
				}
			}
		}
		if e.IsDeleted {
			out["is_deleted"] = true
		}
		return out
	case FormatRaw:
		for _, f := range k.Fields {
			out[f.Name] = e.Fields[f.Name] // nil when unset: raw shows every column
		}
		out["organization_id"] = e.OrganizationID
		out["created_at"] = e.CreatedAt.Format(time.RFC3339Nano)
		out["updated_at"] = e.UpdatedAt.Format(time.RFC3339Nano)
		out["created_by"] = e.CreatedBy
		out["updated_by"] = e.UpdatedBy
		out["is_deleted"] = e.IsDeleted
		if e.DeletedAt != nil {
			out["deleted_at"] = e.DeletedAt.Format(time.RFC3339Nano)
		} else {
			out["deleted_at"] = nil
		}
		if e.IsDeleted && e.DeletedWith != "" && e.DeletedWith != e.ID {
			out["deleted_with"] = e.DeletedWith
		}
		return out
	}
	for name, v := range e.Fields {
		if v != nil {
			out[name] = v
		}
	}
	if e.Type != domain.Organization {
		out["organization_id"] = e.OrganizationID
	}
	out["created_at"] = e.CreatedAt.Format(time.RFC3339)
	out["updated_at"] = e.UpdatedAt.Format(time.RFC3339)
	out["created_by"] = e.CreatedBy
	out["updated_by"] = e.UpdatedBy
	out["is_deleted"] = e.IsDeleted
	if e.DeletedAt != nil {
		out["deleted_at"] = e.DeletedAt.Format(time.RFC3339)
	}
	if e.IsDeleted && e.DeletedWith != "" && e.DeletedWith != e.ID {
		// Hidden with an entity above it: restoring that one brings it back.
		out["deleted_with"] = e.DeletedWith
	}
	return out
}

// entityJSON is the audit log's picture of an entity: the raw format.
func entityJSON(e *domain.Entity) string {
	if e == nil {
		return ""
	}
	b, err := json.Marshal(Format(e, FormatRaw))
	if err != nil {
		// Fields come from JSON input or the database, so this cannot
		// happen short of a bug; keep the audit entry and say so.
		return fmt.Sprintf(`{"error":%q}`, err.Error())
	}
	return string(b)
}
