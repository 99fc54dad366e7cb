package postgres

import (
	"context"
	"fmt"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store/sqlcore"
)

// reindexBatch is how many entities rebuildSearchIndex reads and writes
// at a time.
const reindexBatch = 500

// reindexSQL writes the search index rows of a batch of entities, given as
// parallel arrays, computing each tsvector from the words the store split.
const reindexSQL = `INSERT INTO search_index (entity_id, entity_type, organization_id, project_id, name, body, document)
SELECT id, typ, org, project, name, body, setweight(to_tsvector('simple', name_words), 'A') || setweight(to_tsvector('simple', body_words), 'B')
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
	AS u(id, typ, org, project, name, body, name_words, body_words)
ON CONFLICT (entity_id) DO UPDATE SET entity_type = excluded.entity_type, organization_id = excluded.organization_id,
	project_id = excluded.project_id, name = excluded.name, body = excluded.body, document = excluded.document`

// renumberSQL gives the index rows new seqs, past every seq taken, in the
// order of their entities' updated_at (then entity id), so that the rank
// windows of a rebuilt index are newest first as they are after the writes
// themselves.
const renumberSQL = `WITH top AS (SELECT nextval('search_index_seq') AS seq),
ordered AS (
	SELECT i.entity_id, top.seq + row_number() OVER (ORDER BY e.updated_at, i.entity_id) AS seq
	FROM search_index i CROSS JOIN top
	LEFT JOIN (
		SELECT id, updated_at FROM organizations
		UNION ALL SELECT id, updated_at FROM projects
		UNION ALL SELECT id, updated_at FROM documents
		UNION ALL SELECT id, updated_at FROM blocks
		UNION ALL SELECT id, updated_at FROM requirements
		UNION ALL SELECT id, updated_at FROM tests
	) AS e ON e.id = i.entity_id
),
renumbered AS (
	UPDATE search_index s SET seq = ordered.seq FROM ordered WHERE s.entity_id = ordered.entity_id RETURNING s.seq
)
SELECT setval('search_index_seq', coalesce(max(seq), (SELECT seq FROM top)) + 1, false) FROM renumbered`

// rebuildSearchIndex writes the search index row of every live entity
// (without queueing it for embedding), numbers the rows newest last
// (renumberSQL) and returns how many it wrote. It runs on q, in the
// caller's transaction.
func rebuildSearchIndex(ctx context.Context, q querier, d *sqlcore.Dialect, tables map[domain.EntityType]*table) (int, error) {
	total := 0
	for _, k := range domain.Kinds() {
		t := tables[k.Type]
		after := ""
		for {
			batch, err := liveEntitiesAfter(ctx, q, d, t, after)
			if err != nil {
				return total, fmt.Errorf("reindex %s: %w", k.Type, err)
			}
			if len(batch) == 0 {
				break
			}
			cols := make([][]string, 8)
			for _, e := range batch {
				name, body := k.SearchText(e)
				for i, v := range []string{e.ID, string(e.Type), e.OrganizationID, e.ProjectID(), name, body,
					indexWords(name, maxIndexedBytes), indexWords(body, maxIndexedBytes-len(name))} {
					cols[i] = append(cols[i], v)
				}
			}
			args := make([]any, len(cols))
			for i, c := range cols {
				args[i] = c
			}
			if _, err := q.Exec(ctx, reindexSQL, args...); err != nil {
				return total, fmt.Errorf("reindex %s: %w", k.Type, mapErr(err))
			}
			total += len(batch)
			after = batch[len(batch)-1].ID
		}
	}
	if _, err := q.Exec(ctx, renumberSQL); err != nil {
		return total, fmt.Errorf("reindex: number the rows by recency: %w", mapErr(err))
	}
	return total, nil
}

// liveEntitiesAfter reads the next batch of live entities by id (keyset
// paging, so that a large table is never held in memory at once).
func liveEntitiesAfter(ctx context.Context, q querier, d *sqlcore.Dialect, t *table, after string) ([]*domain.Entity, error) {
	rows, err := q.Query(ctx, t.SelectSQL+` WHERE NOT "is_deleted" AND "id" > $1 ORDER BY "id" LIMIT $2`, after, reindexBatch)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*domain.Entity
	for rows.Next() {
		e, err := t.Scan(d, rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
