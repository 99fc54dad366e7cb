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
	// Recency is the index column that orders hits newest first (an
	// integer, unique, larger for a later index write): the windows of
	// store.SearchRankWindow are ranges of it. SearchText adds conditions
	// on it to From and orders by it.
	Recency string
}

// SearchText runs a ranked full-text query. The count stops at
// store.SearchCountLimit (or the end of the page) plus one. The hits are
// ranked in windows of store.SearchRankWindow, newest first by
// Search.Recency: one query reads the recency keys of the hits newest
// first, as far as the count and the last window of the page need (which
// is also the count), and the page is ranked within the key range of each
// window it touches, so a common word costs one window's ranking instead
// of every hit's.
func (o Ops) SearchText(ctx context.Context, q store.SearchQuery) ([]store.SearchHit, int, error) {
	if len(q.OrganizationIDs) == 0 {
		return nil, 0, fmt.Errorf("search: %w: no organization scope", domain.ErrInvalid)
	}
	if q.Limit < 0 || q.Offset < 0 {
		return nil, 0, fmt.Errorf("search: %w: negative limit %d or offset %d", domain.ErrInvalid, q.Limit, q.Offset)
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
	const window = store.SearchRankWindow
	countCap := max(store.SearchCountLimit, q.Offset+q.Limit) + 1
	// The keys to read: up to the count's cap and to the end of the last
	// window the page touches; every key when the page has no limit.
	keysArgs := slices.Clone(p)
	keysSQL := `SELECT ` + o.Search.Recency + from + ` ORDER BY ` + o.Search.Recency + ` DESC`
	if q.Limit > 0 {
		keysSQL += ` LIMIT ` + keysArgs.Add(max(countCap, (q.Offset+q.Limit+window-1)/window*window))
	}
	var (
		hits  []store.SearchHit
		total int
	)
	err := o.Conn.Snapshot(ctx, func(db Querier) error {
		keys, err := queryAll(ctx, db, func(r Row) (k int64, err error) { return k, r.Scan(&k) }, keysSQL, keysArgs...)
		if err != nil {
			return err
		}
		total = min(len(keys), countCap)
		if len(keys) <= window {
			// One window: every hit ranked, no key range needed.
			hits, err = o.rankedPage(ctx, db, from, p, q.Offset, q.Limit)
			return err
		}
		hits = []store.SearchHit{}
		start, stop := q.Offset, len(keys)
		if q.Limit > 0 {
			stop = min(stop, q.Offset+q.Limit)
		}
		for first := start / window * window; first < stop; first += window {
			last := min(first+window, len(keys)) - 1
			// The page's part of this window, as an offset and limit
			// within it.
			lo, hi := max(start, first)-first, min(stop, last+1)-first
			if lo >= hi {
				continue
			}
			limit := hi - lo
			if q.Limit == 0 {
				limit = 0
			}
			args := slices.Clone(p)
			ranged := from + ` AND ` + o.Search.Recency + ` <= ` + args.Add(keys[first]) + ` AND ` + o.Search.Recency + ` >= ` + args.Add(keys[last])
			page, err := o.rankedPage(ctx, db, ranged, args, lo, limit)
			if err != nil {
				return err
			}
			hits = append(hits, page...)
		}
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("search %q: %w", q.Text, o.D.MapErr(err))
	}
	return hits, total, nil
}

// rankedPage returns one page of the hits of from (whose placeholders are
// args), best first, ties in entity id order (every hit when limit is 0).
func (o Ops) rankedPage(ctx context.Context, db Querier, from string, args Params, offset, limit int) ([]store.SearchHit, error) {
	if o.Search.Streamed {
		return streamedPage(ctx, db, o.Search.Page(from, ""), args, offset, limit)
	}
	args = slices.Clone(args)
	limitSQL, err := o.LimitClause(limit, offset, &args)
	if err != nil {
		return nil, err
	}
	return queryAll(ctx, db, scanHit, o.Search.Page(from, limitSQL), args...)
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
