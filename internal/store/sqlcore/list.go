package sqlcore

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

// ListEntities returns one page of the entities that match q and the number
// that match in all, both read from one snapshot.
func (o Ops) ListEntities(ctx context.Context, q store.EntityQuery) (store.EntityPage, error) {
	page, err := o.listEntities(ctx, q)
	if err != nil {
		return store.EntityPage{}, fmt.Errorf("list %s: %w", q.Type, err)
	}
	return page, nil
}

func (o Ops) listEntities(ctx context.Context, q store.EntityQuery) (store.EntityPage, error) {
	t, err := o.Table(q.Type)
	if err != nil {
		return store.EntityPage{}, err
	}
	var p Params
	where, err := o.Where(t, q, &p)
	if err != nil {
		return store.EntityPage{}, err
	}
	order, err := o.orderBy(t, q.OrderBy, q.Desc)
	if err != nil {
		return store.EntityPage{}, err
	}
	countArgs := slices.Clone(p)
	limit, err := o.LimitClause(q.Limit, q.Offset, &p)
	if err != nil {
		return store.EntityPage{}, err
	}

	page := store.EntityPage{Items: []*domain.Entity{}}
	err = o.Conn.Snapshot(ctx, func(db Querier) error {
		if err := db.QueryRow(ctx, "SELECT count(*) FROM "+t.Name+where, countArgs...).Scan(&page.Total); err != nil {
			return err
		}
		if page.Total <= q.Offset {
			return nil // the page is past the end; spare the query
		}
		var err error
		page.Items, err = queryAll(ctx, db, func(r Row) (*domain.Entity, error) { return t.Scan(o.D, r) }, t.SelectSQL+where+order+limit, p...)
		return err
	})
	if err != nil {
		return store.EntityPage{}, o.D.MapErr(err)
	}
	return page, nil
}

// Where builds the WHERE clause of q, adding its arguments to p.
func (o Ops) Where(t *Table, q store.EntityQuery, p *Params) (string, error) {
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
		conds = append(conds, o.D.In(`"organization_id"`, q.OrganizationIDs, p))
	}

	switch q.Deleted {
	case store.ExcludeDeleted:
		conds = append(conds, `"is_deleted" = false`) // SQLite reads false as 0
	case store.OnlyDeleted:
		conds = append(conds, `"is_deleted" = true`)
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
		f, ok := t.Kind.FilterField(k)
		if !ok {
			return "", fmt.Errorf("%w: cannot filter %s by %q; accepted: %s",
				domain.ErrInvalid, t.Kind.Type, k, strings.Join(t.Kind.FilterNames(), ", "))
		}
		if f.Kind == domain.JSON {
			return "", fmt.Errorf("%w: cannot filter %s by %q: it is a JSON field", domain.ErrInvalid, t.Kind.Type, k)
		}
		v, err := EncodeField(o.D, f, q.Equals[k])
		if err != nil {
			return "", err
		}
		if v == nil {
			conds = append(conds, QuoteIdent(k)+" IS NULL")
			continue
		}
		conds = append(conds, QuoteIdent(k)+" = "+p.Add(v))
	}
	for _, c := range q.Compare {
		cond, err := o.comparison(t, c, p)
		if err != nil {
			return "", err
		}
		conds = append(conds, cond)
	}

	if q.Text != "" {
		var matches []string
		text := o.D.Fold + "(CAST(" + p.Add(q.Text) + " AS text))"
		for _, f := range t.Kind.Fields {
			if f.Searchable {
				// A substring position, not LIKE: the text is matched
				// literally, with no wildcard to escape.
				matches = append(matches, o.D.StrPos+"("+o.D.Fold+"("+QuoteIdent(f.Name)+"), "+text+") > 0")
			}
		}
		if len(matches) == 0 {
			return "", fmt.Errorf("%w: %s has no searchable fields", domain.ErrInvalid, t.Kind.Type)
		}
		conds = append(conds, "("+strings.Join(matches, " OR ")+")")
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), nil
}

// comparison builds the condition of one operator filter, adding its
// values to p as parameters (no value is ever part of the SQL text).
func (o Ops) comparison(t *Table, c store.Comparison, p *Params) (string, error) {
	f, ok := t.Kind.FilterField(c.Field)
	if !ok {
		return "", fmt.Errorf("%w: cannot filter %s by %q; accepted: %s",
			domain.ErrInvalid, t.Kind.Type, c.Field, strings.Join(t.Kind.FilterNames(), ", "))
	}
	col := QuoteIdent(c.Field)
	if f.Kind == domain.JSON && c.Op != store.OpContains {
		return "", fmt.Errorf("%w: cannot compare %s by %q with %s: it is a JSON field (only contains)", domain.ErrInvalid, t.Kind.Type, c.Field, c.Op)
	}
	encode := func(v any) (string, error) {
		ev, err := EncodeField(o.D, f, v)
		if err != nil {
			return "", err
		}
		if ev == nil {
			return "", fmt.Errorf("%w: filters.%s.%s: null can only be compared with eq or neq", domain.ErrInvalid, c.Field, c.Op)
		}
		return p.Add(ev), nil
	}
	text := func() (string, error) {
		s, ok := c.Value.(string)
		if !ok {
			return "", fmt.Errorf("%w: filters.%s.%s needs a string", domain.ErrInvalid, c.Field, c.Op)
		}
		return p.Add(s), nil
	}
	switch c.Op {
	case store.OpEq, store.OpNeq:
		if c.Value == nil {
			if c.Op == store.OpEq {
				return col + " IS NULL", nil
			}
			return col + " IS NOT NULL", nil
		}
		v, err := encode(c.Value)
		if err != nil {
			return "", err
		}
		if c.Op == store.OpEq {
			return col + " = " + v, nil
		}
		return col + " <> " + v, nil
	case store.OpGt, store.OpGte, store.OpLt, store.OpLte:
		v, err := encode(c.Value)
		if err != nil {
			return "", err
		}
		sym := map[store.CompareOp]string{store.OpGt: " > ", store.OpGte: " >= ", store.OpLt: " < ", store.OpLte: " <= "}[c.Op]
		return col + sym + v, nil
	case store.OpIn:
		vs, ok := c.Value.([]any)
		if !ok {
			return "", fmt.Errorf("%w: filters.%s.in needs a list", domain.ErrInvalid, c.Field)
		}
		if len(vs) == 0 {
			return "1 = 0", nil // in nothing matches nothing
		}
		ps := make([]string, len(vs))
		for i, v := range vs {
			x, err := encode(v)
			if err != nil {
				return "", err
			}
			ps[i] = x
		}
		return col + " IN (" + strings.Join(ps, ", ") + ")", nil
	case store.OpLike:
		v, err := text()
		if err != nil {
			return "", err
		}
		return "CAST(" + col + " AS text) LIKE " + v, nil
	case store.OpILike:
		v, err := text()
		if err != nil {
			return "", err
		}
		return o.D.Fold + "(CAST(" + col + " AS text)) LIKE " + o.D.Fold + "(" + v + ")", nil
	case store.OpContains:
		s, ok := c.Value.(string)
		if !ok {
			return "", fmt.Errorf("%w: filters.%s.contains needs a string", domain.ErrInvalid, c.Field)
		}
		if f.Kind == domain.JSON {
			// A string element of a JSON list (tags): its JSON text.
			b, _ := json.Marshal(s)
			s = string(b)
		}
		return o.D.StrPos + "(" + o.D.Fold + "(CAST(" + col + " AS text)), " + o.D.Fold + "(CAST(" + p.Add(s) + " AS text))) > 0", nil
	}
	return "", fmt.Errorf("%w: filter operator %q; accepted: %v", domain.ErrInvalid, c.Op, store.CompareOps)
}

// orderBy builds the ORDER BY clause. Text sorts case-insensitively (then
// by its exact value, so the order is total), byte by byte whatever the
// database's collation (Dialect.Binary); NULLs sort first, as the smallest
// of all values; the id breaks ties so that paging is stable.
func (o Ops) orderBy(t *Table, name string, desc bool) (string, error) {
	if name == "" {
		name = "created_at"
	}
	var kind domain.FieldKind
	switch name {
	case "created_at", "updated_at", "id":
		kind = domain.Ref // compared as they are
	default:
		f, ok := t.Kind.Field(name)
		if !ok || f.Kind == domain.JSON {
			return "", fmt.Errorf("%w: cannot order %s by %q; accepted: %s",
				domain.ErrInvalid, t.Kind.Type, name, strings.Join(orderNames(t), ", "))
		}
		kind = f.Kind
	}
	dir, nulls := " ASC", " NULLS FIRST"
	if desc {
		dir, nulls = " DESC", " NULLS LAST"
	}
	col := QuoteIdent(name)
	var terms []string
	if kind == domain.String || kind == domain.Text {
		terms = append(terms, o.D.Fold+"("+col+")"+o.D.Binary+dir+nulls, col+o.D.Binary+dir+nulls)
	} else {
		// false before true, as 0 before 1.
		terms = append(terms, col+dir+nulls)
	}
	if name != "id" {
		terms = append(terms, `"id"`+dir)
	}
	return " ORDER BY " + strings.Join(terms, ", "), nil
}

// orderNames lists the accepted OrderBy values, for error messages.
func orderNames(t *Table) []string {
	names := []string{"created_at", "updated_at", "id"}
	for _, f := range t.Kind.Fields {
		if f.Kind != domain.JSON {
			names = append(names, f.Name)
		}
	}
	return names
}

// LimitClause builds LIMIT/OFFSET, adding its arguments to p; a zero
// limit means no limit.
func (o Ops) LimitClause(limit, offset int, p *Params) (string, error) {
	switch {
	case limit < 0:
		return "", fmt.Errorf("%w: negative limit %d", domain.ErrInvalid, limit)
	case offset < 0:
		return "", fmt.Errorf("%w: negative offset %d", domain.ErrInvalid, offset)
	case limit == 0 && offset == 0:
		return "", nil
	case limit == 0:
		return o.D.NoLimit + " OFFSET " + p.Add(offset), nil
	}
	return " LIMIT " + p.Add(limit) + " OFFSET " + p.Add(offset), nil
}

// CountBy groups the matching entities by one field. Values are text:
// booleans are "1" and "0", NULL is "".
func (o Ops) CountBy(ctx context.Context, q store.EntityQuery, field string) ([]store.Count, error) {
	t, err := o.Table(q.Type)
	if err != nil {
		return nil, err
	}
	f, ok := t.Kind.FilterField(field)
	if !ok || f.Kind == domain.JSON {
		return nil, fmt.Errorf("count %s: %w: cannot group by %q; accepted: %s", q.Type, domain.ErrInvalid, field, strings.Join(t.Kind.FilterNames(), ", "))
	}
	q.Text = ""
	var p Params
	where, err := o.Where(t, q, &p)
	if err != nil {
		return nil, fmt.Errorf("count %s: %w", q.Type, err)
	}
	col := QuoteIdent(field)
	value := `coalesce(CAST(` + col + ` AS text), '')`
	if f.Kind == domain.Bool {
		value = `CASE WHEN ` + col + ` THEN '1' WHEN NOT ` + col + ` THEN '0' ELSE '' END`
	}
	counts, err := queryAll(ctx, o.Read, func(row Row) (c store.Count, err error) {
		err = row.Scan(&c.Value, &c.N)
		return c, err
	}, `SELECT `+value+`, count(*) AS n FROM `+t.Name+where+` GROUP BY 1 ORDER BY n DESC, (`+value+`)`+o.D.Binary, p...)
	if err != nil {
		return nil, fmt.Errorf("count %s by %s: %w", q.Type, field, o.D.MapErr(err))
	}
	return counts, nil
}
