package postgres

import (
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/atomcp/atomcp/internal/domain"
)

// args returns the column values of e in column order (id first), after
// checking that e fits the kind.
func (t *table) args(e *domain.Entity) ([]any, error) {
	if e.ID == "" {
		return nil, fmt.Errorf("%w: id is required", domain.ErrInvalid)
	}
	orgID, err := t.organizationID(e)
	if err != nil {
		return nil, err
	}
	for name := range e.Fields {
		if _, ok := t.kind.Field(name); !ok {
			return nil, fmt.Errorf("%w: unknown field %q for %s; accepted: %s",
				domain.ErrInvalid, name, t.kind.Type, strings.Join(t.kind.FieldNames(), ", "))
		}
	}

	args := make([]any, 0, len(headColumns)+len(t.fields)+len(tailColumns))
	args = append(args, e.ID, orgID)
	for _, f := range t.fields {
		v, err := encodeField(f, e.Fields[f.Name])
		if err != nil {
			return nil, err
		}
		args = append(args, v)
	}
	return append(args,
		e.CreatedAt, e.UpdatedAt,
		nullIfEmpty(e.CreatedBy), nullIfEmpty(e.UpdatedBy),
		e.IsDeleted, e.DeletedAt,
	), nil
}

// organizationID returns the value of the organization_id column. An
// organization owns itself; a project may name its organization in
// OrganizationID, in its organization_id field, or both if they agree.
func (t *table) organizationID(e *domain.Entity) (string, error) {
	if t.kind.Type == domain.Organization {
		if e.OrganizationID != "" && e.OrganizationID != e.ID {
			return "", fmt.Errorf("%w: an organization's organization_id must be its own id %q, not %q",
				domain.ErrInvalid, e.ID, e.OrganizationID)
		}
		return e.ID, nil
	}
	orgID := e.OrganizationID
	if t.orgField {
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
		return "", fmt.Errorf("%w: %s %q has no organization_id", domain.ErrInvalid, t.kind.Type, e.ID)
	}
	return orgID, nil
}

// scan reads one row of selectSQL. NULL fields are left out of Fields.
func (t *table) scan(row pgx.Row) (*domain.Entity, error) {
	e := &domain.Entity{Type: t.kind.Type, Fields: make(map[string]any, len(t.fields)+1)}
	var (
		fields               = make([]fieldDest, len(t.fields))
		createdBy, updatedBy pgtype.Text
		deletedAt            *time.Time
	)
	dest := make([]any, 0, len(headColumns)+len(fields)+len(tailColumns))
	dest = append(dest, &e.ID, &e.OrganizationID)
	for i, f := range t.fields {
		fields[i] = newFieldDest(f)
		dest = append(dest, fields[i].dest())
	}
	dest = append(dest, &e.CreatedAt, &e.UpdatedAt, &createdBy, &updatedBy, &e.IsDeleted, &deletedAt)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}

	for i, f := range t.fields {
		v, ok, err := fields[i].value()
		if err != nil {
			return nil, fmt.Errorf("%s %q: %w", t.kind.Type, e.ID, err)
		}
		if ok {
			e.Fields[f.Name] = v
		}
	}
	if t.orgField {
		e.Fields["organization_id"] = e.OrganizationID
	}
	e.CreatedAt, e.UpdatedAt, e.DeletedAt = e.CreatedAt.UTC(), e.UpdatedAt.UTC(), utcPtr(deletedAt)
	e.CreatedBy, e.UpdatedBy = createdBy.String, updatedBy.String
	return e, nil
}
