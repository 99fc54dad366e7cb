package sqlite

import (
	"context"
	"database/sql"
	"errors"
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

// writeEntity writes the row and, in the same transaction, its search
// index entry and embedding queue entry.
func (o ops) writeEntity(ctx context.Context, e *domain.Entity, update bool) error {
	t, err := o.table(e.Type)
	if err != nil {
		return err
	}
	args, err := t.args(e)
	if err != nil {
		return err
	}
	return o.atomically(ctx, func(w querier) error {
		var res sql.Result
		if update {
			// The id goes last, into WHERE.
			res, err = w.ExecContext(ctx, t.updateSQL, append(args[1:], args[0])...)
		} else {
			res, err = w.ExecContext(ctx, t.insertSQL, args...)
		}
		if err != nil {
			if classify(err) == foreignKeyViolation {
				return o.explainMissingRef(ctx, t, e, mapErr(err))
			}
			return mapErr(err)
		}
		if update {
			if err := expectOneRow(res); err != nil {
				return err
			}
		}
		return indexEntity(ctx, w, t, e)
	})
}

// explainMissingRef names the reference that made a write fail. SQLite
// reports only that some foreign key failed, which leaves the caller
// guessing; one lookup per reference finds which. (Inside a transaction
// this is allowed: a failed statement does not abort the transaction.)
func (o ops) explainMissingRef(ctx context.Context, t *table, e *domain.Entity, fkErr error) error {
	type ref struct {
		field, id string
		target    domain.EntityType
	}
	var refs []ref
	if t.kind.Type != domain.Organization {
		orgID, _ := t.organizationID(e)
		refs = append(refs, ref{"organization_id", orgID, domain.Organization})
	}
	for _, f := range t.fields {
		if id, _ := e.Fields[f.Name].(string); f.Kind == domain.Ref && id != "" {
			refs = append(refs, ref{f.Name, id, f.Ref})
		}
	}
	for _, r := range refs {
		target, ok := o.tables[r.target]
		if !ok {
			continue
		}
		var one int
		err := o.read.QueryRowContext(ctx,
			"SELECT 1 FROM "+quoteIdent(target.kind.Table)+" WHERE \"id\" = ?", r.id).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: %s %q does not name an existing %s", domain.ErrInvalid, r.field, r.id, r.target)
		}
	}
	return fkErr
}

// GetEntity returns the entity, deleted or not.
func (o ops) GetEntity(ctx context.Context, typ domain.EntityType, id string) (*domain.Entity, error) {
	t, err := o.table(typ)
	if err != nil {
		return nil, fmt.Errorf("get %s %q: %w", typ, id, err)
	}
	e, err := t.scan(o.read.QueryRowContext(ctx, t.selectSQL+" WHERE \"id\" = ?", id))
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
	err = o.atomically(ctx, func(w querier) error {
		res, err := w.ExecContext(ctx, t.deleteSQL, id)
		if err != nil {
			return mapDeleteErr(err)
		}
		if err := expectOneRow(res); err != nil {
			return err
		}
		return unindexEntity(ctx, w, id)
	})
	if err != nil {
		return fmt.Errorf("delete %s %q: %w", typ, id, err)
	}
	return nil
}
