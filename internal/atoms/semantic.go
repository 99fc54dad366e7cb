package atoms

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

// The modes of RAGSearch.
const (
	RAGSemantic = "semantic" // vector similarity only
	RAGKeyword  = "keyword"  // full-text search only
	RAGHybrid   = "hybrid"   // both, fused by reciprocal rank
	RAGAuto     = "auto"     // hybrid when vectors exist, else keyword
)

// RAGModes lists the accepted modes, for schemas and error messages.
var RAGModes = []string{RAGSemantic, RAGKeyword, RAGHybrid, RAGAuto}

// Limits of RAGSearch and Similar.
const (
	DefaultRAGLimit = 10
	MaxRAGLimit     = 100
	// MaxRAGTextRunes bounds the query text: a question, not a document.
	MaxRAGTextRunes = 4000
	// MaxPendingCount is as far as the pending-embeddings count goes.
	MaxPendingCount = 10_000
)

const (
	// rrfK is the constant of reciprocal rank fusion, score = Σ 1/(k+rank):
	// 60 is the value of the original paper (Cormack et al., 2009); it
	// keeps one list's top hit from drowning the other list.
	rrfK = 60
	// queryEmbedTimeout bounds embedding the query text, so that a slow
	// remote embedder turns into a keyword answer instead of a hung call.
	queryEmbedTimeout = 10 * time.Second
	// keywordWords is how many words the any-word keyword search tries.
	keywordWords = 5
	// maxVerify bounds the candidates checked against the store per query.
	maxVerify = 2000
	// embedderRest is how long queries skip an embedder that just failed.
	embedderRest = 30 * time.Second
)

// RAGParams is a retrieval query.
type RAGParams struct {
	Text      string
	Types     []domain.EntityType // empty: every type
	ProjectID string              // an id, a name or "auto"; empty: every project the actor can see
	Mode      string              // semantic|keyword|hybrid|auto; empty means auto
	Limit     int                 // 1..MaxRAGLimit; 0 means DefaultRAGLimit
}

// RAGHit is one result.
type RAGHit struct {
	Type    domain.EntityType `json:"entity_type"`
	ID      string            `json:"id"`
	Name    string            `json:"name"`
	Score   float64           `json:"score"`
	Sources []string          `json:"matched_by"`
	Snippet string            `json:"snippet,omitempty"`
}

// RAGResult is the answer of RAGSearch and Similar.
type RAGResult struct {
	// Mode is the mode that produced the hits: the one asked for, or
	// "keyword" when vectors could not be used (then Fallback says why).
	Mode     string `json:"mode"`
	Fallback string `json:"fallback,omitempty"`
	// Pending counts the entities in scope still waiting for their
	// embedding (up to MaxPendingCount): semantic results may miss them.
	Pending int      `json:"pending_embeddings,omitempty"`
	Hits    []RAGHit `json:"results"`
}

// ragHit is a hit being assembled: Score is the list's own score until
// fusion.
type ragHit struct {
	RAGHit
	entity *domain.Entity // loaded when verified
}

// RAGSearch finds the actor's live entities that match text: by meaning
// (vector similarity), by words (full-text search), or both fused by
// reciprocal rank. When the embedder fails, or no vectors are stored yet,
// it answers with keyword results and says why in Fallback.
func (s *Service) RAGSearch(ctx context.Context, a *Actor, p RAGParams) (*RAGResult, error) {
	text := strings.TrimSpace(p.Text)
	if text == "" {
		return nil, fmt.Errorf("%w: rag_search needs text: the question or words to search for", domain.ErrInvalid)
	}
	if n := utf8.RuneCountInString(text); n > MaxRAGTextRunes {
		return nil, fmt.Errorf("%w: text is %d characters long; at most %d are accepted", domain.ErrInvalid, n, MaxRAGTextRunes)
	}
	mode := strings.ToLower(strings.TrimSpace(p.Mode))
	if mode == "" {
		mode = RAGAuto
	}
	if !slices.Contains(RAGModes, mode) {
		return nil, fmt.Errorf("%w: unknown mode %q; accepted: %s", domain.ErrInvalid, p.Mode, strings.Join(RAGModes, ", "))
	}
	limit, err := ragLimit(p.Limit)
	if err != nil {
		return nil, err
	}
	if err := checkTypes(p.Types); err != nil {
		return nil, err
	}
	rs, err := s.resolveScope(ctx, a, Scope{ProjectID: p.ProjectID})
	if err != nil {
		return nil, err
	}
	res := &RAGResult{Mode: mode, Hits: []RAGHit{}}
	if len(rs.orgIDs) == 0 {
		if mode == RAGAuto {
			res.Mode = RAGKeyword
		}
		return res, nil
	}
	if res.Pending, err = s.store.CountQueuedEmbeddings(ctx, rs.orgIDs, MaxPendingCount); err != nil {
		return nil, err
	}
	filter := scanFilter{types: p.Types, project: rs.projectID}
	keyword := func() ([]*ragHit, error) {
		return s.keywordHits(ctx, store.SearchQuery{Types: p.Types, OrganizationIDs: rs.orgIDs, ProjectID: rs.projectID, Text: text}, candidatesFor(limit))
	}
	if mode == RAGKeyword {
		hits, err := keyword()
		if err != nil {
			return nil, err
		}
		return s.finish(ctx, a, res, hits, limit)
	}

	// Auto looks for vectors before asking the embedder, so that a server
	// without any pays nothing for them.
	if mode == RAGAuto && s.emb().Dimensions() > 0 {
		_, total, err := s.indexes(ctx, rs.orgIDs, s.emb().Model())
		if err != nil {
			return nil, err
		}
		if total == 0 {
			res.Mode = RAGKeyword
			hits, err := keyword()
			if err != nil {
				return nil, err
			}
			return s.finish(ctx, a, res, hits, limit)
		}
	}
	var semantic []*ragHit
	vec, model, why := s.queryVector(ctx, text)
	if why == "" {
		ixs, total, err := s.indexes(ctx, rs.orgIDs, model)
		if err != nil {
			return nil, err
		}
		if total == 0 {
			why = noVectorsYet(res.Pending)
			if mode == RAGAuto {
				why = ""
			}
			res.Mode, mode = RAGKeyword, RAGKeyword
		} else if semantic, err = s.semanticHits(ctx, a, ixs, vec, filter, limit, candidatesFor(limit)); err != nil {
			return nil, err
		}
	}
	if why != "" {
		res.Mode, res.Fallback, mode = RAGKeyword, why, RAGKeyword
	}
	if mode == RAGAuto {
		mode, res.Mode = RAGHybrid, RAGHybrid
	}
	switch mode {
	case RAGSemantic:
		return s.finish(ctx, a, res, semantic, limit)
	case RAGKeyword:
		hits, err := keyword()
		if err != nil {
			return nil, err
		}
		return s.finish(ctx, a, res, hits, limit)
	}
	kw, err := keyword()
	if err != nil {
		return nil, err
	}
	return s.finish(ctx, a, res, fuse(semantic, kw), limit)
}

// Similar finds the actor's live entities whose text is most similar to
// the given entity's (never the entity itself), within its organization.
// Without a vector for it (the embedder is down, or nothing is embedded
// yet) it answers with a keyword search for the entity's name words, and
// says so in Fallback.
func (s *Service) Similar(ctx context.Context, a *Actor, ref EntityRef, types []domain.EntityType, limit int) (*RAGResult, error) {
	limit, err := ragLimit(limit)
	if err != nil {
		return nil, err
	}
	if err := checkTypes(types); err != nil {
		return nil, err
	}
	e, err := s.resolveLive(ctx, s.store, a, ref, "entity")
	if err != nil {
		return nil, err
	}
	orgs := []string{e.OrganizationID}
	res := &RAGResult{Mode: RAGSemantic, Hits: []RAGHit{}}
	if res.Pending, err = s.store.CountQueuedEmbeddings(ctx, orgs, MaxPendingCount); err != nil {
		return nil, err
	}
	vec, model, why := s.vectorOf(ctx, e)
	if why == "" {
		ixs, total, err := s.indexes(ctx, orgs, model)
		if err != nil {
			return nil, err
		}
		if total == 0 {
			why = noVectorsYet(res.Pending)
		} else {
			hits, err := s.semanticHits(ctx, a, ixs, vec, scanFilter{types: types, exclude: e.ID}, limit, candidatesFor(limit))
			if err != nil {
				return nil, err
			}
			return s.finish(ctx, a, res, hits, limit)
		}
	}
	res.Mode, res.Fallback = RAGKeyword, why
	// Any word: the entity's text matches all of its own words, and
	// rarely anything else does.
	hits, err := s.anyWordHits(ctx, store.SearchQuery{Types: types, OrganizationIDs: orgs, Text: embedText(e), Limit: candidatesFor(limit) + 1})
	if err != nil {
		return nil, err
	}
	hits = slices.DeleteFunc(hits, func(h *ragHit) bool { return h.ID == e.ID })
	return s.finish(ctx, a, res, hits, limit)
}

func ragLimit(limit int) (int, error) {
	if limit == 0 {
		return DefaultRAGLimit, nil
	}
	if limit < 1 || limit > MaxRAGLimit {
		return 0, fmt.Errorf("%w: limit %d is out of range; accepted: 1 to %d (default %d)", domain.ErrInvalid, limit, MaxRAGLimit, DefaultRAGLimit)
	}
	return limit, nil
}

func checkTypes(types []domain.EntityType) error {
	for _, t := range types {
		if _, err := domain.KindOf(t); err != nil {
			return fmt.Errorf("entity_types: %w", err)
		}
	}
	return nil
}

// candidatesFor is how many hits each list contributes before fusion:
// more than the limit, so that a hit ranked low by one list but high by
// the other can make it.
func candidatesFor(limit int) int { return min(2*limit+10, 3*MaxRAGLimit) }

func noVectorsYet(pending int) string {
	if pending > 0 {
		return fmt.Sprintf("no embeddings are stored yet (%d entities are waiting for theirs); keyword results instead", pending)
	}
	return "no embeddings are stored for this scope; keyword results instead"
}

// queryVector embeds the query text. On failure it returns why, in words
// fit for the caller; the details (which may name internal addresses) go
// to the log.
//
// After a failure, queries skip the embedder for embedderRest (or until
// the worker gets an answer from it), so that a slow endpoint costs one
// query its timeout, not every query.
func (s *Service) queryVector(ctx context.Context, text string) (vec []float32, model, why string) {
	const down = "the embedder is not answering (details in the server log); keyword results instead"
	if s.now().UnixNano() < s.embedDown.Load() {
		return nil, "", down
	}
	e := s.emb()
	ctx, cancel := context.WithTimeout(ctx, queryEmbedTimeout)
	defer cancel()
	vecs, err := e.Embed(ctx, []string{text})
	if err == nil && (len(vecs) != 1 || len(vecs[0]) == 0 || len(vecs[0]) != e.Dimensions()) {
		err = fmt.Errorf("the embedder answered %d vectors for 1 text", len(vecs))
	}
	if err != nil {
		if ctx.Err() == nil || errors.Is(ctx.Err(), context.DeadlineExceeded) {
			s.embedDown.Store(s.now().Add(embedderRest).UnixNano())
		}
		s.logger.Warn("embeddings: could not embed a query; answering with keyword search", "error", err, "model", e.Model(), "skip_for", embedderRest)
		return nil, "", down
	}
	return vecs[0], e.Model(), ""
}

// vectorOf returns an entity's vector: the indexed one, or one computed
// now when it has none yet.
func (s *Service) vectorOf(ctx context.Context, e *domain.Entity) (vec []float32, model, why string) {
	if s.emb().Dimensions() > 0 {
		model := s.emb().Model()
		ix := s.vectors.get(e.OrganizationID, model)
		if err := ix.refresh(ctx, s.store); err == nil {
			if v := ix.vector(e.ID); v != nil {
				return v, model, ""
			}
		}
	}
	return s.queryVector(ctx, embedText(e))
}

// indexes returns the fresh vector indexes of the organizations and how
// many vectors they hold together.
func (s *Service) indexes(ctx context.Context, orgs []string, model string) ([]*vectorIndex, int, error) {
	out := make([]*vectorIndex, 0, len(orgs))
	total := 0
	for _, org := range orgs {
		ix := s.vectors.get(org, model)
		if err := ix.refresh(ctx, s.store); err != nil {
			return nil, 0, fmt.Errorf("load the vectors of organization %s: %w", org, err)
		}
		out = append(out, ix)
		total += ix.size()
	}
	return out, total, nil
}

// semanticHits scans the indexes and checks the best candidates against
// the store, dropping (and forgetting) those deleted since they were
// indexed, until want live hits are found or the candidates run out.
func (s *Service) semanticHits(ctx context.Context, a *Actor, ixs []*vectorIndex, q []float32, f scanFilter, want, k int) ([]*ragHit, error) {
	byOrg := map[string]*vectorIndex{}
	for _, ix := range ixs {
		byOrg[ix.org] = ix
	}
	for {
		var cands []candidate
		for _, ix := range ixs {
			cands = append(cands, ix.search(q, f, k)...)
		}
		slices.SortStableFunc(cands, func(x, y candidate) int {
			if x.score != y.score {
				if x.score > y.score {
					return -1
				}
				return 1
			}
			return strings.Compare(x.id, y.id)
		})
		exhausted := len(cands) < k
		cands = cands[:min(k, len(cands))]
		var hits []*ragHit
		for _, c := range cands {
			e, err := s.store.GetEntity(ctx, c.typ, c.id)
			if err != nil && !errors.Is(err, domain.ErrNotFound) {
				return nil, err
			}
			if err != nil || e.IsDeleted {
				byOrg[c.org].forget(c.id, c.seq)
				continue
			}
			if !a.canSee(e.OrganizationID) || (f.project != "" && e.ProjectID() != f.project) {
				continue
			}
			hits = append(hits, &ragHit{
				RAGHit: RAGHit{Type: e.Type, ID: e.ID, Name: e.Name(), Score: float64(c.score), Sources: []string{RAGSemantic}},
				entity: e,
			})
		}
		if len(hits) >= want || exhausted || k >= maxVerify {
			return hits, nil
		}
		k = min(4*k, maxVerify)
	}
}

// keywordHits runs the full-text search. All words must match there; when
// that finds nothing (a question, usually), the longest words are searched
// one by one and the lists fused, so that entities matching more of them
// rank first.
func (s *Service) keywordHits(ctx context.Context, q store.SearchQuery, n int) ([]*ragHit, error) {
	q.Limit = n
	all, err := s.searchHits(ctx, q)
	if err != nil || len(all) > 0 || len(keywordCandidates(q.Text)) < 2 {
		return all, err
	}
	return s.anyWordHits(ctx, q)
}

// anyWordHits searches the longest words of q.Text one by one and fuses
// the lists.
func (s *Service) anyWordHits(ctx context.Context, q store.SearchQuery) ([]*ragHit, error) {
	words := keywordCandidates(q.Text)
	if len(words) == 0 {
		return nil, nil
	}
	var lists [][]*ragHit
	for _, w := range words {
		q.Text = w
		hits, err := s.searchHits(ctx, q)
		if err != nil {
			return nil, err
		}
		lists = append(lists, hits)
	}
	return fuse(lists...), nil
}

func (s *Service) searchHits(ctx context.Context, q store.SearchQuery) ([]*ragHit, error) {
	found, _, err := s.store.SearchText(ctx, q)
	if errors.Is(err, domain.ErrInvalid) {
		return nil, nil // no words to search for ("???"): no keyword hits
	}
	if err != nil {
		return nil, err
	}
	hits := make([]*ragHit, len(found))
	for i, h := range found {
		hits[i] = &ragHit{RAGHit: RAGHit{Type: h.Type, ID: h.ID, Score: h.Score, Sources: []string{RAGKeyword}, Snippet: h.Snippet}}
	}
	return hits, nil
}

// keywordCandidates picks the distinct words of text most likely to say
// what it is about: the longest ones, at least three letters long.
func keywordCandidates(text string) []string {
	seen := map[string]bool{}
	var words []string
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		if utf8.RuneCountInString(w) >= 3 && !seen[w] {
			seen[w] = true
			words = append(words, w)
		}
	}
	slices.SortStableFunc(words, func(a, b string) int { return utf8.RuneCountInString(b) - utf8.RuneCountInString(a) })
	return words[:min(len(words), keywordWords)]
}

// fuse merges ranked lists by reciprocal rank fusion: each hit scores
// Σ 1/(rrfK + rank) over the lists it is in, and keeps the sources and
// the first snippet and entity found for it.
func fuse(lists ...[]*ragHit) []*ragHit {
	byID := map[string]*ragHit{}
	var out []*ragHit
	for _, list := range lists {
		for rank, h := range list {
			contrib := 1 / float64(rrfK+rank+1)
			f, ok := byID[h.ID]
			if !ok {
				c := *h
				c.Sources = nil
				c.Score = 0
				f = &c
				byID[h.ID] = f
				out = append(out, f)
			}
			f.Score += contrib
			for _, src := range h.Sources {
				if !slices.Contains(f.Sources, src) {
					f.Sources = append(f.Sources, src)
				}
			}
			if f.Snippet == "" {
				f.Snippet = h.Snippet
			}
			if f.entity == nil {
				f.entity = h.entity
			}
		}
	}
	slices.SortStableFunc(out, func(x, y *ragHit) int {
		if x.Score != y.Score {
			if x.Score > y.Score {
				return -1
			}
			return 1
		}
		return strings.Compare(x.ID, y.ID)
	})
	return out
}

// finish keeps the best limit hits, loads the entities not loaded yet
// (dropping any deleted meanwhile), fills in names and snippets, and
// rounds scores for display.
func (s *Service) finish(ctx context.Context, a *Actor, res *RAGResult, hits []*ragHit, limit int) (*RAGResult, error) {
	for _, h := range hits {
		if len(res.Hits) == limit {
			break
		}
		e := h.entity
		if e == nil {
			var err error
			e, err = s.store.GetEntity(ctx, h.Type, h.ID)
			if errors.Is(err, domain.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, err
			}
		}
		if e.IsDeleted || !a.canSee(e.OrganizationID) {
			continue
		}
		out := h.RAGHit
		out.Name = shorten(e.Name(), 120)
		if out.Snippet == "" {
			out.Snippet = excerpt(e)
		}
		out.Score = math.Round(out.Score*1e4) / 1e4
		res.Hits = append(res.Hits, out)
	}
	return res, nil
}

// excerpt is the start of an entity's text other than its name.
func excerpt(e *domain.Entity) string {
	k, err := domain.KindOf(e.Type)
	if err != nil {
		return ""
	}
	for _, f := range k.Fields {
		if f.Searchable && f.Name != k.NameField && f.Name != "external_id" {
			if v := strings.Join(strings.Fields(e.Str(f.Name)), " "); v != "" {
				return shorten(v, 200)
			}
		}
	}
	return ""
}

// shorten cuts s to at most n characters, marking the cut.
func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
