package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
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

// SearchText runs a ranked full-text query.
func (o ops) SearchText(ctx context.Context, q store.SearchQuery) ([]store.SearchHit, int, error) {
	if len(q.OrganizationIDs) == 0 {
		return nil, 0, fmt.Errorf("search: %w: no organization scope", domain.ErrInvalid)
	}
	match := ftsQuery(q.Text)
	if match == "" {
		return nil, 0, fmt.Errorf("search: %w: the search text %q has no words", domain.ErrInvalid, q.Text)
	}
	var p sqlcore.Params
	where := `search_index MATCH ` + p.Add(match) + ` AND ` + o.D.In("organization_id", q.OrganizationIDs, &p)
	if len(q.Types) > 0 {
		types := make([]string, len(q.Types))
		for i, t := range q.Types {
			types[i] = string(t)
		}
		where += ` AND ` + o.D.In("entity_type", types, &p)
	}
	if q.ProjectID != "" {
		where += ` AND project_id = ` + p.Add(q.ProjectID)
	}
	countArgs := slices.Clone(p)
	limit, err := o.LimitClause(q.Limit, q.Offset, &p)
	if err != nil {
		return nil, 0, err
	}
	var (
		hits  = []store.SearchHit{}
		total int
	)
	err = o.Conn.Snapshot(ctx, func(db sqlcore.Querier) error {
		if err := db.QueryRow(ctx, `SELECT count(*) FROM search_index WHERE `+where, countArgs...).Scan(&total); err != nil {
			return err
		}
		// bm25 is lower-is-better; the name column weighs ten times the body.
		rows, err := db.Query(ctx, `SELECT entity_type, entity_id, organization_id, project_id, -bm25(search_index, 10.0, 1.0),
				highlight(search_index, 0, '**', '**'), snippet(search_index, 1, '**', '**', '…', 16)
			FROM search_index WHERE `+where+` ORDER BY bm25(search_index, 10.0, 1.0), entity_id`+limit, p...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var h store.SearchHit
			var typ string
			if err := rows.Scan(&typ, &h.ID, &h.OrganizationID, &h.ProjectID, &h.Score, &h.Name, &h.Snippet); err != nil {
				return err
			}
			h.Type = domain.EntityType(typ)
			hits = append(hits, h)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, 0, fmt.Errorf("search %q: %w", q.Text, mapErr(err))
	}
	return hits, total, nil
}
