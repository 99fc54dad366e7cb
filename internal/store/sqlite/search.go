package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store/sqlcore"
)

// indexEntity replaces the search index entry of e (none for a deleted
// entity) and queues e for embedding.
func indexEntity(ctx context.Context, w sqlcore.Querier, t *table, e *domain.Entity) error {
	if err := unindexEntity(ctx, w, e.ID); err != nil {
		return err
	}
	if e.IsDeleted {
		return nil
	}
	name, body := t.Kind.SearchText(e)
	var rowid int64
	if err := w.QueryRow(ctx, `INSERT INTO search_docs (entity_id) VALUES ($1) RETURNING rowid`, e.ID).Scan(&rowid); err != nil {
		return fmt.Errorf("index %s %q: %w", e.Type, e.ID, err)
	}
	if _, err := w.Exec(ctx,
		`INSERT INTO search_index (rowid, name, body, entity_type, entity_id, organization_id, project_id) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		rowid, name, body, string(e.Type), e.ID, e.OrganizationID, e.ProjectID()); err != nil {
		return fmt.Errorf("index %s %q: %w", e.Type, e.ID, err)
	}
	if _, err := w.Exec(ctx,
		`INSERT INTO embedding_queue (entity_id, entity_type, enqueued_at) VALUES ($1, $2, $3)
		 ON CONFLICT (entity_id) DO UPDATE SET enqueued_at = excluded.enqueued_at`,
		e.ID, string(e.Type), encodeTime(e.UpdatedAt)); err != nil {
		return fmt.Errorf("queue %s %q for embedding: %w", e.Type, e.ID, err)
	}
	return nil
}

// unindexEntity removes an entity's index row, found through search_docs
// (an indexed lookup; entity_id in the FTS table is not indexed).
func unindexEntity(ctx context.Context, w sqlcore.Querier, id string) error {
	var rowid int64
	err := w.QueryRow(ctx, `DELETE FROM search_docs WHERE entity_id = $1 RETURNING rowid`, id).Scan(&rowid)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err == nil {
		_, err = w.Exec(ctx, `DELETE FROM search_index WHERE rowid = $1`, rowid)
	}
	if err != nil {
		return fmt.Errorf("unindex %q: %w", id, err)
	}
	return nil
}

// ftsQuery turns typed words into an FTS5 query that cannot be query
// syntax: each word is quoted and matched as a prefix, and all must occur.
func ftsQuery(text string) string {
	words := strings.FieldsFunc(text, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	quoted := make([]string, 0, len(words))
	for _, w := range words {
		quoted = append(quoted, `"`+w+`"*`)
	}
	return strings.Join(quoted, " ")
}

// search is FTS5 with bm25 ranking; the name column weighs ten times the
// body (bm25 is lower-is-better). The page is FTS5's rank column ordered
// by itself, with rank set to that bm25: FTS5 then sorts the rowids by
// score first and SQLite evaluates the scope conditions (unindexed
// columns, read from the content table), the highlight and the snippet
// only for the rows the page reads, instead of for every hit before
// sorting. For a word in 93,000 of 100,000 requirements that halves the
// query's CPU (docs/performance.md); SearchText orders ties (Streamed).
func fullText() sqlcore.Search {
	return sqlcore.Search{
		Query: ftsQuery,
		From:  func(match string) string { return ` FROM search_index i WHERE i.search_index MATCH ` + match },
		Page: func(from, limit string) string {
			return `SELECT i.entity_type, i.entity_id, i.organization_id, i.project_id, -i.rank,
				highlight(i.search_index, 0, '**', '**'), snippet(i.search_index, 1, '**', '**', '…', 16)` + from + `
				AND i.rank MATCH 'bm25(10.0, 1.0)' ORDER BY i.rank` + limit
		},
		Streamed: true,
		// search_docs hands out rowids in increasing order (the largest
		// plus one), so the FTS rowid grows with every index write.
		Recency: "i.rowid",
	}
}
