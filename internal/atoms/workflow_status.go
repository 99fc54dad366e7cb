package atoms

import (
	"fmt"
	"slices"
	"strings"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

// statusKinds lists the entity types that have a status with fixed values.
func statusKinds() []string {
	var out []string
	for _, k := range domain.Kinds() {
		if f, ok := k.Field("status"); ok && len(f.Enum) > 0 {
			out = append(out, string(k.Type))
		}
	}
	return out
}

// bulkStatusWorkflow: one status for many entities of a type, named by ids
// or names, or selected by filters. Each entity is one step.
func (s *Service) bulkStatusWorkflow(params map[string]any) (func(r *wfRun) map[string]any, error) {
	p, err := newWFParams(WorkflowBulkStatusUpdate, params, "entity_type", "status", "entity_ids", "filters")
	if err != nil {
		return nil, err
	}
	kinds := statusKinds()
	typ, err := p.requiredStr("entity_type", "the type of the entities to update; accepted: "+strings.Join(kinds, ", "))
	if err != nil {
		return nil, err
	}
	if !slices.Contains(kinds, typ) {
		return nil, fmt.Errorf("%w: parameters.entity_type %q has no status to update; accepted: %s", domain.ErrInvalid, typ, strings.Join(kinds, ", "))
	}
	t := domain.EntityType(typ)
	k := mustKind(t)
	statusField, _ := k.Field("status")
	status, err := p.requiredStr("status", fmt.Sprintf("the new status of the %ss; accepted: %s", t, strings.Join(statusField.Enum, ", ")))
	if err != nil {
		return nil, err
	}
	if !slices.Contains(statusField.Enum, status) {
		return nil, fmt.Errorf("%w: parameters.status %q is not a status of %s; accepted: %s", domain.ErrInvalid, status, t, strings.Join(statusField.Enum, ", "))
	}
	if p.has("entity_ids") == p.has("filters") {
		return nil, fmt.Errorf("%w: bulk_status_update needs exactly one of parameters.entity_ids (a list of ids or names) or parameters.filters (field equals value, e.g. {\"document_id\": \"auto\", \"status\": \"draft\"})", domain.ErrInvalid)
	}
	refs, err := statusRefs(p)
	if err != nil {
		return nil, err
	}
	filters, err := p.object("filters")
	if err != nil {
		return nil, err
	}
	if p.has("filters") {
		if len(filters) == 0 {
			return nil, fmt.Errorf("%w: parameters.filters is empty, which would select every %s you can see; give at least one field, e.g. {\"document_id\": \"auto\"}", domain.ErrInvalid, t)
		}
		for _, name := range sortedKeys(filters) {
			if _, ok := k.Field(name); !ok {
				return nil, fmt.Errorf("%w: parameters.filters.%s is not a field of %s; accepted: %s", domain.ErrInvalid, name, t, strings.Join(k.FieldNames(), ", "))
			}
		}
	}

	return func(r *wfRun) map[string]any {
		updated, unchanged := 0, 0
		update := func(name string, find func(tx store.Ops) (*domain.Entity, error)) {
			var changed bool
			if r.step(name, func(tx store.Ops) (map[string]any, error) {
				e, err := find(tx)
				if err != nil {
					return nil, err
				}
				after, ch, err := r.setStatusIn(tx, e, status)
				if err != nil {
					return nil, err
				}
				changed = ch
				out := Format(after, FormatSummary)
				out["previous_status"] = e.Str("status")
				out["changed"] = ch
				return out, nil
			}) {
				if changed {
					updated++
				} else {
					unchanged++
				}
			}
		}
		summary := map[string]any{"entity_type": string(t), "status": status}
		if refs != nil {
			for i, ref := range refs {
				update(fmt.Sprintf("update_status[%d] (%s)", i, ref), func(tx store.Ops) (*domain.Entity, error) {
					return r.resolveLiveIn(tx, t, ref, fmt.Sprintf("entity_ids[%d]", i))
				})
			}
			summary["requested"] = len(refs)
		} else {
			var matched []*domain.Entity
			if !r.step("select_entities", func(tx store.Ops) (map[string]any, error) {
				var err error
				matched, err = r.filterIn(tx, k, filters)
				if err != nil {
					return nil, err
				}
				return map[string]any{"matched": len(matched)}, nil
			}) {
				return nil
			}
			for _, e := range matched {
				id := e.ID
				update(fmt.Sprintf("update_status %s (%s)", e.Name(), id), func(tx store.Ops) (*domain.Entity, error) {
					// Read again: in continue mode an earlier step's
					// transaction has ended and the entity may have changed.
					return r.s.getVisible(r.ctx, tx, r.a, t, id)
				})
			}
			summary["matched"] = len(matched)
		}
		summary["updated"], summary["unchanged"] = updated, unchanged
		return summary
	}, nil
}

// statusRefs reads parameters.entity_ids.
func statusRefs(p *wfParams) ([]string, error) {
	list, err := p.list("entity_ids")
	if err != nil || list == nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("%w: parameters.entity_ids is empty; give the ids or names of the entities to update", domain.ErrInvalid)
	}
	if len(list) > MaxWorkflowItems {
		return nil, fmt.Errorf("%w: parameters.entity_ids has %d items; at most %d are accepted per call", domain.ErrInvalid, len(list), MaxWorkflowItems)
	}
	refs := make([]string, len(list))
	for i, v := range list {
		s, ok := v.(string)
		if !ok || strings.TrimSpace(s) == "" {
			return nil, fmt.Errorf("%w: parameters.entity_ids[%d] must be an id or a name, got %s", domain.ErrInvalid, i, jsonType(v))
		}
		refs[i] = strings.TrimSpace(s)
	}
	return refs, nil
}

// filterIn selects the live entities of a kind that match filters (field
// equals value; references may be ids, names or "auto"), as entity_tool
// list does, but inside the workflow's transaction and without paging. More
// than MaxWorkflowItems matches is an error, not a silent cut.
func (r *wfRun) filterIn(tx store.Ops, k *domain.Kind, filters map[string]any) ([]*domain.Entity, error) {
	equals := make(map[string]any, len(filters))
	for _, name := range sortedKeys(filters) {
		f, _ := k.Field(name)
		cv, err := coerceValue(domain.Field{Name: f.Name, Kind: f.Kind, Enum: f.Enum}, filters[name])
		if err != nil {
			return nil, fmt.Errorf("%w: parameters.filters.%s: %v", domain.ErrInvalid, name, err)
		}
		if ref, ok := cv.(string); ok && f.Kind == domain.Ref {
			e, err := r.resolveLiveIn(tx, f.Ref, ref, "filters."+name)
			if err != nil {
				return nil, err
			}
			cv = e.ID
		}
		equals[name] = cv
	}
	orgs := r.a.OrganizationIDs()
	if len(orgs) == 0 {
		return nil, nil
	}
	page, err := tx.ListEntities(r.ctx, store.EntityQuery{Type: k.Type, OrganizationIDs: orgs, Equals: equals, Limit: MaxWorkflowItems + 1})
	if err != nil {
		return nil, fmt.Errorf("select %ss: %w", k.Type, err)
	}
	if len(page.Items) > MaxWorkflowItems {
		return nil, fmt.Errorf("%w: parameters.filters match %d %ss; at most %d are updated per call; narrow the filters (by document_id, or by the current status)", domain.ErrInvalid, page.Total, k.Type, MaxWorkflowItems)
	}
	return page.Items, nil
}

// setStatusIn sets an entity's status inside the workflow's transaction,
// with the write check and audit entry of UpdateEntity. An entity already
// in that status is left alone (changed=false), without an audit entry.
func (r *wfRun) setStatusIn(tx store.Ops, e *domain.Entity, status string) (after *domain.Entity, changed bool, err error) {
	if e.IsDeleted {
		return nil, false, fmt.Errorf("%w: the %s %q is deleted; restore it first", domain.ErrInvalid, e.Type, e.Name())
	}
	if err := r.a.requireWriteIn(e.OrganizationID, e.ProjectID(), "change "+string(e.Type)); err != nil {
		return nil, false, err
	}
	if e.Str("status") == status {
		return e, false, nil
	}
	after = e.Clone()
	after.Fields["status"] = status
	after.UpdatedAt, after.UpdatedBy = r.s.now(), r.a.User.ID
	if err := tx.UpdateEntity(r.ctx, after); err != nil {
		return nil, false, fmt.Errorf("update %s: %w", e.Type, err)
	}
	return after, true, r.s.audit(r.ctx, tx, r.a.User.ID, "update", e, after)
}
