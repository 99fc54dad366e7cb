package atoms

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

// AutoID is the reference value meaning "from my workspace context".
const AutoID = "auto"

// MaxBatch bounds batch_create so that one call cannot hold the write lock
// for long.
const MaxBatch = 1000

// MaxPageSize bounds list pages.
const MaxPageSize = 500

// getVisible loads an entity the actor may see; anything else, including an
// entity of another organization, is "not found".
func (s *Service) getVisible(ctx context.Context, tx store.Ops, a *Actor, t domain.EntityType, id string) (*domain.Entity, error) {
	e, err := tx.GetEntity(ctx, t, id)
	if err != nil {
		if errors.Is(err, domain.ErrNotFound) {
			return nil, fmt.Errorf("%s %q: %w", t, id, domain.ErrNotFound)
		}
		return nil, err
	}
	if !a.canSee(e.OrganizationID) {
		return nil, fmt.Errorf("%s %q: %w", t, id, domain.ErrNotFound)
	}
	return e, nil
}

// GetEntity reads an entity by id or name. Deleted entities are found only
// with includeDeleted.
func (s *Service) GetEntity(ctx context.Context, a *Actor, t domain.EntityType, ref string, includeDeleted bool) (*domain.Entity, error) {
	if _, err := domain.KindOf(t); err != nil {
		return nil, err
	}
	ref, err := s.expandAuto(ctx, s.store, a, t, ref)
	if err != nil {
		return nil, err
	}
	e, err := s.resolve(ctx, s.store, a, t, ref)
	if err != nil {
		return nil, err
	}
	if e.IsDeleted && !includeDeleted {
		if e.DeletedWith != "" && e.DeletedWith != e.ID {
			return nil, fmt.Errorf("%s %q was hidden when an entity above it (%s) was deleted (restore that one, or read with include_deleted): %w", t, ref, e.DeletedWith, domain.ErrNotFound)
		}
		return nil, fmt.Errorf("%s %q is deleted (restore it, or read with include_deleted): %w", t, ref, domain.ErrNotFound)
	}
	return e, nil
}

// CreateEntity validates data and creates one entity.
func (s *Service) CreateEntity(ctx context.Context, a *Actor, t domain.EntityType, data map[string]any) (*domain.Entity, error) {
	var created *domain.Entity
	err := s.inTxAs(ctx, a, func(tx store.Ops) error {
		var err error
		created, err = s.createIn(ctx, tx, a, t, data)
		return err
	})
	return created, err
}

// BatchCreate creates every item or none: one invalid item rolls back the
// whole batch and the error names its index.
func (s *Service) BatchCreate(ctx context.Context, a *Actor, t domain.EntityType, items []map[string]any) ([]*domain.Entity, error) {
	if len(items) == 0 {
		return nil, fmt.Errorf("%w: batch is empty; pass a list of data objects", domain.ErrInvalid)
	}
	if len(items) > MaxBatch {
		return nil, fmt.Errorf("%w: batch has %d items; at most %d are accepted per call", domain.ErrInvalid, len(items), MaxBatch)
	}
	var created []*domain.Entity
	err := s.inTxAs(ctx, a, func(tx store.Ops) error {
		created = created[:0]
		for i, data := range items {
			e, err := s.createIn(ctx, tx, a, t, data)
			if err != nil {
				return fmt.Errorf("batch[%d]: %w (nothing was created)", i, err)
			}
			created = append(created, e)
			reportProgress(ctx, i+1, len(items))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return created, nil
}

func (s *Service) createIn(ctx context.Context, tx store.Ops, a *Actor, t domain.EntityType, data map[string]any) (*domain.Entity, error) {
	k, err := domain.KindOf(t)
	if err != nil {
		return nil, err
	}
	if data == nil {
		return nil, fmt.Errorf("%w: data is required to create a %s (required: %s)", domain.ErrInvalid, t, strings.Join(requiredFields(k), ", "))
	}
	fields, err := coerceFields(k, data)
	if err != nil {
		return nil, err
	}
	if err := applyDefaults(k, fields); err != nil {
		return nil, err
	}
	if err := s.resolveRefs(ctx, tx, a, k, fields); err != nil {
		return nil, err
	}
	now := s.now()
	e := &domain.Entity{Type: t, ID: s.newID(), Fields: fields, CreatedAt: now, UpdatedAt: now, CreatedBy: a.User.ID, UpdatedBy: a.User.ID}
	if t == domain.Organization {
		e.OrganizationID = e.ID
	} else {
		parent, err := s.getVisible(ctx, tx, a, parentType(k), e.Str(k.ParentField))
		if err != nil {
			return nil, fmt.Errorf("data.%s: %w", k.ParentField, err)
		}
		if parent.IsDeleted {
			return nil, fmt.Errorf("%w: data.%s: the %s %q is deleted; restore it first", domain.ErrInvalid, k.ParentField, parent.Type, parent.Name())
		}
		e.OrganizationID = parent.OrganizationID
		if err := a.requireWriteIn(e.OrganizationID, parent.ProjectID(), "create "+string(t)); err != nil {
			return nil, err
		}
		if t == domain.Requirement {
			e.Fields["project_id"] = parent.Str("project_id")
		}
	}
	if err := s.checkRelatedRefs(ctx, tx, a, k, e); err != nil {
		return nil, err
	}
	generatedSlug := false
	if f, ok := k.Field("slug"); ok {
		if given := e.Str("slug"); given != "" && !f.Generated {
			// An organization's slug may be given (the old Atoms server
			// required it); it must be free.
			if err := s.checkSlugFree(ctx, tx, t, given, ""); err != nil {
				return nil, err
			}
		} else {
			slug, err := s.uniqueSlug(ctx, tx, t, e.OrganizationID, e.Str(k.NameField))
			if err != nil {
				return nil, err
			}
			e.Fields["slug"] = slug
			generatedSlug = true
		}
	}
	if err := s.checkExternalID(ctx, tx, e); err != nil {
		return nil, err
	}
	if err := tx.CreateEntity(ctx, e); err != nil {
		if generatedSlug && errors.Is(err, domain.ErrConflict) {
			// Most likely another replica's transaction took the slug
			// after uniqueSlug looked: inTxAs runs this one again.
			return nil, fmt.Errorf("create %s: %w (%w)", t, errSlugTaken, err)
		}
		return nil, fmt.Errorf("create %s: %w", t, err)
	}
	if t == domain.Organization {
		// The creator owns what they create; without this nobody could see it.
		if err := tx.PutMember(ctx, &domain.Membership{OrganizationID: e.ID, UserID: a.User.ID, Role: domain.RoleOwner, Status: "active", CreatedAt: now}); err != nil {
			return nil, fmt.Errorf("add owner: %w", err)
		}
		a.roles[e.ID] = domain.RoleOwner
	}
	if err := s.audit(ctx, tx, a.User.ID, "create", nil, e); err != nil {
		return nil, err
	}
	return e, nil
}

func parentType(k *domain.Kind) domain.EntityType {
	f, _ := k.Field(k.ParentField)
	return f.Ref
}

// resolveRefs turns "auto" and names in Ref fields into ids.
func (s *Service) resolveRefs(ctx context.Context, tx store.Ops, a *Actor, k *domain.Kind, fields map[string]any) error {
	for _, f := range k.Fields {
		ref, ok := fields[f.Name].(string)
		if f.Kind != domain.Ref || !ok || f.Generated {
			continue
		}
		ref, err := s.expandAuto(ctx, tx, a, f.Ref, ref)
		if err != nil {
			return fmt.Errorf("data.%s: %w", f.Name, err)
		}
		e, err := s.resolve(ctx, tx, a, f.Ref, ref)
		if err != nil {
			return fmt.Errorf("data.%s: %w", f.Name, err)
		}
		fields[f.Name] = e.ID
	}
	return nil
}

// checkRelatedRefs makes sure that Ref fields other than the parent point
// into the same organization (and, for a requirement's block, the same
// document).
func (s *Service) checkRelatedRefs(ctx context.Context, tx store.Ops, a *Actor, k *domain.Kind, e *domain.Entity) error {
	for _, f := range k.Fields {
		id := e.Str(f.Name)
		if f.Kind != domain.Ref || f.Name == k.ParentField || f.Generated || id == "" {
			continue
		}
		other, err := s.getVisible(ctx, tx, a, f.Ref, id)
		if err != nil {
			return fmt.Errorf("data.%s: %w", f.Name, err)
		}
		if other.OrganizationID != e.OrganizationID {
			return fmt.Errorf("%w: data.%s points into another organization; link only entities of one organization", domain.ErrInvalid, f.Name)
		}
		if f.Ref == domain.Block && other.Str("document_id") != e.Str("document_id") {
			return fmt.Errorf("%w: data.%s: the block belongs to another document", domain.ErrInvalid, f.Name)
		}
	}
	return nil
}

// checkExternalID refuses a requirement external_id already used by another
// live requirement of the same project, naming the one that has it.
func (s *Service) checkExternalID(ctx context.Context, tx store.Ops, e *domain.Entity) error {
	ext := e.Str("external_id")
	if e.Type != domain.Requirement || ext == "" || e.IsDeleted {
		return nil
	}
	page, err := tx.ListEntities(ctx, store.EntityQuery{
		Type: domain.Requirement, OrganizationIDs: []string{e.OrganizationID},
		Equals: map[string]any{"project_id": e.Str("project_id"), "external_id": ext}, Limit: 2,
	})
	if err != nil {
		return fmt.Errorf("check external_id: %w", err)
	}
	for _, other := range page.Items {
		if other.ID != e.ID {
			return fmt.Errorf("%w: external_id %q is already used in this project by requirement %s (%q)", domain.ErrConflict, ext, other.ID, other.Name())
		}
	}
	return nil
}

// UpdateEntity changes the given fields of an entity. The parent of an
// entity cannot change: moving across organizations would bypass their
// membership rules.
func (s *Service) UpdateEntity(ctx context.Context, a *Actor, t domain.EntityType, ref string, data map[string]any) (*domain.Entity, error) {
	k, err := domain.KindOf(t)
	if err != nil {
		return nil, err
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("%w: data is required for update: an object of the fields to change (accepted: %s)", domain.ErrInvalid, strings.Join(settableFields(k), ", "))
	}
	var updated *domain.Entity
	err = s.inTxAs(ctx, a, func(tx store.Ops) error {
		before, err := s.resolveForWrite(ctx, tx, a, t, ref)
		if err != nil {
			return err
		}
		fields, err := coerceFields(k, data)
		if err != nil {
			return err
		}
		if p, ok := fields[k.ParentField]; ok && k.ParentField != "" && p != before.Str(k.ParentField) {
			return fmt.Errorf("%w: data.%s cannot change; create the %s under the new parent instead", domain.ErrInvalid, k.ParentField, t)
		}
		delete(fields, k.ParentField)
		if slug, ok := fields["slug"].(string); ok && slug != before.Str("slug") {
			if err := s.checkSlugFree(ctx, tx, t, slug, before.ID); err != nil {
				return err
			}
		} else if _, set := fields["slug"]; set && fields["slug"] == nil {
			return fmt.Errorf("%w: data.slug cannot be removed", domain.ErrInvalid)
		}
		if err := s.resolveRefs(ctx, tx, a, k, fields); err != nil {
			return err
		}
		after := before.Clone()
		for name, v := range fields {
			if v == nil {
				delete(after.Fields, name)
			} else {
				after.Fields[name] = v
			}
		}
		after.UpdatedAt, after.UpdatedBy = s.now(), a.User.ID
		if err := s.checkRelatedRefs(ctx, tx, a, k, after); err != nil {
			return err
		}
		if err := s.checkExternalID(ctx, tx, after); err != nil {
			return err
		}
		if err := tx.UpdateEntity(ctx, after); err != nil {
			return fmt.Errorf("update %s: %w", t, err)
		}
		updated = after
		return s.audit(ctx, tx, a.User.ID, "update", before, after)
	})
	return updated, err
}

// resolveForWrite finds a live entity and checks that the actor may change
// it (an organization itself needs owner or admin).
func (s *Service) resolveForWrite(ctx context.Context, tx store.Ops, a *Actor, t domain.EntityType, ref string) (*domain.Entity, error) {
	ref, err := s.expandAuto(ctx, tx, a, t, ref)
	if err != nil {
		return nil, err
	}
	e, err := s.resolve(ctx, tx, a, t, ref)
	if err != nil {
		return nil, err
	}
	if t == domain.Organization {
		err = a.requireManage(e.ID, "change an organization")
	} else {
		err = a.requireWriteIn(e.OrganizationID, s.projectOf(ctx, tx, e), "change "+string(t))
	}
	return e, err
}

// projectOf is the project whose data e is: its own project id, or its
// document's for a block ("" when there is none).
func (s *Service) projectOf(ctx context.Context, tx store.Ops, e *domain.Entity) string {
	if p := e.ProjectID(); p != "" || e.Type != domain.Block {
		return p
	}
	if d, err := tx.GetEntity(ctx, domain.Document, e.Str("document_id")); err == nil {
		return d.ProjectID()
	}
	return ""
}

// DeleteEntity deletes an entity: softly (restorable) by default, for good
// with hard. A hard delete needs the owner or admin role.
func (s *Service) DeleteEntity(ctx context.Context, a *Actor, t domain.EntityType, ref string, hard bool) (*domain.Entity, error) {
	k, err := domain.KindOf(t)
	if err != nil {
		return nil, err
	}
	var result *domain.Entity
	err = s.inTxAs(ctx, a, func(tx store.Ops) error {
		before, err := s.resolveForWrite(ctx, tx, a, t, ref)
		if err != nil {
			return err
		}
		if hard || !k.SoftDelete {
			if k.SoftDelete {
				if err := a.requireManage(before.OrganizationID, "a permanent delete"); err != nil {
					return err
				}
			}
			if err := tx.DeleteEntity(ctx, t, before.ID); err != nil {
				return fmt.Errorf("delete %s: %w", t, err)
			}
			result = before
			return s.audit(ctx, tx, a.User.ID, "hard_delete", before, nil)
		}
		if before.IsDeleted {
			return fmt.Errorf("%w: %s %q is already deleted", domain.ErrInvalid, t, before.Name())
		}
		// The store hides everything below the entity with it, so that a
		// deleted document's requirements are not left listed.
		if _, err := tx.SoftDeleteEntity(ctx, t, before.ID, s.now(), a.User.ID); err != nil {
			return err
		}
		after, err := tx.GetEntity(ctx, t, before.ID)
		if err != nil {
			return err
		}
		result = after
		return s.audit(ctx, tx, a.User.ID, "delete", before, after)
	})
	return result, err
}

// RestoreEntity undoes a soft delete.
func (s *Service) RestoreEntity(ctx context.Context, a *Actor, t domain.EntityType, ref string) (*domain.Entity, error) {
	k, err := domain.KindOf(t)
	if err != nil {
		return nil, err
	}
	if !k.SoftDelete {
		return nil, fmt.Errorf("%w: a %s is deleted for good and cannot be restored", domain.ErrInvalid, t)
	}
	var result *domain.Entity
	err = s.inTxAs(ctx, a, func(tx store.Ops) error {
		before, err := s.findDeleted(ctx, tx, a, t, ref)
		if err != nil {
			return err
		}
		if t == domain.Organization {
			err = a.requireManage(before.ID, "restore an organization")
		} else {
			err = a.requireWriteIn(before.OrganizationID, s.projectOf(ctx, tx, before), "restore "+string(t))
		}
		if err != nil {
			return err
		}
		live := before.Clone()
		live.IsDeleted = false
		if err := s.checkExternalID(ctx, tx, live); err != nil {
			return err
		}
		// The store brings back exactly what the entity's delete hid.
		if _, err := tx.RestoreEntity(ctx, t, before.ID, s.now(), a.User.ID); err != nil {
			return err
		}
		after, err := tx.GetEntity(ctx, t, before.ID)
		if err != nil {
			return err
		}
		result = after
		return s.audit(ctx, tx, a.User.ID, "restore", before, after)
	})
	return result, err
}

// findDeleted resolves a reference among deleted entities (by id, or by
// name among the deleted ones, since live ones are not what restore means).
func (s *Service) findDeleted(ctx context.Context, tx store.Ops, a *Actor, t domain.EntityType, ref string) (*domain.Entity, error) {
	k, _ := domain.KindOf(t)
	if e, err := s.getVisible(ctx, tx, a, t, strings.TrimSpace(ref)); err == nil {
		if !e.IsDeleted {
			return nil, fmt.Errorf("%w: %s %q is not deleted", domain.ErrInvalid, t, e.Name())
		}
		return e, nil
	}
	orgs := a.OrganizationIDs()
	if len(orgs) == 0 {
		return nil, fmt.Errorf("%s %q: %w", t, ref, domain.ErrNotFound)
	}
	page, err := tx.ListEntities(ctx, store.EntityQuery{Type: t, OrganizationIDs: orgs, Deleted: store.OnlyDeleted, Limit: maxNameScan})
	if err != nil {
		return nil, err
	}
	return bestMatch(t, ref, page.Items, k.NameField)
}

// ListParams selects and pages a list of entities.
type ListParams struct {
	Filters map[string]any // field → value; ids may be names or "auto"
	Search  string         // text contained in any searchable field
	Deleted store.Deleted
	OrderBy string
	Desc    bool
	Limit   int
	Offset  int
}

// ListEntities returns one page of the actor's entities of a type.
func (s *Service) ListEntities(ctx context.Context, a *Actor, t domain.EntityType, p ListParams) (store.EntityPage, error) {
	k, err := domain.KindOf(t)
	if err != nil {
		return store.EntityPage{}, err
	}
	if p.Limit < 0 || p.Offset < 0 {
		return store.EntityPage{}, fmt.Errorf("%w: limit and offset must not be negative", domain.ErrInvalid)
	}
	if p.Limit == 0 {
		p.Limit = 50
	}
	if p.Limit > MaxPageSize {
		return store.EntityPage{}, fmt.Errorf("%w: limit %d is over the maximum page size %d", domain.ErrInvalid, p.Limit, MaxPageSize)
	}
	if p.OrderBy != "" {
		if _, ok := k.Field(p.OrderBy); !ok && p.OrderBy != "created_at" && p.OrderBy != "updated_at" {
			return store.EntityPage{}, fmt.Errorf("%w: order_by %q; accepted: created_at, updated_at, %s", domain.ErrInvalid, p.OrderBy, strings.Join(k.FieldNames(), ", "))
		}
	}
	equals := make(map[string]any, len(p.Filters))
	var compare []store.Comparison
	for name, v := range p.Filters {
		f, ok := k.Field(name)
		if !ok {
			return store.EntityPage{}, fmt.Errorf("%w: filters.%s is not a field of %s; accepted: %s", domain.ErrInvalid, name, t, strings.Join(k.FieldNames(), ", "))
		}
		if ops, isOps := v.(map[string]any); isOps && (f.Kind != domain.JSON || isContains(ops)) {
			cs, err := s.comparisons(ctx, a, f, ops)
			if err != nil {
				return store.EntityPage{}, err
			}
			compare = append(compare, cs...)
			continue
		}
		cv, err := s.filterValue(ctx, a, f, v)
		if err != nil {
			return store.EntityPage{}, err
		}
		equals[name] = cv
	}
	orgs := a.OrganizationIDs()
	if len(orgs) == 0 {
		return store.EntityPage{Items: []*domain.Entity{}}, nil
	}
	return s.store.ListEntities(ctx, store.EntityQuery{
		Type: t, OrganizationIDs: orgs, Equals: equals, Compare: compare, Text: strings.TrimSpace(p.Search),
		Deleted: p.Deleted, OrderBy: p.OrderBy, Desc: p.Desc, Limit: p.Limit, Offset: p.Offset,
	})
}

// filterValue coerces one filter value to f's type; a reference may be a
// name or "auto", resolved to the id.
func (s *Service) filterValue(ctx context.Context, a *Actor, f domain.Field, v any) (any, error) {
	cv, err := coerceValue(domain.Field{Name: f.Name, Kind: f.Kind, Enum: f.Enum}, v)
	if err != nil {
		return nil, fmt.Errorf("%w: filters.%s: %v", domain.ErrInvalid, f.Name, err)
	}
	if ref, ok := cv.(string); ok && f.Kind == domain.Ref {
		ref, err = s.expandAuto(ctx, s.store, a, f.Ref, ref)
		if err != nil {
			return nil, fmt.Errorf("filters.%s: %w", f.Name, err)
		}
		e, err := s.resolve(ctx, s.store, a, f.Ref, ref)
		if err != nil {
			return nil, fmt.Errorf("filters.%s: %w", f.Name, err)
		}
		cv = e.ID
	}
	return cv, nil
}

// comparisons turns an operator filter ({"in": [...]}, {"gte": 3}, the
// PostgREST style of the old Atoms server) into store comparisons. The
// values of eq, neq, the orderings and in are coerced like plain filter
// values (names resolved for references); like, ilike and contains take
// the text as given.
func (s *Service) comparisons(ctx context.Context, a *Actor, f domain.Field, ops map[string]any) ([]store.Comparison, error) {
	if len(ops) == 0 {
		return nil, fmt.Errorf("%w: filters.%s: an empty operator object; accepted operators: %v", domain.ErrInvalid, f.Name, store.CompareOps)
	}
	names := make([]string, 0, len(ops))
	for n := range ops {
		names = append(names, n)
	}
	slices.Sort(names)
	out := make([]store.Comparison, 0, len(ops))
	for _, n := range names {
		op := store.CompareOp(n)
		v := ops[n]
		switch op {
		case store.OpEq, store.OpNeq, store.OpGt, store.OpGte, store.OpLt, store.OpLte:
			if v != nil {
				cv, err := s.filterValue(ctx, a, f, v)
				if err != nil {
					return nil, err
				}
				v = cv
			}
		case store.OpIn:
			list, ok := v.([]any)
			if !ok {
				return nil, fmt.Errorf("%w: filters.%s.in needs a list", domain.ErrInvalid, f.Name)
			}
			vs := make([]any, len(list))
			for i, x := range list {
				cv, err := s.filterValue(ctx, a, f, x)
				if err != nil {
					return nil, err
				}
				vs[i] = cv
			}
			v = vs
		case store.OpLike, store.OpILike, store.OpContains:
			if _, ok := v.(string); !ok {
				return nil, fmt.Errorf("%w: filters.%s.%s needs a string", domain.ErrInvalid, f.Name, n)
			}
		default:
			return nil, fmt.Errorf("%w: filters.%s: operator %q; accepted: %v", domain.ErrInvalid, f.Name, n, store.CompareOps)
		}
		out = append(out, store.Comparison{Field: f.Name, Op: op, Value: v})
	}
	return out, nil
}

// isContains reports whether a JSON field's filter is {"contains": v}:
// a list field (tags) holding v.
func isContains(ops map[string]any) bool {
	_, ok := ops[string(store.OpContains)]
	return ok && len(ops) == 1
}
