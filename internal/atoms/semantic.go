package atoms

import (
	"context"

	"github.com/atomcp/atomcp/internal/atoms/semantic"
	"github.com/atomcp/atomcp/internal/domain"
)

// RAGParams is a retrieval query of RAGSearch.
type RAGParams struct {
	Text      string
	Types     []domain.EntityType // empty: every type
	ProjectID string              // an id, a name or "auto"; empty: every project the actor can see
	Mode      string              // one of semantic.Modes; empty means auto
	Limit     int                 // 1..semantic.MaxLimit; 0 means semantic.DefaultLimit
}

// RAGSearch finds the actor's live entities that match text, by meaning,
// by words or both (see semantic.Engine.Search), in the project asked for
// or every project the actor can see.
func (s *Service) RAGSearch(ctx context.Context, a *Actor, p RAGParams) (*semantic.Result, error) {
	q := semantic.Query{Text: p.Text, Types: p.Types, Mode: p.Mode, Limit: p.Limit}
	if err := q.Check(); err != nil {
		return nil, err
	}
	rs, err := s.resolveScope(ctx, a, Scope{ProjectID: p.ProjectID})
	if err != nil {
		return nil, err
	}
	return s.semantic.Search(ctx, q, semantic.Scope{Organizations: rs.orgIDs, ProjectID: rs.projectID, CanSee: a.canSee})
}

// Similar finds the actor's live entities whose text is most similar to
// the given entity's (never the entity itself), within its organization
// (see semantic.Engine.Similar).
func (s *Service) Similar(ctx context.Context, a *Actor, ref EntityRef, types []domain.EntityType, limit int) (*semantic.Result, error) {
	if err := semantic.CheckSimilar(types, limit); err != nil {
		return nil, err
	}
	e, err := s.resolveLive(ctx, s.store, a, ref, "entity")
	if err != nil {
		return nil, err
	}
	return s.semantic.Similar(ctx, e, types, limit, a.canSee)
}

// RunEmbeddings runs the embedding worker until ctx ends (see
// semantic.Engine.Run).
func (s *Service) RunEmbeddings(ctx context.Context) error { return s.semantic.Run(ctx) }

// Semantic returns the engine of semantic search, to drive its embedding
// worker step by step (tests, benchmarks).
func (s *Service) Semantic() *semantic.Engine { return s.semantic }
