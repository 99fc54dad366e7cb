package sqlite

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
	"github.com/atomcp/atomcp/internal/store/sqlcore"
)

// isLive is the SQL condition "the entity with this id is live". The
// search_docs table holds a row for exactly the entities that are neither
// soft-deleted nor deleted for good (indexEntity and unindexEntity keep
// it so in the transaction of every write), and its entity_id is indexed.
func isLive(idColumn string) string {
	return `EXISTS (SELECT 1 FROM search_docs d WHERE d.entity_id = ` + idColumn + `)`
}

const embeddingColumns = `e.seq, e.entity_type, e.entity_id, e.organization_id, e.project_id, e.model, e.content_hash, e.vector, e.updated_at`

// PutEmbedding stores the entity's vector in place of any previous one.
func (o ops) PutEmbedding(ctx context.Context, e *store.Embedding) error {
	if err := checkEmbedding(e); err != nil {
		return fmt.Errorf("store the embedding of %s %q: %w", e.EntityType, e.EntityID, err)
	}
	err := o.write.QueryRowContext(ctx,
		`INSERT OR REPLACE INTO embeddings (entity_id, entity_type, organization_id, project_id, model, dimensions, content_hash, vector, updated_at)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq`,
		e.EntityID, string(e.EntityType), e.OrganizationID, e.ProjectID, e.Model, len(e.Vector), e.ContentHash,
		encodeVector(e.Vector), encodeTime(e.UpdatedAt)).Scan(&e.Seq)
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
	e, err := scanEmbedding(o.read.QueryRowContext(ctx,
		`SELECT `+embeddingColumns+` FROM embeddings e WHERE e.entity_id = ? AND `+isLive("e.entity_id"), entityID))
	if err != nil {
		return nil, fmt.Errorf("get the embedding of %q: %w", entityID, notFound(err))
	}
	return e, nil
}

// DeleteEmbedding removes the entity's vector if it has one.
func (o ops) DeleteEmbedding(ctx context.Context, entityID string) error {
	if _, err := o.write.ExecContext(ctx, `DELETE FROM embeddings WHERE entity_id = ?`, entityID); err != nil {
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
	limit := -1 // SQLite: no limit
	if q.Limit > 0 {
		limit = q.Limit
	}
	rows, err := o.read.QueryContext(ctx, `SELECT `+embeddingColumns+` FROM embeddings e
		WHERE e.organization_id = ? AND e.model = ? AND e.seq > ? AND `+isLive("e.entity_id")+`
		ORDER BY e.seq LIMIT ?`, q.OrganizationID, q.Model, q.AfterSeq, limit)
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
	err := o.read.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM embeddings WHERE organization_id = ? AND model = ?`,
		organizationID, model).Scan(&seq)
	if err != nil {
		return 0, fmt.Errorf("latest embedding of %q: %w", organizationID, err)
	}
	return seq, nil
}

// CountQueuedEmbeddings counts queued live entities of the organizations,
// up to max. The queue has no organization column: each entry is joined
// to its search index row through search_docs (both lookups by key).
// CROSS JOIN fixes that order: left to itself, SQLite scanned the whole
// search index for the organizations instead (50 ms at 100,000 entities,
// with an empty queue).
func (o ops) CountQueuedEmbeddings(ctx context.Context, organizationIDs []string, max int) (int, error) {
	if len(organizationIDs) == 0 {
		return 0, fmt.Errorf("count queued embeddings: %w: no organization scope", domain.ErrInvalid)
	}
	if max <= 0 {
		return 0, nil
	}
	args := make([]any, 0, len(organizationIDs)+1)
	for _, id := range organizationIDs {
		args = append(args, id)
	}
	args = append(args, max)
	var n int
	err := o.read.QueryRowContext(ctx, `SELECT count(*) FROM (
			SELECT 1 FROM embedding_queue q
			CROSS JOIN search_docs d ON d.entity_id = q.entity_id
			CROSS JOIN search_index s ON s.rowid = d.rowid
			WHERE s.organization_id IN (`+placeholders(len(organizationIDs))+`)
			LIMIT ?)`, args...).Scan(&n)
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
	// search_index lists every live entity with its type (one row each).
	res, err := o.write.ExecContext(ctx, `INSERT INTO embedding_queue (entity_id, entity_type, enqueued_at)
		SELECT s.entity_id, s.entity_type, ? FROM search_index s
		WHERE NOT EXISTS (SELECT 1 FROM embeddings e WHERE e.entity_id = s.entity_id AND e.model = ?)
		ON CONFLICT (entity_id) DO NOTHING`, encodeTime(at), model)
	if err != nil {
		return 0, fmt.Errorf("requeue embeddings: %w", mapErr(err))
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// PruneEmbeddings deletes the vectors nobody can use any more.
func (o ops) PruneEmbeddings(ctx context.Context, keepModel string) (int, error) {
	res, err := o.write.ExecContext(ctx, `DELETE FROM embeddings WHERE model <> ? OR NOT `+isLive("embeddings.entity_id"), keepModel)
	if err != nil {
		return 0, fmt.Errorf("prune embeddings: %w", mapErr(err))
	}
	n, err := res.RowsAffected()
	return int(n), err
}

func scanEmbedding(r sqlcore.Row) (*store.Embedding, error) {
	var (
		e       store.Embedding
		typ, at string
		blob    []byte
	)
	if err := r.Scan(&e.Seq, &typ, &e.EntityID, &e.OrganizationID, &e.ProjectID, &e.Model, &e.ContentHash, &blob, &at); err != nil {
		return nil, err
	}
	e.EntityType = domain.EntityType(typ)
	var err error
	if e.UpdatedAt, err = decodeTime(at); err != nil {
		return nil, err
	}
	if e.Vector, err = decodeVector(blob); err != nil {
		return nil, fmt.Errorf("embedding of %q: %w", e.EntityID, err)
	}
	return &e, nil
}

// encodeVector stores float32 values little-endian, 4 bytes each.
func encodeVector(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

func decodeVector(b []byte) ([]float32, error) {
	if len(b)%4 != 0 {
		return nil, errors.New("stored vector length is not a multiple of 4 bytes")
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v, nil
}
