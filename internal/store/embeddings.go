package store

import (
	"context"
	"time"

	"github.com/atomcp/atomcp/internal/domain"
)

// Embedding is the stored vector of one entity, computed by one embedding
// model from the entity's text.
type Embedding struct {
	EntityType     domain.EntityType
	EntityID       string
	OrganizationID string
	ProjectID      string // "" for entities outside a project
	// Model identifies the embedder, model and dimensions (embed.Embedder's
	// Model); vectors of different models are never compared.
	Model string
	// ContentHash identifies the text the vector was computed from, so
	// that an unchanged text need not be embedded again.
	ContentHash string
	Vector      []float32
	UpdatedAt   time.Time
	// Seq is set by PutEmbedding: larger than every Seq set before it, so
	// that a reader holding vectors up to some Seq can load just what was
	// written since (EmbeddingQuery.AfterSeq). Seq order must be commit
	// order: once LatestEmbeddingSeq returns n, no vector with a Seq up to
	// n may still appear. SQLite has it from its single writer; a backend
	// with concurrent writers must serialise the puts (or their Seq).
	Seq int64
}

// EmbeddingQuery selects the stored vectors of one organization and model.
type EmbeddingQuery struct {
	OrganizationID string // required
	Model          string // required
	AfterSeq       int64  // only vectors with a larger Seq
	Limit          int    // 0 means no limit
}

// Embeddings stores entity vectors for semantic search. The vectors of
// an entity that is deleted (softly or for good) stay stored until
// PruneEmbeddings, but ListEmbeddings never returns them.
type Embeddings interface {
	// PutEmbedding stores e, replacing the entity's previous vector of any
	// model, and sets e.Seq. A vector that is empty or whose values are not
	// finite wraps domain.ErrInvalid.
	PutEmbedding(ctx context.Context, e *Embedding) error
	// GetEmbedding returns the vector of a live entity, or
	// domain.ErrNotFound (also when the entity is deleted).
	GetEmbedding(ctx context.Context, entityID string) (*Embedding, error)
	// DeleteEmbedding removes the entity's vector; removing none is not an
	// error.
	DeleteEmbedding(ctx context.Context, entityID string) error
	// ListEmbeddings returns the vectors of the organization and model
	// whose entity is live (not deleted), in increasing Seq.
	ListEmbeddings(ctx context.Context, q EmbeddingQuery) ([]*Embedding, error)
	// LatestEmbeddingSeq returns the largest Seq among the vectors of the
	// organization and model (0 when there are none): a reader whose
	// vectors go up to it has seen every write.
	LatestEmbeddingSeq(ctx context.Context, organizationID, model string) (int64, error)
	// CountQueuedEmbeddings counts the live entities of the organizations
	// waiting in the embedding queue, counting no further than max (a huge
	// queue is "at least max").
	CountQueuedEmbeddings(ctx context.Context, organizationIDs []string, max int) (int, error)
	// RequeueEmbeddings queues, with enqueued time at, every live entity
	// that has no vector of model and is not queued yet, and returns how
	// many it queued. After a change of model this is every entity.
	RequeueEmbeddings(ctx context.Context, model string, at time.Time) (int, error)
	// PruneEmbeddings deletes the vectors of entities that are deleted or
	// gone and those of any model other than keepModel, and returns how
	// many it deleted.
	PruneEmbeddings(ctx context.Context, keepModel string) (int, error)
}
