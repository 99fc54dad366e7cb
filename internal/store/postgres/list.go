package postgres

import (
	"context"
	"fmt"
	"slices"
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
	var p params
	where, err := t.where(q, &p)
	if err != nil {
		return store.EntityPage{}, err
	}
	order, err := t.orderBy(q.OrderBy, q.Desc)
	if err != nil {
		return store.EntityPage{}, err
	}
	countArgs := slices.Clone(p)
	limit, err := limitClause(q.Limit, q.Offset, &p)
	if err != nil {
		return store.EntityPage{}, err
	}

	page := store.EntityPage{Items: []*domain.Entity{}}
	err = o.snapshot(ctx, func(db querier) error {
		count := "SELECT count(*) FROM " + t.name + where
		if err := db.QueryRow(ctx, count, countArgs...).Scan(&page.Total); err != nil {
			return err
		}
		if page.Total <= q.Offset {
			return nil // the page is past the end; spare the query
		}
		rows, err := db.Query(ctx, t.selectSQL+where+order+limit, p...)
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
		return store.EntityPage{}, mapErr(err)
	}
	return page, nil
}

// where builds the WHERE clause of q, adding its arguments to p.
func (t *table) where(q store.EntityQuery, p *params) (string, error) {
	var conds []string
	switch {
	case q.AllOrganizations && len(q.OrganizationIDs) > 0:
		// Both at once is a mistake in the caller; refuse rather than guess
		// which one was meant.
		return "", fmt.Errorf("%w: both AllOrganizations and OrganizationIDs are set", domain.ErrInvalid)
	case q.AllOrganizations:
	case len(q.OrganizationIDs) == 0:
		// A forgotten scope is an error rather than a leak of everything.
		return "", fmt.Errorf("%w: no organization scope (OrganizationIDs is empty)", domain.ErrInvalid)
	default:
		conds = append(conds, `"organization_id" = ANY(`+p.add(q.OrganizationIDs)+`::text[])`)
	}

	switch q.Deleted {
	case store.ExcludeDeleted:
		conds = append(conds, `NOT "is_deleted"`)
	case store.OnlyDeleted:
		conds = append(conds, `"is_deleted"`)
	case store.IncludeDeleted:
	default:
		return "", fmt.Errorf("%w: unknown Deleted filter %d", domain.ErrInvalid, q.Deleted)
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
			return "", fmt.Errorf("%w: cannot filter %s by %q; accepted: %s",
				domain.ErrInvalid, t.kind.Type, k, strings.Join(t.kind.FilterNames(), ", "))
		}
		if f.Kind == domain.JSON {
			return "", fmt.Errorf("%w: cannot filter %s by %q: it is a JSON field", domain.ErrInvalid, t.kind.Type, k)
		}
		v, err := encodeField(f, q.Equals[k])
		if err != nil {
			return "", err
		}
		if v == nil {
			conds = append(conds, quoteIdent(k)+" IS NULL")
			continue
		}
		conds = append(conds, quoteIdent(k)+" = "+p.add(v))
	}

	if q.Text != "" {
		var matches []string
		text := p.add(q.Text)
		for _, f := range t.kind.Fields {
			if f.Searchable {
				// strpos, not LIKE: the text is matched literally, with
				// no wildcard to escape.
				matches = append(matches, "strpos(lower("+quoteIdent(f.Name)+"), lower("+text+"::text)) > 0")
			}
		}
		if len(matches) == 0 {
			return "", fmt.Errorf("%w: %s has no searchable fields", domain.ErrInvalid, t.kind.Type)
		}
		conds = append(conds, "("+strings.Join(matches, " OR ")+")")
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), nil
}

// orderBy builds the ORDER BY clause. Text sorts case-insensitively (then
// by its exact value, so the order is total), byte by byte whatever the
// database's collation, as in the SQLite backend; the id breaks ties so
// that paging is stable.
func (t *table) orderBy(name string, desc bool) (string, error) {
	if name == "" {
		name = "created_at"
	}
	var kind domain.FieldKind
	switch name {
	case "created_at", "updated_at", "id":
		kind = domain.Ref // compared as they are (ids are COLLATE "C")
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
	nulls := nullsFirst(desc)
	var terms []string
	if kind == domain.String || kind == domain.Text {
		terms = append(terms, "lower("+col+`) COLLATE "C"`+dir+nulls, col+` COLLATE "C"`+dir+nulls)
	} else {
		// false before true, as 0 before 1 in SQLite.
		terms = append(terms, col+dir+nulls)
	}
	if name != "id" {
		terms = append(terms, `"id"`+dir)
	}
	return " ORDER BY " + strings.Join(terms, ", "), nil
}

// nullsFirst places NULLs as SQLite does: smallest of all values.
func nullsFirst(desc bool) string {
	if desc {
		return " NULLS LAST"
	}
	return " NULLS FIRST"
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

// limitClause builds LIMIT/OFFSET, adding its arguments to p; a zero
// limit means no limit.
func limitClause(limit, offset int, p *params) (string, error) {
	switch {
	case limit < 0:
		return "", fmt.Errorf("%w: negative limit %d", domain.ErrInvalid, limit)
	case offset < 0:
		return "", fmt.Errorf("%w: negative offset %d", domain.ErrInvalid, offset)
	case limit == 0 && offset == 0:
		return "", nil
	case limit == 0:
		return " OFFSET " + p.add(offset), nil
	}
	return " LIMIT " + p.add(limit) + " OFFSET " + p.add(offset), nil
}
