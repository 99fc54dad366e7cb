package postgres

import (
	"context"
	"fmt"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
	"github.com/atomcp/atomcp/internal/store/sqlcore"
)

// putEmbeddingSQL takes the seq lock, then inserts or replaces the vector
// with a new seq. The lock (transaction-scoped, one per schema) makes
// writers of vectors take seqs in the order they commit, so that a reader
// that has seen seq n has seen every smaller one: with concurrent
// transactions a sequence alone would let a smaller seq commit later.
const putEmbeddingSQL = `WITH seq_lock AS (
	SELECT pg_advisory_xact_lock(hashtextextended('atomcp:embeddings_seq:' || current_schema(), 0))
)
INSERT INTO embeddings (entity_id, entity_type, organization_id, project_id, model, content_hash, vector, updated_at)
SELECT $1, $2, $3, $4, $5, $6, $7, $8 FROM seq_lock
ON CONFLICT (entity_id) DO UPDATE SET seq = nextval('embeddings_seq'), entity_type = excluded.entity_type,
	organization_id = excluded.organization_id, project_id = excluded.project_id, model = excluded.model,
	content_hash = excluded.content_hash, vector = excluded.vector, updated_at = excluded.updated_at
RETURNING seq`

// PutEmbedding stores the entity's vector in place of any previous one.
func (o ops) PutEmbedding(ctx context.Context, e *store.Embedding) error {
	if err := sqlcore.CheckEmbedding(e); err != nil {
		return fmt.Errorf("store the embedding of %s %q: %w", e.EntityType, e.EntityID, err)
	}
	// A transaction of its own even for one statement: the seq lock is
	// held until the commit.
	err := o.Conn.Atomically(ctx, func(q sqlcore.Querier) error {
		return q.QueryRow(ctx, putEmbeddingSQL, e.EntityID, string(e.EntityType), e.OrganizationID, e.ProjectID,
			e.Model, e.ContentHash, e.Vector, e.UpdatedAt).Scan(&e.Seq)
	})
	if err != nil {
		return fmt.Errorf("store the embedding of %s %q: %w", e.EntityType, e.EntityID, mapErr(err))
	}
	return nil
}

// CountQueuedEmbeddings counts queued live entities of the organizations,
// up to max. The queue has no organization column: each entry is joined
// to its search index row (a key lookup).
func (o ops) CountQueuedEmbeddings(ctx context.Context, organizationIDs []string, max int) (int, error) {
	if len(organizationIDs) == 0 {
		return 0, fmt.Errorf("count queued embeddings: %w: no organization scope", domain.ErrInvalid)
	}
	if max <= 0 {
		return 0, nil
	}
	var n int
	err := o.Read.QueryRow(ctx, `SELECT count(*) FROM (
			SELECT 1 FROM embedding_queue q JOIN search_index s ON s.entity_id = q.entity_id
			WHERE s.organization_id = ANY($1::text[])
			LIMIT $2) AS queued`, organizationIDs, max).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count queued embeddings: %w", err)
	}
	return n, nil
}
