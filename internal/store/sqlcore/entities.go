package sqlcore

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/atomcp/atomcp/internal/domain"
)

// Entities is the entity part of Ops: the tables of every kind and the
// backend's search index, kept in step with each write.
type Entities struct {
	Tables map[domain.EntityType]*Table
	// Index replaces the search index entry of e and queues it for
	// embedding; Unindex removes an entity's entry. Both run in the
	// write's transaction (q).
	Index   func(ctx context.Context, q Querier, t *Table, e *domain.Entity) error
	Unindex func(ctx context.Context, q Querier, id string) error
}

// Table returns the table of an entity type, or an ErrInvalid error.
func (o Ops) Table(t domain.EntityType) (*Table, error) {
	tb, ok := o.Tables[t]
	if !ok {
		return nil, fmt.Errorf("%w: unknown entity_type %q; accepted: %s",
			domain.ErrInvalid, t, strings.Join(domain.EntityTypeNames(), ", "))
	}
	return tb, nil
}

// CreateEntity inserts e.
func (o Ops) CreateEntity(ctx context.Context, e *domain.Entity) error {
	if err := o.writeEntity(ctx, e, false); err != nil {
		return fmt.Errorf("create %s %q: %w", e.Type, e.ID, err)
	}
	return nil
}

// UpdateEntity writes every column of e but its id.
func (o Ops) UpdateEntity(ctx context.Context, e *domain.Entity) error {
	if err := o.writeEntity(ctx, e, true); err != nil {
		return fmt.Errorf("update %s %q: %w", e.Type, e.ID, err)
	}
	return nil
}

// writeEntity writes the row and, atomically with it, its search index
// entry and embedding queue entry.
func (o Ops) writeEntity(ctx context.Context, e *domain.Entity, update bool) error {
	t, err := o.Table(e.Type)
	if err != nil {
		return err
	}
	args, err := t.args(o.D, e)
	if err != nil {
		return err
	}
	missingRef := false
	err = o.Conn.Atomically(ctx, func(q Querier) error {
		sql := t.insertSQL
		if update {
			sql = t.updateSQL
		}
		n, err := q.Exec(ctx, sql, args...)
		if err != nil {
			missingRef = o.D.IsForeignKey(err)
			return o.D.MapErr(err)
		}
		if update && n == 0 {
			return domain.ErrNotFound
		}
		return o.Index(ctx, q, t, e)
	})
	if missingRef {
		return o.explainMissingRef(ctx, t, e, err)
	}
	return err
}

// explainMissingRef names the reference that made a write fail: SQLite
// reports only that some foreign key failed, which leaves the caller
// guessing; one lookup per reference finds which. It runs after the
// write's transaction or savepoint ended, so that PostgreSQL, which aborts
// a transaction at a failed statement, can still run it.
func (o Ops) explainMissingRef(ctx context.Context, t *Table, e *domain.Entity, fkErr error) error {
	type ref struct {
		field, id string
		target    domain.EntityType
	}
	var refs []ref
	if t.Kind.Type != domain.Organization {
		orgID, _ := t.organizationID(e)
		refs = append(refs, ref{"organization_id", orgID, domain.Organization})
	}
	for _, f := range t.Fields {
		if id, _ := e.Fields[f.Name].(string); f.Kind == domain.Ref && id != "" {
			refs = append(refs, ref{f.Name, id, f.Ref})
		}
	}
	for _, r := range refs {
		target, ok := o.Tables[r.target]
		if !ok {
			continue
		}
		var one int
		err := o.Read.QueryRow(ctx, "SELECT 1 FROM "+target.Name+` WHERE "id" = $1`, r.id).Scan(&one)
		if errors.Is(NotFound(err), domain.ErrNotFound) {
			return &Error{Kind: domain.ErrInvalid, Cause: fkErr,
				Msg: fmt.Sprintf("%s %q does not name an existing %s", r.field, r.id, r.target)}
		}
	}
	return fkErr
}

// GetEntity returns the entity, deleted or not.
func (o Ops) GetEntity(ctx context.Context, typ domain.EntityType, id string) (*domain.Entity, error) {
	t, err := o.Table(typ)
	if err != nil {
		return nil, fmt.Errorf("get %s %q: %w", typ, id, err)
	}
	e, err := t.Scan(o.D, o.Read.QueryRow(ctx, t.SelectSQL+` WHERE "id" = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("get %s %q: %w", typ, id, NotFound(err))
	}
	return e, nil
}

// DeleteEntity removes the entity for good. An entity that other rows
// still reference is not deleted: the error wraps domain.ErrConflict.
func (o Ops) DeleteEntity(ctx context.Context, typ domain.EntityType, id string) error {
	t, err := o.Table(typ)
	if err != nil {
		return fmt.Errorf("delete %s %q: %w", typ, id, err)
	}
	err = o.Conn.Atomically(ctx, func(q Querier) error {
		if err := expectOneRow(q.Exec(ctx, t.deleteSQL, id)); err != nil {
			return o.D.MapDeleteErr(err)
		}
		return o.Unindex(ctx, q, id)
	})
	return wrapf(err, "delete %s %q", typ, id)
}

// Error is a violated constraint in the domain's terms. Both the sentinel
// and the driver's error are in its chain; its message is the sentinel's
// followed by a readable description, without the driver's codes or the
// values involved.
type Error struct {
	Kind  error // domain.ErrConflict or domain.ErrInvalid
	Cause error // the driver's error
	Msg   string
}

func (e *Error) Error() string   { return e.Kind.Error() + ": " + e.Msg }
func (e *Error) Unwrap() []error { return []error{e.Kind, e.Cause} }
