package postgres

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

// isLive is the SQL condition "the entity with this id is live":
// search_index holds a row for exactly the entities that are neither
// soft-deleted nor deleted for good (indexEntity and unindexEntity keep it
// so in the transaction of every write), keyed by entity_id.
func isLive(idColumn string) string {
	return `EXISTS (SELECT 1 FROM search_index d WHERE d.entity_id = ` + idColumn + `)`
}

const embeddingColumns = `e.seq, e.entity_type, e.entity_id, e.organization_id, e.project_id, e.model, e.content_hash, e.vector, e.updated_at`

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
	if err := checkEmbedding(e); err != nil {
		return fmt.Errorf("store the embedding of %s %q: %w", e.EntityType, e.EntityID, err)
	}
	// A transaction of its own even for one statement: the seq lock is
	// held until the commit.
	err := o.atomically(ctx, func(q querier) error {
		return q.QueryRow(ctx, putEmbeddingSQL, e.EntityID, string(e.EntityType), e.OrganizationID, e.ProjectID,
			e.Model, e.ContentHash, e.Vector, e.UpdatedAt).Scan(&e.Seq)
	})
	if err != nil {
		return fmt.Errorf("store the embedding of %s %q: %w", e.EntityType, e.EntityID, mapErr(err))
	}
	return nil
}

func checkEmbedding(e *store.Embedding) error {
	var missing []string
	for _, f := range []struct{ name, v string }{
		{"entity_id", e.EntityID}, {"entity_type", string(e.EntityType)},
		{"organization_id", e.OrganizationID}, {"model", e.Model},
	} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: no %s", domain.ErrInvalid, strings.Join(missing, ", "))
	}
	if len(e.Vector) == 0 {
		return fmt.Errorf("%w: empty vector", domain.ErrInvalid)
	}
	for i, x := range e.Vector {
		if f := float64(x); math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("%w: vector value %d is not a finite number", domain.ErrInvalid, i)
		}
	}
	return nil
}

// GetEmbedding returns the vector of a live entity.
func (o ops) GetEmbedding(ctx context.Context, entityID string) (*store.Embedding, error) {
	e, err := scanEmbedding(o.q.QueryRow(ctx,
		`SELECT `+embeddingColumns+` FROM embeddings e WHERE e.entity_id = $1 AND `+isLive("e.entity_id"), entityID))
	if err != nil {
		return nil, fmt.Errorf("get the embedding of %q: %w", entityID, notFound(err))
	}
	return e, nil
}

// DeleteEmbedding removes the entity's vector if it has one.
func (o ops) DeleteEmbedding(ctx context.Context, entityID string) error {
	err := o.write(ctx, func(q querier) error {
		_, err := q.Exec(ctx, `DELETE FROM embeddings WHERE entity_id = $1`, entityID)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete the embedding of %q: %w", entityID, mapErr(err))
	}
	return nil
}

// ListEmbeddings returns the vectors of live entities of one organization
// and model, by seq.
func (o ops) ListEmbeddings(ctx context.Context, q store.EmbeddingQuery) ([]*store.Embedding, error) {
	if q.OrganizationID == "" || q.Model == "" {
		return nil, fmt.Errorf("list embeddings: %w: an organization and a model are required", domain.ErrInvalid)
	}
	if q.Limit < 0 {
		return nil, fmt.Errorf("list embeddings: %w: negative limit %d", domain.ErrInvalid, q.Limit)
	}
	var limit any // NULL: no limit
	if q.Limit > 0 {
		limit = q.Limit
	}
	rows, err := o.q.Query(ctx, `SELECT `+embeddingColumns+` FROM embeddings e
		WHERE e.organization_id = $1 AND e.model = $2 AND e.seq > $3 AND `+isLive("e.entity_id")+`
		ORDER BY e.seq LIMIT $4::bigint`, q.OrganizationID, q.Model, q.AfterSeq, limit)
	if err != nil {
		return nil, fmt.Errorf("list embeddings: %w", mapErr(err))
	}
	defer rows.Close()
	out := []*store.Embedding{}
	for rows.Next() {
		e, err := scanEmbedding(rows)
		if err != nil {
			return nil, fmt.Errorf("list embeddings: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list embeddings: %w", err)
	}
	return out, nil
}

// LatestEmbeddingSeq returns the largest seq of the organization's vectors
// of the model (an index lookup).
func (o ops) LatestEmbeddingSeq(ctx context.Context, organizationID, model string) (int64, error) {
	var seq int64
	err := o.q.QueryRow(ctx, `SELECT coalesce(max(seq), 0) FROM embeddings WHERE organization_id = $1 AND model = $2`,
		organizationID, model).Scan(&seq)
	if err != nil {
		return 0, fmt.Errorf("latest embedding of %q: %w", organizationID, err)
	}
	return seq, nil
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
	err := o.q.QueryRow(ctx, `SELECT count(*) FROM (
			SELECT 1 FROM embedding_queue q JOIN search_index s ON s.entity_id = q.entity_id
			WHERE s.organization_id = ANY($1::text[])
			LIMIT $2) AS queued`, organizationIDs, max).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count queued embeddings: %w", err)
	}
	return n, nil
}

// RequeueEmbeddings queues the live entities that lack a vector of model.
func (o ops) RequeueEmbeddings(ctx context.Context, model string, at time.Time) (int, error) {
	if model == "" {
		return 0, fmt.Errorf("requeue embeddings: %w: no model", domain.ErrInvalid)
	}
	var n int64
	err := o.write(ctx, func(q querier) error {
		// search_index lists every live entity with its type (one row each).
		tag, err := q.Exec(ctx, `INSERT INTO embedding_queue (entity_id, entity_type, enqueued_at)
			SELECT s.entity_id, s.entity_type, $1 FROM search_index s
			WHERE NOT EXISTS (SELECT 1 FROM embeddings e WHERE e.entity_id = s.entity_id AND e.model = $2)
			ON CONFLICT (entity_id) DO NOTHING`, at, model)
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("requeue embeddings: %w", mapErr(err))
	}
	return int(n), nil
}

// PruneEmbeddings deletes the vectors nobody can use any more.
func (o ops) PruneEmbeddings(ctx context.Context, keepModel string) (int, error) {
	var n int64
	err := o.write(ctx, func(q querier) error {
		tag, err := q.Exec(ctx, `DELETE FROM embeddings WHERE model <> $1 OR NOT `+isLive("embeddings.entity_id"), keepModel)
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("prune embeddings: %w", mapErr(err))
	}
	return int(n), nil
}

// rowScanner is pgx.Row or pgx.Rows.
type rowScanner interface{ Scan(dest ...any) error }

func scanEmbedding(r rowScanner) (*store.Embedding, error) {
	var (
		e   store.Embedding
		typ string
	)
	if err := r.Scan(&e.Seq, &typ, &e.EntityID, &e.OrganizationID, &e.ProjectID, &e.Model, &e.ContentHash, &e.Vector, &e.UpdatedAt); err != nil {
		return nil, err
	}
	e.EntityType, e.UpdatedAt = domain.EntityType(typ), e.UpdatedAt.UTC()
	return &e, nil
}
