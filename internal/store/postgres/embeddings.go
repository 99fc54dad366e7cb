package postgres

import (
	"context"

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

// putVector stores an embedding in a transaction of its own even for one
// statement: the seq lock is held until the commit.
func putVector(ctx context.Context, c sqlcore.Conn, e *store.Embedding) error {
	return c.Atomically(ctx, func(q sqlcore.Querier) error {
		return q.QueryRow(ctx, putEmbeddingSQL, e.EntityID, string(e.EntityType), e.OrganizationID, e.ProjectID,
			e.Model, e.ContentHash, e.Vector, e.UpdatedAt).Scan(&e.Seq)
	})
}
