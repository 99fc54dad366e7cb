package sqlite

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

// ListEntities returns one page of the entities that match q and the number
// that match in all, both read from one snapshot.
func (o ops) ListEntities(ctx context.Context, q store.EntityQuery) (store.EntityPage, error) {
	page, err := o.listEntities(ctx, q)
	if err != nil {
		return store.EntityPage{}, fmt.Errorf("list %s: %w", q.Type, err)
	}
	return page, nil
}

func (o ops) listEntities(ctx context.Context, q store.EntityQuery) (store.EntityPage, error) {
	t, err := o.table(q.Type)
	if err != nil {
		return store.EntityPage{}, err
	}
	where, args, err := t.where(q)
	if err != nil {
		return store.EntityPage{}, err
	}
	order, err := t.orderBy(q.OrderBy, q.Desc)
	if err != nil {
		return store.EntityPage{}, err
	}
	limit, limitArgs, err := limitClause(q.Limit, q.Offset)
	if err != nil {
		return store.EntityPage{}, err
	}

	page := store.EntityPage{Items: []*domain.Entity{}}
	err = o.snapshot(ctx, func(db querier) error {
		count := "SELECT count(*) FROM " + quoteIdent(t.kind.Table) + where
		if err := db.QueryRowContext(ctx, count, args...).Scan(&page.Total); err != nil {
			return err
		}
		if page.Total <= q.Offset {
			return nil // the page is past the end; spare the query
		}
		rows, err := db.QueryContext(ctx, t.selectSQL+where+order+limit, append(args, limitArgs...)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			e, err := t.scan(rows)
			if err != nil {
				return err
			}
			page.Items = append(page.Items, e)
		}
		return rows.Err()
	})
	if err != nil {
		return store.EntityPage{}, err
	}
	return page, nil
}

// where builds the WHERE clause of q and its arguments.
func (t *table) where(q store.EntityQuery) (string, []any, error) {
	var (
		conds []string
		args  = make([]any, 0, len(q.OrganizationIDs)+len(q.Equals)+1)
	)
	switch {
	case q.AllOrganizations && len(q.OrganizationIDs) > 0:
		// Both at once is a mistake in the caller; refuse rather than guess
		// which one was meant.
		return "", nil, fmt.Errorf("%w: both AllOrganizations and OrganizationIDs are set", domain.ErrInvalid)
	case q.AllOrganizations:
	case len(q.OrganizationIDs) == 0:
		// A forgotten scope is an error rather than a leak of everything.
		return "", nil, fmt.Errorf("%w: no organization scope (OrganizationIDs is empty)", domain.ErrInvalid)
	default:
		conds = append(conds, `"organization_id" IN (`+placeholders(len(q.OrganizationIDs))+`)`)
		for _, id := range q.OrganizationIDs {
			args = append(args, id)
		}
	}

	switch q.Deleted {
	case store.ExcludeDeleted:
		conds = append(conds, `"is_deleted" = 0`)
	case store.OnlyDeleted:
		conds = append(conds, `"is_deleted" = 1`)
	case store.IncludeDeleted:
	default:
		return "", nil, fmt.Errorf("%w: unknown Deleted filter %d", domain.ErrInvalid, q.Deleted)
	}

	// Sorted, so that equal queries make equal SQL text.
	keys := make([]string, 0, len(q.Equals))
	for k := range q.Equals {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		f, ok := t.kind.FilterField(k)
		if !ok {
			return "", nil, fmt.Errorf("%w: cannot filter %s by %q; accepted: %s",
				domain.ErrInvalid, t.kind.Type, k, strings.Join(t.kind.FilterNames(), ", "))
		}
		if f.Kind == domain.JSON {
			return "", nil, fmt.Errorf("%w: cannot filter %s by %q: it is a JSON field", domain.ErrInvalid, t.kind.Type, k)
		}
		v, err := encodeField(f, q.Equals[k])
		if err != nil {
			return "", nil, err
		}
		if v == nil {
			conds = append(conds, quoteIdent(k)+" IS NULL")
			continue
		}
		conds = append(conds, quoteIdent(k)+" = ?")
		args = append(args, v)
	}

	if q.Text != "" {
		var matches []string
		for _, f := range t.kind.Fields {
			if f.Searchable {
				matches = append(matches, foldFunc+"("+quoteIdent(f.Name)+`) LIKE ? ESCAPE '\'`)
				args = append(args, "%"+escapeLike(fold(q.Text))+"%")
			}
		}
		if len(matches) == 0 {
			return "", nil, fmt.Errorf("%w: %s has no searchable fields", domain.ErrInvalid, t.kind.Type)
		}
		conds = append(conds, "("+strings.Join(matches, " OR ")+")")
	}
	if len(conds) == 0 {
		return "", args, nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args, nil
}

// orderBy builds the ORDER BY clause. Text sorts case-insensitively (then
// by its exact value, so the order is total), and the id breaks ties so
// that paging is stable.
func (t *table) orderBy(name string, desc bool) (string, error) {
	if name == "" {
		name = "created_at"
	}
	var kind domain.FieldKind
	switch name {
	case "created_at", "updated_at", "id":
		kind = domain.Ref // compared as plain text
	default:
		f, ok := t.kind.Field(name)
		if !ok || f.Kind == domain.JSON {
			return "", fmt.Errorf("%w: cannot order %s by %q; accepted: %s",
				domain.ErrInvalid, t.kind.Type, name, strings.Join(t.orderNames(), ", "))
		}
		kind = f.Kind
	}
	dir := " ASC"
	if desc {
		dir = " DESC"
	}
	col := quoteIdent(name)
	var terms []string
	if kind == domain.String || kind == domain.Text {
		terms = append(terms, foldFunc+"("+col+")"+dir)
	}
	terms = append(terms, col+dir)
	if name != "id" {
		terms = append(terms, `"id"`+dir)
	}
	return " ORDER BY " + strings.Join(terms, ", "), nil
}

// orderNames lists the accepted OrderBy values, for error messages.
func (t *table) orderNames() []string {
	names := []string{"created_at", "updated_at", "id"}
	for _, f := range t.kind.Fields {
		if f.Kind != domain.JSON {
			names = append(names, f.Name)
		}
	}
	return names
}

// limitClause builds LIMIT/OFFSET; a zero limit means no limit.
func limitClause(limit, offset int) (string, []any, error) {
	switch {
	case limit < 0:
		return "", nil, fmt.Errorf("%w: negative limit %d", domain.ErrInvalid, limit)
	case offset < 0:
		return "", nil, fmt.Errorf("%w: negative offset %d", domain.ErrInvalid, offset)
	case limit == 0 && offset == 0:
		return "", nil, nil
	case limit == 0:
		return " LIMIT -1 OFFSET ?", []any{offset}, nil // SQLite needs a LIMIT before OFFSET
	}
	return " LIMIT ? OFFSET ?", []any{limit, offset}, nil
}

// escapeLike makes s match itself literally in a LIKE pattern with
// ESCAPE '\'.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
