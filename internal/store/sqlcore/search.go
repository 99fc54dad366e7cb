package sqlcore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

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
	// Streamed means that Page's query (given no limit) yields the hits
	// best first by score alone, computing each row only when it is read:
	// FTS5's sorted rank plan, where the scope conditions, highlights and
	// snippets are evaluated for the rows read instead of for every hit
	// before the sort. SearchText then reads to the end of the page and on
	// through the hits tied with its last score, and puts ties in entity id
	// order itself: the same page as the full ORDER BY score, entity id.
	Streamed bool
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
	streamArgs := slices.Clone(p)
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
		if o.Search.Streamed {
			hits, err = streamedPage(ctx, db, o.Search.Page(from, ""), streamArgs, q.Offset, q.Limit)
			return err
		}
		hits, err = queryAll(ctx, db, scanHit, o.Search.Page(from, limit), p...)
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("search %q: %w", q.Text, o.D.MapErr(err))
	}
	return hits, total, nil
}

func scanHit(r Row) (h store.SearchHit, err error) {
	err = r.Scan((*string)(&h.Type), &h.ID, &h.OrganizationID, &h.ProjectID, &h.Score, &h.Name, &h.Snippet)
	return h, err
}

// streamedPage reads the hits of query, best first by score alone, up to
// offset+limit (every hit when limit is 0) and the further hits tied with
// the last one read, orders them by score, then entity id, and returns
// the page.
func streamedPage(ctx context.Context, db Querier, query string, args []any, offset, limit int) ([]store.SearchHit, error) {
	rows, err := db.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var read []store.SearchHit
	for rows.Next() {
		h, err := scanHit(rows)
		if err != nil {
			return nil, err
		}
		if limit > 0 && len(read) >= offset+limit && h.Score != read[len(read)-1].Score {
			break
		}
		read = append(read, h)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	slices.SortStableFunc(read, func(a, b store.SearchHit) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	page := []store.SearchHit{}
	if offset < len(read) {
		page = read[offset:]
		if limit > 0 && len(page) > limit {
			page = page[:limit]
		}
	}
	return page, nil
}
