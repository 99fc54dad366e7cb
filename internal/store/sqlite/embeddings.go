package sqlite

import (
	"context"
	"encoding/binary"
	"errors"
	"math"

	"github.com/atomcp/atomcp/internal/store"
	"github.com/atomcp/atomcp/internal/store/sqlcore"
)

// putVector stores an embedding, with its dimensions.
func putVector(ctx context.Context, c sqlcore.Conn, e *store.Embedding) error {
	return c.Write(ctx, func(q sqlcore.Querier) error {
		return q.QueryRow(ctx,
			`INSERT OR REPLACE INTO embeddings (entity_id, entity_type, organization_id, project_id, model, dimensions, content_hash, vector, updated_at)
			 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING seq`,
			e.EntityID, string(e.EntityType), e.OrganizationID, e.ProjectID, e.Model, len(e.Vector), e.ContentHash,
			encodeVector(e.Vector), encodeTime(e.UpdatedAt)).Scan(&e.Seq)
	})
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
