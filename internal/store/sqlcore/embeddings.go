package sqlcore

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

// IsLive is the SQL condition "the entity with this id is live": the
// Dialect's LiveIndex table holds a row for exactly the entities that are
// neither soft-deleted nor deleted for good (the backend's index keeps it
// so in the transaction of every write), keyed by entity_id.
func (d *Dialect) IsLive(idColumn string) string {
	return `EXISTS (SELECT 1 FROM ` + d.LiveIndex + ` d WHERE d.entity_id = ` + idColumn + `)`
}

// EmbeddingColumns are the columns ScanEmbedding reads, of embeddings e.
const EmbeddingColumns = `e.seq, e.entity_type, e.entity_id, e.organization_id, e.project_id, e.model, e.content_hash, e.vector, e.updated_at`

// CheckEmbedding refuses an embedding that cannot be stored.
func CheckEmbedding(e *store.Embedding) error {
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
func (o Ops) GetEmbedding(ctx context.Context, entityID string) (*store.Embedding, error) {
	e, err := o.scanEmbedding(o.Read.QueryRow(ctx,
		`SELECT `+EmbeddingColumns+` FROM embeddings e WHERE e.entity_id = $1 AND `+o.D.IsLive("e.entity_id"), entityID))
	if err != nil {
		return nil, fmt.Errorf("get the embedding of %q: %w", entityID, NotFound(err))
	}
	return e, nil
}

// DeleteEmbedding removes the entity's vector if it has one.
func (o Ops) DeleteEmbedding(ctx context.Context, entityID string) error {
	if _, err := o.exec(ctx, `DELETE FROM embeddings WHERE entity_id = $1`, entityID); err != nil {
		return fmt.Errorf("delete the embedding of %q: %w", entityID, err)
	}
	return nil
}

// ListEmbeddings returns the vectors of live entities of one organization
// and model, by seq.
func (o Ops) ListEmbeddings(ctx context.Context, q store.EmbeddingQuery) ([]*store.Embedding, error) {
	if q.OrganizationID == "" || q.Model == "" {
		return nil, fmt.Errorf("list embeddings: %w: an organization and a model are required", domain.ErrInvalid)
	}
	if q.Limit < 0 {
		return nil, fmt.Errorf("list embeddings: %w: negative limit %d", domain.ErrInvalid, q.Limit)
	}
	p := Params{q.OrganizationID, q.Model, q.AfterSeq}
	limit := ""
	if q.Limit > 0 {
		limit = " LIMIT " + p.Add(q.Limit)
	}
	out, err := queryAll(ctx, o.Read, o.scanEmbedding, `SELECT `+EmbeddingColumns+` FROM embeddings e
		WHERE e.organization_id = $1 AND e.model = $2 AND e.seq > $3 AND `+o.D.IsLive("e.entity_id")+`
		ORDER BY e.seq`+limit, p...)
	if err != nil {
		return nil, fmt.Errorf("list embeddings: %w", o.D.MapErr(err))
	}
	return out, nil
}

// LatestEmbeddingSeq returns the largest seq of the organization's vectors
// of the model (an index lookup).
func (o Ops) LatestEmbeddingSeq(ctx context.Context, organizationID, model string) (int64, error) {
	var seq int64
	err := o.Read.QueryRow(ctx, `SELECT coalesce(max(seq), 0) FROM embeddings WHERE organization_id = $1 AND model = $2`,
		organizationID, model).Scan(&seq)
	if err != nil {
		return 0, fmt.Errorf("latest embedding of %q: %w", organizationID, err)
	}
	return seq, nil
}

// RequeueEmbeddings queues the live entities that lack a vector of model.
func (o Ops) RequeueEmbeddings(ctx context.Context, model string, at time.Time) (int, error) {
	if model == "" {
		return 0, fmt.Errorf("requeue embeddings: %w: no model", domain.ErrInvalid)
	}
	// search_index lists every live entity with its type (one row each).
	n, err := o.exec(ctx, `INSERT INTO embedding_queue (entity_id, entity_type, enqueued_at)
		SELECT s.entity_id, s.entity_type, $1 FROM search_index s
		WHERE NOT EXISTS (SELECT 1 FROM embeddings e WHERE e.entity_id = s.entity_id AND e.model = $2)
		ON CONFLICT (entity_id) DO NOTHING`, o.D.Time(at), model)
	if err != nil {
		return 0, fmt.Errorf("requeue embeddings: %w", err)
	}
	return int(n), nil
}

// PruneEmbeddings deletes the vectors nobody can use any more.
func (o Ops) PruneEmbeddings(ctx context.Context, keepModel string) (int, error) {
	n, err := o.exec(ctx, `DELETE FROM embeddings WHERE model <> $1 OR NOT `+o.D.IsLive("embeddings.entity_id"), keepModel)
	if err != nil {
		return 0, fmt.Errorf("prune embeddings: %w", err)
	}
	return int(n), nil
}

func (o Ops) scanEmbedding(r Row) (*store.Embedding, error) {
	var e store.Embedding
	if err := r.Scan(&e.Seq, (*string)(&e.EntityType), &e.EntityID, &e.OrganizationID, &e.ProjectID, &e.Model, &e.ContentHash,
		o.D.ScanVector(&e.Vector), o.D.ScanTime(&e.UpdatedAt)); err != nil {
		return nil, err
	}
	return &e, nil
}

// EmbeddingQueue returns the oldest queued entities.
func (o Ops) EmbeddingQueue(ctx context.Context, limit int) ([]store.QueuedEmbedding, error) {
	if limit <= 0 {
		limit = 100
	}
	out, err := queryAll(ctx, o.Read, func(r Row) (q store.QueuedEmbedding, err error) {
		err = r.Scan((*string)(&q.Type), &q.ID, o.D.ScanTime(&q.EnqueuedAt))
		return q, err
	}, `SELECT entity_type, entity_id, enqueued_at FROM embedding_queue ORDER BY enqueued_at, entity_id LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("read the embedding queue: %w", o.D.MapErr(err))
	}
	return out, nil
}

// DequeueEmbedding removes a queue entry unless it was renewed meanwhile.
func (o Ops) DequeueEmbedding(ctx context.Context, q store.QueuedEmbedding) error {
	if _, err := o.exec(ctx, `DELETE FROM embedding_queue WHERE entity_id = $1 AND enqueued_at = $2`, q.ID, o.D.Time(q.EnqueuedAt)); err != nil {
		return fmt.Errorf("dequeue %q: %w", q.ID, err)
	}
	return nil
}

// PutEmbedding stores the entity's vector in place of any previous one,
// through the backend's PutVector.
func (o Ops) PutEmbedding(ctx context.Context, e *store.Embedding) error {
	err := CheckEmbedding(e)
	if err == nil {
		err = o.D.MapErr(o.PutVector(ctx, o.Conn, e))
	}
	return wrapf(err, "store the embedding of %s %q", e.EntityType, e.EntityID)
}

// CountQueuedEmbeddings counts queued live entities of the organizations,
// up to max. The queue has no organization column: each entry q is joined
// to its search index row s (Dialect.QueuedJoin).
func (o Ops) CountQueuedEmbeddings(ctx context.Context, organizationIDs []string, max int) (int, error) {
	if len(organizationIDs) == 0 {
		return 0, fmt.Errorf("count queued embeddings: %w: no organization scope", domain.ErrInvalid)
	}
	if max <= 0 {
		return 0, nil
	}
	var (
		p Params
		n int
	)
	in := o.D.In("s.organization_id", organizationIDs, &p)
	err := o.Read.QueryRow(ctx, `SELECT count(*) FROM (SELECT 1 FROM embedding_queue q `+o.D.QueuedJoin+`
		WHERE `+in+` LIMIT `+p.Add(max)+`) AS queued`, p...).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count queued embeddings: %w", err)
	}
	return n, nil
}
