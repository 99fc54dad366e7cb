package sqlite

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
	"github.com/atomcp/atomcp/internal/store/sqlcore"
)

// PutEmbedding stores the entity's vector in place of any previous one.
func (o ops) PutEmbedding(ctx context.Context, e *store.Embedding) error {
	if err := sqlcore.CheckEmbedding(e); err != nil {
		return fmt.Errorf("store the embedding of %s %q: %w", e.EntityType, e.EntityID, err)
	}
	err := o.Conn.Write(ctx, func(q sqlcore.Querier) error {
		return q.QueryRow(ctx,
			`INSERT OR REPLACE INTO embeddings (entity_id, entity_type, organization_id, project_id, model, dimensions, content_hash, vector, updated_at)
			 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING seq`,
			e.EntityID, string(e.EntityType), e.OrganizationID, e.ProjectID, e.Model, len(e.Vector), e.ContentHash,
			encodeVector(e.Vector), encodeTime(e.UpdatedAt)).Scan(&e.Seq)
	})
	if err != nil {
		return fmt.Errorf("store the embedding of %s %q: %w", e.EntityType, e.EntityID, mapErr(err))
	}
	return nil
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
	var (
		p sqlcore.Params
		n int
	)
	in := o.D.In("s.organization_id", organizationIDs, &p)
	err := o.Read.QueryRow(ctx, `SELECT count(*) FROM (
			SELECT 1 FROM embedding_queue q
			CROSS JOIN search_docs d ON d.entity_id = q.entity_id
			CROSS JOIN search_index s ON s.rowid = d.rowid
			WHERE `+in+`
			LIMIT `+p.Add(max)+`)`, p...).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count queued embeddings: %w", err)
	}
	return n, nil
}

// encodeVector stores float32 values little-endian, 4 bytes each.
func encodeVector(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

// blobVector scans a vector stored by encodeVector.
type blobVector []float32

func (v *blobVector) Scan(src any) error {
	b, ok := src.([]byte)
	if !ok || len(b)%4 != 0 {
		return errors.New("stored vector is not a whole number of 4-byte values")
	}
	*v = make([]float32, len(b)/4)
	for i := range *v {
		(*v)[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return nil
}
