package sqlcore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/atomcp/atomcp/internal/domain"
)

// A soft delete hides an entity and every live entity below it, marking
// each with the deleted entity's id (deleted_with); a restore brings back
// exactly the rows marked with it. Entities deleted earlier on their own
// keep their own mark, so a restore of their parent leaves them deleted.

// SoftDeleteEntity marks a live entity deleted with everything live below
// it, and returns how many entities of each type it hid.
func (o Ops) SoftDeleteEntity(ctx context.Context, typ domain.EntityType, id string, at time.Time, by string) (map[domain.EntityType]int, error) {
	t, err := o.softTable(typ)
	if err != nil {
		return nil, fmt.Errorf("delete %s %q: %w", typ, id, err)
	}
	hidden := map[domain.EntityType]int{}
	err = o.Conn.Atomically(ctx, func(q Querier) error {
		n, err := q.Exec(ctx, `UPDATE `+t.Name+` SET "is_deleted" = true, "deleted_at" = $2, "deleted_with" = $1, "updated_at" = $2, "updated_by" = $3
			WHERE "id" = $1 AND "is_deleted" = false`, id, o.D.Time(at), NullIfEmpty(by))
		if err != nil {
			return o.D.MapErr(err)
		}
		if n == 0 {
			e, err := t.Scan(o.D, q.QueryRow(ctx, t.SelectSQL+` WHERE "id" = $1`, id))
			if err != nil {
				return NotFound(err)
			}
			return fmt.Errorf("%w: the %s %q is already deleted", domain.ErrInvalid, typ, e.Name())
		}
		if err := o.Unindex(ctx, q, id); err != nil {
			return err
		}
		hidden[typ] = 1
		// Parents come before children in domain.Kinds, so each kind's
		// parents are marked by the time its own rows are.
		affected := map[domain.EntityType]bool{typ: true}
		for _, k := range domain.Kinds() {
			parent, ok := k.Field(k.ParentField)
			if k.Type == typ || k.ParentField == "" || !ok || !affected[parent.Ref] {
				continue
			}
			ct, pt := o.Tables[k.Type], o.Tables[parent.Ref]
			ids, err := queryAll(ctx, q, scanString,
				`UPDATE `+ct.Name+` SET "is_deleted" = true, "deleted_at" = $2, "deleted_with" = $1
				WHERE "is_deleted" = false AND `+QuoteIdent(k.ParentField)+` IN (SELECT "id" FROM `+pt.Name+` WHERE "deleted_with" = $1)
				RETURNING "id"`, id, o.D.Time(at))
			if err != nil {
				return o.D.MapErr(err)
			}
			for _, cid := range ids {
				if err := o.Unindex(ctx, q, cid); err != nil {
					return err
				}
			}
			affected[k.Type] = true
			if len(ids) > 0 {
				hidden[k.Type] = len(ids)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("delete %s %q: %w", typ, id, err)
	}
	return hidden, nil
}

// RestoreEntity brings back a deleted entity and exactly the entities its
// delete hid, and returns how many of each type came back.
func (o Ops) RestoreEntity(ctx context.Context, typ domain.EntityType, id string, at time.Time, by string) (map[domain.EntityType]int, error) {
	t, err := o.softTable(typ)
	if err != nil {
		return nil, fmt.Errorf("restore %s %q: %w", typ, id, err)
	}
	restored := map[domain.EntityType]int{}
	err = o.Conn.Atomically(ctx, func(q Querier) error {
		e, err := t.Scan(o.D, q.QueryRow(ctx, t.SelectSQL+` WHERE "id" = $1`, id))
		if err != nil {
			return NotFound(err)
		}
		if err := o.checkRestorable(ctx, q, t, e); err != nil {
			return err
		}
		rows, err := queryAll(ctx, q, func(r Row) (*domain.Entity, error) { return t.Scan(o.D, r) },
			`UPDATE `+t.Name+` SET "is_deleted" = false, "deleted_at" = NULL, "deleted_with" = NULL, "updated_at" = $2, "updated_by" = $3
			WHERE "id" = $1 RETURNING `+t.columns, id, o.D.Time(at), NullIfEmpty(by))
		if err != nil {
			return o.D.MapErr(err)
		}
		if err := o.reindex(ctx, q, t, rows); err != nil {
			return err
		}
		restored[typ] = len(rows)
		for _, k := range domain.Kinds() {
			ct := o.Tables[k.Type]
			rows, err := queryAll(ctx, q, func(r Row) (*domain.Entity, error) { return ct.Scan(o.D, r) },
				`UPDATE `+ct.Name+` SET "is_deleted" = false, "deleted_at" = NULL, "deleted_with" = NULL
				WHERE "deleted_with" = $1 RETURNING `+ct.columns, id)
			if err != nil {
				return o.D.MapErr(err)
			}
			if err := o.reindex(ctx, q, ct, rows); err != nil {
				return err
			}
			if len(rows) > 0 {
				restored[k.Type] += len(rows)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("restore %s %q: %w", typ, id, err)
	}
	return restored, nil
}

// checkRestorable refuses to restore an entity that is live, that was
// hidden by the delete of an entity above it (restoring that one brings it
// back), or whose parent is deleted.
func (o Ops) checkRestorable(ctx context.Context, q Querier, t *Table, e *domain.Entity) error {
	if !e.IsDeleted {
		return fmt.Errorf("%w: the %s %q is not deleted", domain.ErrInvalid, e.Type, e.Name())
	}
	if root := e.DeletedWith; root != "" && root != e.ID {
		for _, k := range domain.Kinds() {
			r, err := o.Tables[k.Type].Scan(o.D, q.QueryRow(ctx, o.Tables[k.Type].SelectSQL+` WHERE "id" = $1`, root))
			if err == nil {
				return fmt.Errorf("%w: the %s %q was hidden when the %s %q (%s) was deleted; restore that %s, which brings this back",
					domain.ErrInvalid, e.Type, e.Name(), r.Type, r.Name(), r.ID, r.Type)
			}
			if !errors.Is(NotFound(err), domain.ErrNotFound) {
				return err
			}
		}
		// The entity that hid it is gone for good: restore this one alone.
	}
	parentField, ok := t.Kind.Field(t.Kind.ParentField)
	if !ok {
		return nil
	}
	pt := o.Tables[parentField.Ref]
	p, err := pt.Scan(o.D, q.QueryRow(ctx, pt.SelectSQL+` WHERE "id" = $1`, e.Str(t.Kind.ParentField)))
	if err != nil {
		return fmt.Errorf("parent %s of %s %q: %w", parentField.Ref, e.Type, e.ID, NotFound(err))
	}
	if p.IsDeleted {
		return fmt.Errorf("%w: the %s %q that the %s %q belongs to is deleted; restore the %s first",
			domain.ErrInvalid, p.Type, p.Name(), e.Type, e.Name(), p.Type)
	}
	return nil
}

// reindex writes the search index entries of entities that came back.
func (o Ops) reindex(ctx context.Context, q Querier, t *Table, es []*domain.Entity) error {
	for _, e := range es {
		if err := o.Index(ctx, q, t, e); err != nil {
			return err
		}
	}
	return nil
}

// softTable is the table of a kind that is deleted softly.
func (o Ops) softTable(typ domain.EntityType) (*Table, error) {
	t, err := o.Table(typ)
	if err != nil {
		return nil, err
	}
	if !t.Kind.SoftDelete {
		return nil, fmt.Errorf("%w: a %s is deleted for good, not softly, and cannot be restored", domain.ErrInvalid, typ)
	}
	return t, nil
}

func scanString(r Row) (s string, err error) {
	err = r.Scan(&s)
	return s, err
}
