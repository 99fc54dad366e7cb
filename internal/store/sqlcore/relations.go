package sqlcore

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

// linkTable maps the generic domain.Link onto the table of one link kind.
type linkTable struct {
	name string
	// insertCols and insertArgs write a new link.
	insertCols []string
	insertArgs func(d *Dialect, l *domain.Link) []any
	// selectList yields, in order: id, organization_id, source_type,
	// source_id, target_type, target_id, link_type, status, description,
	// created_at, updated_at, created_by, updated_by.
	selectList string
	// column names for filters and updates
	source, target, linkType string
	// update returns the SET list of UpdateLink, whose placeholders start
	// at $2 ($1 is the id), and its arguments.
	update func(d *Dialect, l *domain.Link) (set string, args []any)
	// liveFilter hides soft-deleted rows (trace links have the columns;
	// this store deletes links for good, but copied rows may carry the flag).
	liveFilter string
	// ends are the columns holding the ids of entities, with the kinds
	// each may name (nil: any kind); a link with a soft-deleted end is
	// hidden (see hiddenFilter).
	ends   []linkEnd
	hidden string // hiddenFilter, computed once
}

type linkEnd struct {
	col   string
	kinds []domain.EntityType
}

// hiddenFilter is the condition that leaves out links with an end that a
// soft delete hid: one NOT EXISTS per table an end may be in, each a
// primary-key lookup.
func (t *linkTable) hiddenFilter() string {
	byTable := map[string][]string{}
	var tables []string
	for _, end := range t.ends {
		kinds := end.kinds
		if kinds == nil {
			for _, k := range domain.Kinds() {
				kinds = append(kinds, k.Type)
			}
		}
		for _, kt := range kinds {
			k, _ := domain.KindOf(kt)
			if _, seen := byTable[k.Table]; !seen {
				tables = append(tables, k.Table)
			}
			byTable[k.Table] = append(byTable[k.Table], t.name+"."+end.col)
		}
	}
	var b strings.Builder
	for _, tb := range tables {
		b.WriteString(` AND NOT EXISTS (SELECT 1 FROM ` + QuoteIdent(tb) + ` h WHERE h."id" IN (` + strings.Join(byTable[tb], ", ") + `) AND h."is_deleted" = true)`)
	}
	return b.String()
}

// visible is the filter of a query: the live filter, and the hidden
// filter unless includeHidden.
func (t *linkTable) visible(includeHidden bool) string {
	if includeHidden {
		return t.liveFilter
	}
	return t.liveFilter + t.hidden
}

var linkTables = map[domain.LinkKind]*linkTable{
	domain.TraceLink: {
		name:       "trace_links",
		insertCols: []string{"id", "organization_id", "source_type", "source_id", "target_type", "target_id", "link_type", "description", "created_at", "updated_at", "created_by", "updated_by"},
		insertArgs: func(d *Dialect, l *domain.Link) []any {
			return []any{l.ID, l.OrganizationID, string(l.SourceType), l.SourceID, string(l.TargetType), l.TargetID, l.LinkType, NullIfEmpty(l.Description), d.Time(l.CreatedAt), d.Time(l.UpdatedAt), NullIfEmpty(l.CreatedBy), NullIfEmpty(l.UpdatedBy)}
		},
		selectList: `id, organization_id, source_type, source_id, target_type, target_id, link_type, '', coalesce(description, ''), created_at, updated_at, coalesce(created_by, ''), coalesce(updated_by, '')`,
		source:     "source_id", target: "target_id", linkType: "link_type",
		update: func(d *Dialect, l *domain.Link) (string, []any) {
			return "link_type = $2, description = $3, updated_at = $4, updated_by = $5", []any{l.LinkType, NullIfEmpty(l.Description), d.Time(l.UpdatedAt), NullIfEmpty(l.UpdatedBy)}
		},
		liveFilter: ` AND is_deleted = false`,
		ends:       []linkEnd{{"source_id", nil}, {"target_id", nil}},
	},
	domain.RequirementTest: {
		name:       "requirement_tests",
		insertCols: []string{"id", "organization_id", "requirement_id", "test_id", "coverage", "status", "created_at", "updated_at", "created_by", "updated_by"},
		insertArgs: func(d *Dialect, l *domain.Link) []any {
			return []any{l.ID, l.OrganizationID, l.SourceID, l.TargetID, l.LinkType, NullIfEmpty(l.Status), d.Time(l.CreatedAt), d.Time(l.UpdatedAt), NullIfEmpty(l.CreatedBy), NullIfEmpty(l.UpdatedBy)}
		},
		selectList: `id, organization_id, 'requirement', requirement_id, 'test', test_id, coverage, coalesce(status, ''), '', created_at, updated_at, coalesce(created_by, ''), coalesce(updated_by, '')`,
		source:     "requirement_id", target: "test_id", linkType: "coverage",
		update: func(d *Dialect, l *domain.Link) (string, []any) {
			return "coverage = $2, status = $3, updated_at = $4, updated_by = $5", []any{l.LinkType, NullIfEmpty(l.Status), d.Time(l.UpdatedAt), NullIfEmpty(l.UpdatedBy)}
		},
		ends: []linkEnd{{"requirement_id", []domain.EntityType{domain.Requirement}}, {"test_id", []domain.EntityType{domain.Test}}},
	},
	domain.Assignment: {
		name:       "assignments",
		insertCols: []string{"id", "organization_id", "entity_type", "entity_id", "user_id", "role", "created_at", "created_by"},
		insertArgs: func(d *Dialect, l *domain.Link) []any {
			return []any{l.ID, l.OrganizationID, string(l.SourceType), l.SourceID, l.TargetID, l.LinkType, d.Time(l.CreatedAt), NullIfEmpty(l.CreatedBy)}
		},
		selectList: `id, organization_id, entity_type, entity_id, 'user', user_id, role, '', '', created_at, created_at, coalesce(created_by, ''), coalesce(created_by, '')`,
		source:     "entity_id", target: "user_id", linkType: "role",
		update: func(d *Dialect, l *domain.Link) (string, []any) {
			return "role = $2", []any{l.LinkType}
		},
		ends: []linkEnd{{"entity_id", nil}},
	},
}

func init() {
	for _, t := range linkTables {
		t.hidden = t.hiddenFilter()
	}
}

func linkTableOf(kind domain.LinkKind) (*linkTable, error) {
	t, ok := linkTables[kind]
	if !ok {
		return nil, fmt.Errorf("%w: unknown link kind %q", domain.ErrInvalid, kind)
	}
	return t, nil
}

// CreateLink inserts a link.
func (o Ops) CreateLink(ctx context.Context, l *domain.Link) error {
	t, err := linkTableOf(l.Kind)
	if err != nil {
		return err
	}
	marks := make([]string, len(t.insertCols))
	for i := range marks {
		marks[i] = "$" + strconv.Itoa(i+1)
	}
	_, err = o.exec(ctx, `INSERT INTO `+t.name+` (`+strings.Join(t.insertCols, ", ")+`) VALUES (`+strings.Join(marks, ", ")+`)`,
		t.insertArgs(o.D, l)...)
	return wrapf(err, "create %s", l.Kind)
}

// GetLink returns one link.
func (o Ops) GetLink(ctx context.Context, kind domain.LinkKind, id string) (*domain.Link, error) {
	t, err := linkTableOf(kind)
	if err != nil {
		return nil, err
	}
	links, err := o.queryLinks(ctx, kind, t, `WHERE id = $1`+t.visible(false), id)
	if err == nil && len(links) == 0 {
		err = domain.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("get %s %q: %w", kind, id, err)
	}
	return links[0], nil
}

// UpdateLink writes the mutable columns.
func (o Ops) UpdateLink(ctx context.Context, l *domain.Link) error {
	t, err := linkTableOf(l.Kind)
	if err != nil {
		return err
	}
	set, args := t.update(o.D, l)
	if err := expectOneRow(o.exec(ctx, `UPDATE `+t.name+` SET `+set+` WHERE id = $1`, append([]any{l.ID}, args...)...)); err != nil {
		return fmt.Errorf("update %s %q: %w", l.Kind, l.ID, err)
	}
	return nil
}

// DeleteLink removes a link.
func (o Ops) DeleteLink(ctx context.Context, kind domain.LinkKind, id string) error {
	t, err := linkTableOf(kind)
	if err != nil {
		return err
	}
	if err := o.deleteOne(ctx, `DELETE FROM `+t.name+` WHERE id = $1`, id); err != nil {
		return fmt.Errorf("delete %s %q: %w", kind, id, err)
	}
	return nil
}

// ListLinks returns matching links, oldest first.
func (o Ops) ListLinks(ctx context.Context, q store.LinkQuery) ([]*domain.Link, error) {
	t, err := linkTableOf(q.Kind)
	if err != nil {
		return nil, err
	}
	if len(q.OrganizationIDs) == 0 {
		return nil, fmt.Errorf("list %s: %w: no organization scope", q.Kind, domain.ErrInvalid)
	}
	var p Params
	where := []string{o.D.In(`organization_id`, q.OrganizationIDs, &p)}
	if len(q.EntityIDs) > 0 {
		where = append(where, `(`+o.D.In(t.source, q.EntityIDs, &p)+` OR `+o.D.In(t.target, q.EntityIDs, &p)+`)`)
	}
	if len(q.SourceIDs) > 0 {
		where = append(where, o.D.In(t.source, q.SourceIDs, &p))
	}
	if q.EntityID != "" {
		id := p.Add(q.EntityID)
		where = append(where, `(`+t.source+` = `+id+` OR `+t.target+` = `+id+`)`)
	}
	for _, c := range []struct{ col, v string }{{t.source, q.SourceID}, {t.target, q.TargetID}, {t.linkType, q.LinkType}} {
		if c.v != "" {
			where = append(where, c.col+` = `+p.Add(c.v))
		}
	}
	tail := `WHERE ` + strings.Join(where, " AND ") + t.visible(q.IncludeHidden) + ` ORDER BY created_at, id`
	if q.Limit > 0 {
		tail += ` LIMIT ` + p.Add(q.Limit)
	}
	links, err := o.queryLinks(ctx, q.Kind, t, tail, p...)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", q.Kind, err)
	}
	return links, nil
}

func (o Ops) queryLinks(ctx context.Context, kind domain.LinkKind, t *linkTable, tail string, args ...any) ([]*domain.Link, error) {
	out, err := queryAll(ctx, o.Read, func(row Row) (*domain.Link, error) {
		l := &domain.Link{Kind: kind}
		return l, row.Scan(&l.ID, &l.OrganizationID, (*string)(&l.SourceType), &l.SourceID, (*string)(&l.TargetType), &l.TargetID,
			&l.LinkType, &l.Status, &l.Description, o.D.ScanTime(&l.CreatedAt), o.D.ScanTime(&l.UpdatedAt), &l.CreatedBy, &l.UpdatedBy)
	}, `SELECT `+t.selectList+` FROM `+t.name+` `+tail, args...)
	if err != nil {
		return nil, o.D.MapErr(err)
	}
	return out, nil
}
