package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/atomcp/atomcp/internal/domain"
)

// table returns the table of an entity type, or an ErrInvalid error.
func (o ops) table(t domain.EntityType) (*table, error) {
	tb, ok := o.tables[t]
	if !ok {
		return nil, fmt.Errorf("%w: unknown entity_type %q; accepted: %s",
			domain.ErrInvalid, t, strings.Join(domain.EntityTypeNames(), ", "))
	}
	return tb, nil
}

// CreateEntity inserts e.
func (o ops) CreateEntity(ctx context.Context, e *domain.Entity) error {
	if err := o.writeEntity(ctx, e, false); err != nil {
		return fmt.Errorf("create %s %q: %w", e.Type, e.ID, err)
	}
	return nil
}

// UpdateEntity writes every column of e but its id.
func (o ops) UpdateEntity(ctx context.Context, e *domain.Entity) error {
	if err := o.writeEntity(ctx, e, true); err != nil {
		return fmt.Errorf("update %s %q: %w", e.Type, e.ID, err)
	}
	return nil
}

// writeEntity writes the row and, atomically with it, its search index
// entry and embedding queue entry.
func (o ops) writeEntity(ctx context.Context, e *domain.Entity, update bool) error {
	t, err := o.table(e.Type)
	if err != nil {
		return err
	}
	args, err := t.args(e)
	if err != nil {
		return err
	}
	return o.atomically(ctx, func(q querier) error {
		sql := t.insertSQL
		if update {
			sql = t.updateSQL
		}
		tag, err := q.Exec(ctx, sql, args...)
		if err != nil {
			if isForeignKeyViolation(err) {
				return t.explainMissingRef(e, args, mapErr(err))
			}
			return mapErr(err)
		}
		if update {
			if err := expectOneRow(tag); err != nil {
				return err
			}
		}
		return indexEntity(ctx, q, t, e)
	})
}

// explainMissingRef names the reference that made a write fail, from the
// column PostgreSQL reports and the value the entity gave it.
func (t *table) explainMissingRef(e *domain.Entity, args []any, fkErr error) error {
	pe := pgError(fkErr)
	cols := detailColumns(pe)
	if len(cols) != 1 {
		return fkErr
	}
	target, ok := t.refs[cols[0]]
	if !ok {
		return fkErr
	}
	id := ""
	if cols[0] == "organization_id" {
		id, _ = args[1].(string)
	} else {
		id, _ = e.Fields[cols[0]].(string)
	}
	return &dbError{kind: domain.ErrInvalid, cause: pe,
		msg: fmt.Sprintf("%s %q does not name an existing %s", cols[0], id, target)}
}

// GetEntity returns the entity, deleted or not.
func (o ops) GetEntity(ctx context.Context, typ domain.EntityType, id string) (*domain.Entity, error) {
	t, err := o.table(typ)
	if err != nil {
		return nil, fmt.Errorf("get %s %q: %w", typ, id, err)
	}
	e, err := t.scan(o.q.QueryRow(ctx, t.selectSQL+` WHERE "id" = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("get %s %q: %w", typ, id, notFound(err))
	}
	return e, nil
}

// DeleteEntity removes the entity for good. An entity that other rows
// still reference is not deleted: the error wraps domain.ErrConflict.
func (o ops) DeleteEntity(ctx context.Context, typ domain.EntityType, id string) error {
	t, err := o.table(typ)
	if err != nil {
		return fmt.Errorf("delete %s %q: %w", typ, id, err)
	}
	err = o.atomically(ctx, func(q querier) error {
		tag, err := q.Exec(ctx, t.deleteSQL, id)
		if err != nil {
			return mapDeleteErr(err)
		}
		if err := expectOneRow(tag); err != nil {
			return err
		}
		return unindexEntity(ctx, q, id)
	})
	if err != nil {
		return fmt.Errorf("delete %s %q: %w", typ, id, err)
	}
	return nil
}
