package sqlcore

import (
	"context"
	"fmt"
	"slices"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

// Search is the backend's full-text search (FTS5 in SQLite, tsvector in
// PostgreSQL); SearchText builds the rest of the query around it.
type Search struct {
	// Query turns the typed words into the engine's query ("" when there
	// are none).
	Query func(text string) string
	// From is " FROM <index> i … WHERE <i matches match>", match being the
	// placeholder of Query's result; SearchText adds conditions on i's
	// organization_id, entity_type and project_id.
	From func(match string) string
	// Page selects one page of hits from from, best first: entity_type,
	// entity_id, organization_id, project_id, score (a float8), the
	// highlighted name and a snippet of the body.
	Page func(from, limit string) string
}

// SearchText runs a ranked full-text query. The count stops at
// store.SearchCountLimit (or the end of the page) plus one.
func (o Ops) SearchText(ctx context.Context, q store.SearchQuery) ([]store.SearchHit, int, error) {
	if len(q.OrganizationIDs) == 0 {
		return nil, 0, fmt.Errorf("search: %w: no organization scope", domain.ErrInvalid)
	}
	match := o.Search.Query(q.Text)
	if match == "" {
		return nil, 0, fmt.Errorf("search: %w: the search text %q has no words", domain.ErrInvalid, q.Text)
	}
	var p Params
	from := o.Search.From(p.Add(match)) + ` AND ` + o.D.In("i.organization_id", q.OrganizationIDs, &p)
	if len(q.Types) > 0 {
		types := make([]string, len(q.Types))
		for i, t := range q.Types {
			types[i] = string(t)
		}
		from += ` AND ` + o.D.In("i.entity_type", types, &p)
	}
	if q.ProjectID != "" {
		from += ` AND i.project_id = ` + p.Add(q.ProjectID)
	}
	countArgs := slices.Clone(p)
	countCap := countArgs.Add(max(store.SearchCountLimit, q.Offset+q.Limit) + 1)
	limit, err := o.LimitClause(q.Limit, q.Offset, &p)
	if err != nil {
		return nil, 0, err
	}
	var (
		hits  []store.SearchHit
		total int
	)
	err = o.Conn.Snapshot(ctx, func(db Querier) error {
		if err := db.QueryRow(ctx, `SELECT count(*) FROM (SELECT 1`+from+` LIMIT `+countCap+`) AS counted`, countArgs...).Scan(&total); err != nil {
			return err
		}
		var err error
		hits, err = queryAll(ctx, db, func(r Row) (h store.SearchHit, err error) {
			err = r.Scan((*string)(&h.Type), &h.ID, &h.OrganizationID, &h.ProjectID, &h.Score, &h.Name, &h.Snippet)
			return h, err
		}, o.Search.Page(from, limit), p...)
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("search %q: %w", q.Text, o.D.MapErr(err))
	}
	return hits, total, nil
}
