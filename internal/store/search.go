package store

import (
	"context"
	"time"

	"github.com/atomcp/atomcp/internal/domain"
)

// SearchQuery is a ranked full-text query over live entities.
type SearchQuery struct {
	Types           []domain.EntityType // empty means every type
	OrganizationIDs []string            // must not be empty
	ProjectID       string              // optional
	// Text is what a person typed: words, matched as prefixes, all of
	// which must occur. Backends quote it; it is never query syntax.
	Text   string
	Limit  int
	Offset int
}

// SearchCountLimit bounds what SearchText counts: counting every hit of a
// common word costs as much as ranking them. A query with more than
// max(SearchCountLimit, Offset+Limit) hits reports that bound plus one as
// its total, meaning "more than the bound".
const SearchCountLimit = 1000

// SearchRankWindow bounds what SearchText ranks at once: ranking every hit
// of a common word costs time in proportion to the hits. The hits are cut
// into windows of SearchRankWindow, newest first (the most recently
// indexed, that is created, changed or restored, entity first; a rebuild
// of the index writes in its own order), and each window is ranked on its
// own: the order is window by window, and within a window by score, then
// entity id. A query with at most SearchRankWindow hits is one window:
// every hit ranked against every other.
const SearchRankWindow = 1000

// SearchHit is one match, best first.
type SearchHit struct {
	Type           domain.EntityType
	ID             string
	OrganizationID string
	ProjectID      string
	Score          float64 // higher is better; comparable within one query only
	Name           string  // the name with matched words marked **like this**
	Snippet        string  // an excerpt of the other text around the matches, marked the same way
}

// Count is one group of an aggregate.
type Count struct {
	Value string // "" for entities where the field is not set
	N     int
}

// QueuedEmbedding is an entity waiting for its embedding.
type QueuedEmbedding struct {
	Type       domain.EntityType
	ID         string
	EnqueuedAt time.Time
}

// Search is full-text search, aggregation and the embedding queue, all kept
// in step with entity writes by the backend.
type Search interface {
	// SearchText returns one page of hits and the total number of hits,
	// counted up to max(SearchCountLimit, Offset+Limit) + 1. The hits are
	// ordered in windows of SearchRankWindow (see there).
	SearchText(ctx context.Context, q SearchQuery) ([]SearchHit, int, error)
	// CountBy counts the entities matching q (Limit, Offset, OrderBy and
	// Text are ignored) grouped by one field of the kind, largest first.
	CountBy(ctx context.Context, q EntityQuery, field string) ([]Count, error)
	// EmbeddingQueue returns up to limit entities waiting for an embedding,
	// oldest first. Every write of a live entity enqueues it.
	EmbeddingQueue(ctx context.Context, limit int) ([]QueuedEmbedding, error)
	// DequeueEmbedding removes the entry if it is still the one read (same
	// EnqueuedAt): an entity written again meanwhile stays queued.
	DequeueEmbedding(ctx context.Context, q QueuedEmbedding) error
}
