package sqlite

import (
	"context"
	"encoding/json"

	"fmt"
	"strings"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

// linkTable maps the generic domain.Link onto the table of one link kind.
type linkTable struct {
	name string
	// insertCols and insertArgs write a new link.
	insertCols []string
	insertArgs func(l *domain.Link) []any
	// selectList yields, in order: id, organization_id, source_type,
	// source_id, target_type, target_id, link_type, status, description,
	// created_at, updated_at, created_by, updated_by.
	selectList string
	// column names for filters and updates
	source, target, linkType string
	update                   func(l *domain.Link) (set string, args []any)
}

var linkTables = map[domain.LinkKind]*linkTable{
	domain.TraceLink: {
		name:       "trace_links",
		insertCols: []string{"id", "organization_id", "source_type", "source_id", "target_type", "target_id", "link_type", "description", "created_at", "updated_at", "created_by", "updated_by"},
		insertArgs: func(l *domain.Link) []any {
			return []any{l.ID, l.OrganizationID, string(l.SourceType), l.SourceID, string(l.TargetType), l.TargetID, l.LinkType, nullIfEmpty(l.Description), encodeTime(l.CreatedAt), encodeTime(l.UpdatedAt), nullIfEmpty(l.CreatedBy), nullIfEmpty(l.UpdatedBy)}
		},
		selectList: `id, organization_id, source_type, source_id, target_type, target_id, link_type, '', coalesce(description, ''), created_at, updated_at, coalesce(created_by, ''), coalesce(updated_by, '')`,
		source:     "source_id", target: "target_id", linkType: "link_type",
		update: func(l *domain.Link) (string, []any) {
			return "link_type = ?, description = ?, updated_at = ?, updated_by = ?", []any{l.LinkType, nullIfEmpty(l.Description), encodeTime(l.UpdatedAt), nullIfEmpty(l.UpdatedBy)}
		},
	},
	domain.RequirementTest: {
		name:       "requirement_tests",
		insertCols: []string{"id", "organization_id", "requirement_id", "test_id", "coverage", "status", "created_at", "updated_at", "created_by", "updated_by"},
		insertArgs: func(l *domain.Link) []any {
			return []any{l.ID, l.OrganizationID, l.SourceID, l.TargetID, l.LinkType, nullIfEmpty(l.Status), encodeTime(l.CreatedAt), encodeTime(l.UpdatedAt), nullIfEmpty(l.CreatedBy), nullIfEmpty(l.UpdatedBy)}
		},
		selectList: `id, organization_id, 'requirement', requirement_id, 'test', test_id, coverage, coalesce(status, ''), '', created_at, updated_at, coalesce(created_by, ''), coalesce(updated_by, '')`,
		source:     "requirement_id", target: "test_id", linkType: "coverage",
		update: func(l *domain.Link) (string, []any) {
			return "coverage = ?, status = ?, updated_at = ?, updated_by = ?", []any{l.LinkType, nullIfEmpty(l.Status), encodeTime(l.UpdatedAt), nullIfEmpty(l.UpdatedBy)}
		},
	},
	domain.Assignment: {
		name:       "assignments",
		insertCols: []string{"id", "organization_id", "entity_type", "entity_id", "user_id", "role", "created_at", "created_by"},
		insertArgs: func(l *domain.Link) []any {
			return []any{l.ID, l.OrganizationID, string(l.SourceType), l.SourceID, l.TargetID, l.LinkType, encodeTime(l.CreatedAt), nullIfEmpty(l.CreatedBy)}
		},
		selectList: `id, organization_id, entity_type, entity_id, 'user', user_id, role, '', '', created_at, created_at, coalesce(created_by, ''), coalesce(created_by, '')`,
		source:     "entity_id", target: "user_id", linkType: "role",
		update: func(l *domain.Link) (string, []any) {
			return "role = ?", []any{l.LinkType}
		},
	},
}

// jsonList passes a list of ids as one parameter (json_each), which keeps
// the statement text fixed and the parameter count far from SQLite's limit.
func jsonList(ids []string) string {
	b, _ := json.Marshal(ids)
	return string(b)
}

func linkTableOf(kind domain.LinkKind) (*linkTable, error) {
	t, ok := linkTables[kind]
	if !ok {
		return nil, fmt.Errorf("%w: unknown link kind %q", domain.ErrInvalid, kind)
	}
	return t, nil
}

// CreateLink inserts a link.
func (o ops) CreateLink(ctx context.Context, l *domain.Link) error {
	t, err := linkTableOf(l.Kind)
	if err != nil {
		return err
	}
	q := `INSERT INTO ` + t.name + ` (` + strings.Join(t.insertCols, ", ") + `) VALUES (` + placeholders(len(t.insertCols)) + `)`
	if _, err := o.write.ExecContext(ctx, q, t.insertArgs(l)...); err != nil {
		return fmt.Errorf("create %s: %w", l.Kind, mapErr(err))
	}
	return nil
}

// GetLink returns one link.
func (o ops) GetLink(ctx context.Context, kind domain.LinkKind, id string) (*domain.Link, error) {
	t, err := linkTableOf(kind)
	if err != nil {
		return nil, err
	}
	links, err := o.queryLinks(ctx, kind, t, `WHERE id = ?`+t.liveFilter(), id)
	if err == nil && len(links) == 0 {
		err = domain.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("get %s %q: %w", kind, id, err)
	}
	return links[0], nil
}

// liveFilter hides soft-deleted trace links (the table allows them; this
// store deletes links for good, but older rows may carry the flag).
func (t *linkTable) liveFilter() string {
	if t.name == "trace_links" {
		return ` AND is_deleted = 0`
	}
	return ""
}

// UpdateLink writes the mutable columns.
func (o ops) UpdateLink(ctx context.Context, l *domain.Link) error {
	t, err := linkTableOf(l.Kind)
	if err != nil {
		return err
	}
	set, args := t.update(l)
	res, err := o.write.ExecContext(ctx, `UPDATE `+t.name+` SET `+set+` WHERE id = ?`, append(args, l.ID)...)
	if err != nil {
		return fmt.Errorf("update %s %q: %w", l.Kind, l.ID, mapErr(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("update %s %q: %w", l.Kind, l.ID, domain.ErrNotFound)
	}
	return nil
}

// DeleteLink removes a link.
func (o ops) DeleteLink(ctx context.Context, kind domain.LinkKind, id string) error {
	t, err := linkTableOf(kind)
	if err != nil {
		return err
	}
	res, err := o.write.ExecContext(ctx, `DELETE FROM `+t.name+` WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("delete %s %q: %w", kind, id, mapErr(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("delete %s %q: %w", kind, id, domain.ErrNotFound)
	}
	return nil
}

// ListLinks returns matching links, oldest first.
func (o ops) ListLinks(ctx context.Context, q store.LinkQuery) ([]*domain.Link, error) {
	t, err := linkTableOf(q.Kind)
	if err != nil {
		return nil, err
	}
	if len(q.OrganizationIDs) == 0 {
		return nil, fmt.Errorf("list %s: %w: no organization scope", q.Kind, domain.ErrInvalid)
	}
	where := []string{`organization_id IN (` + placeholders(len(q.OrganizationIDs)) + `)`}
	var args []any
	for _, id := range q.OrganizationIDs {
		args = append(args, id)
	}
	if len(q.EntityIDs) > 0 {
		where = append(where, `(`+t.source+` IN (SELECT value FROM json_each(?)) OR `+t.target+` IN (SELECT value FROM json_each(?)))`)
		list := jsonList(q.EntityIDs)
		args = append(args, list, list)
	}
	if len(q.SourceIDs) > 0 {
		where = append(where, t.source+` IN (SELECT value FROM json_each(?))`)
		args = append(args, jsonList(q.SourceIDs))
	}
	if q.EntityID != "" {
		where = append(where, `(`+t.source+` = ? OR `+t.target+` = ?)`)
		args = append(args, q.EntityID, q.EntityID)
	}
	for col, v := range map[string]string{t.source: q.SourceID, t.target: q.TargetID, t.linkType: q.LinkType} {
		if v != "" {
			where = append(where, col+` = ?`)
			args = append(args, v)
		}
	}
	tail := `WHERE ` + strings.Join(where, " AND ") + t.liveFilter() + ` ORDER BY created_at, id`
	if q.Limit > 0 {
		tail += fmt.Sprintf(` LIMIT %d`, q.Limit)
	}
	links, err := o.queryLinks(ctx, q.Kind, t, tail, args...)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", q.Kind, err)
	}
	return links, nil
}

func (o ops) queryLinks(ctx context.Context, kind domain.LinkKind, t *linkTable, tail string, args ...any) ([]*domain.Link, error) {
	rows, err := o.read.QueryContext(ctx, `SELECT `+t.selectList+` FROM `+t.name+` `+tail, args...)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []*domain.Link
	for rows.Next() {
		l := &domain.Link{Kind: kind}
		var srcType, tgtType, created, updated string
		if err := rows.Scan(&l.ID, &l.OrganizationID, &srcType, &l.SourceID, &tgtType, &l.TargetID, &l.LinkType, &l.Status, &l.Description, &created, &updated, &l.CreatedBy, &l.UpdatedBy); err != nil {
			return nil, err
		}
		l.SourceType, l.TargetType = domain.EntityType(srcType), domain.EntityType(tgtType)
		if l.CreatedAt, err = decodeTime(created); err != nil {
			return nil, err
		}
		if l.UpdatedAt, err = decodeTime(updated); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}
