// Package semantic is the retrieval of atoms (query_tool rag_search and
// similarity): in-memory vector indexes fused with full-text search, and
// the background worker that embeds written entities.
package semantic

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/embed"
	"github.com/atomcp/atomcp/internal/store"
)

// The modes of Search.
const (
	ModeSemantic = "semantic" // vector similarity only
	ModeKeyword  = "keyword"  // full-text search only
	ModeHybrid   = "hybrid"   // both, fused by reciprocal rank
	ModeAuto     = "auto"     // hybrid when vectors exist, else keyword
)

// Modes lists the accepted modes, for schemas and error messages.
var Modes = []string{ModeSemantic, ModeKeyword, ModeHybrid, ModeAuto}

// Limits of Search and Similar.
const (
	DefaultLimit = 10
	MaxLimit     = 100
	// MaxTextRunes bounds the query text: a question, not a document.
	MaxTextRunes = 4000
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

// Engine is semantic search over one store: the vector indexes, the
// embedder, and the worker that keeps the stored vectors up to date. It
// is safe for concurrent use.
type Engine struct {
	store    store.Store
	embedder embed.Embedder
	logger   *slog.Logger
	now      func() time.Time

	vectors vectorIndexes    // per organization and model, loaded lazily
	wake    wakeSignal       // poked after writes; wakes Run
	hook    func(embedEvent) // tests: told of each worker step
	poll    time.Duration    // 0: the default poll interval
	down    atomic.Int64     // unix ns until which queries skip a failing embedder
}

// Config configures an Engine; the zero value is ready.
type Config struct {
	Embedder embed.Embedder   // nil: the local embedder, embed.NewLocal(0)
	Logger   *slog.Logger     // events worth an operator's attention; nil: discarded
	Now      func() time.Time // nil: time.Now in UTC
}

// New returns an Engine on the store.
func New(st store.Store, c Config) *Engine {
	eng := &Engine{store: st, embedder: c.Embedder, logger: c.Logger, now: c.Now}
	if eng.embedder == nil {
		eng.embedder = embed.NewLocal(0)
	}
	if eng.logger == nil {
		eng.logger = slog.New(slog.DiscardHandler)
	}
	if eng.now == nil {
		eng.now = func() time.Time { return time.Now().UTC() }
	}
	return eng
}

// Query is a retrieval query.
type Query struct {
	Text  string
	Types []domain.EntityType // empty: every type
	Mode  string              // semantic|keyword|hybrid|auto; empty means auto
	Limit int                 // 1..MaxLimit; 0 means DefaultLimit
}

// Scope is where a query looks: the live entities of these organizations
// (of one project, when ProjectID is set) that CanSee lets through.
type Scope struct {
	Organizations []string
	ProjectID     string
	CanSee        func(organizationID string) bool
}

// Hit is one result.
type Hit struct {
	Type    domain.EntityType `json:"entity_type"`
	ID      string            `json:"id"`
	Name    string            `json:"name"`
	Score   float64           `json:"score"`
	Sources []string          `json:"matched_by"`
	Snippet string            `json:"snippet,omitempty"`
}

// Result is the answer of Search and Similar.
type Result struct {
	// Mode is the mode that produced the hits: the one asked for, or
	// "keyword" when vectors could not be used (then Fallback says why).
	Mode     string `json:"mode"`
	Fallback string `json:"fallback,omitempty"`
	// Pending counts the entities in scope still waiting for their
	// embedding (up to MaxPendingCount): semantic results may miss them.
	Pending int   `json:"pending_embeddings,omitempty"`
	Hits    []Hit `json:"results"`
}

// ragHit is a hit being assembled: Score is the list's own score until
// fusion.
type ragHit struct {
	Hit
	entity *domain.Entity // loaded when verified
}

// Check reports why Search would refuse q, if it would: callers check
// before resolving the scope, so that a bad query is reported first.
func (q Query) Check() error {
	_, err := q.checked()
	return err
}

// checked returns q with the text trimmed, the mode and limit defaulted.
func (q Query) checked() (Query, error) {
	q.Text = strings.TrimSpace(q.Text)
	if q.Text == "" {
		return q, fmt.Errorf("%w: rag_search needs text: the question or words to search for", domain.ErrInvalid)
	}
	if n := utf8.RuneCountInString(q.Text); n > MaxTextRunes {
		return q, fmt.Errorf("%w: text is %d characters long; at most %d are accepted", domain.ErrInvalid, n, MaxTextRunes)
	}
	mode := strings.ToLower(strings.TrimSpace(q.Mode))
	if mode == "" {
		mode = ModeAuto
	}
	if !slices.Contains(Modes, mode) {
		return q, fmt.Errorf("%w: unknown mode %q; accepted: %s", domain.ErrInvalid, q.Mode, strings.Join(Modes, ", "))
	}
	q.Mode = mode
	limit, err := ragLimit(q.Limit)
	if err != nil {
		return q, err
	}
	q.Limit = limit
	return q, checkTypes(q.Types)
}

// Search finds the live entities of the scope that match the query text:
// by meaning (vector similarity), by words (full-text search), or both
// fused by reciprocal rank. When the embedder fails, or no vectors are
// stored yet, it answers with keyword results and says why in Fallback.
func (eng *Engine) Search(ctx context.Context, q Query, sc Scope) (*Result, error) {
	q, err := q.checked()
	if err != nil {
		return nil, err
	}
	text, mode, limit := q.Text, q.Mode, q.Limit
	res := &Result{Mode: mode, Hits: []Hit{}}
	if len(sc.Organizations) == 0 {
		if mode == ModeAuto {
			res.Mode = ModeKeyword
		}
		return res, nil
	}
	if res.Pending, err = eng.store.CountQueuedEmbeddings(ctx, sc.Organizations, MaxPendingCount); err != nil {
		return nil, err
	}
	filter := scanFilter{types: q.Types, project: sc.ProjectID}
	keyword := func() ([]*ragHit, error) {
		return eng.keywordHits(ctx, store.SearchQuery{Types: q.Types, OrganizationIDs: sc.Organizations, ProjectID: sc.ProjectID, Text: text}, candidatesFor(limit))
	}
	if mode == ModeKeyword {
		hits, err := keyword()
		if err != nil {
			return nil, err
		}
		return eng.finish(ctx, sc.CanSee, res, hits, limit)
	}

	// Auto looks for vectors before asking the embedder, so that a server
	// without any pays nothing for them.
	if mode == ModeAuto && eng.embedder.Dimensions() > 0 {
		_, total, err := eng.indexes(ctx, sc.Organizations, eng.embedder.Model())
		if err != nil {
			return nil, err
		}
		if total == 0 {
			res.Mode = ModeKeyword
			hits, err := keyword()
			if err != nil {
				return nil, err
			}
			return eng.finish(ctx, sc.CanSee, res, hits, limit)
		}
	}
	var semantic []*ragHit
	vec, model, why := eng.queryVector(ctx, text)
	if why == "" {
		ixs, total, err := eng.indexes(ctx, sc.Organizations, model)
		if err != nil {
			return nil, err
		}
		if total == 0 {
			why = noVectorsYet(res.Pending)
			if mode == ModeAuto {
				why = ""
			}
			res.Mode, mode = ModeKeyword, ModeKeyword
		} else if semantic, err = eng.semanticHits(ctx, sc.CanSee, ixs, vec, filter, limit, candidatesFor(limit)); err != nil {
			return nil, err
		}
	}
	if why != "" {
		res.Mode, res.Fallback, mode = ModeKeyword, why, ModeKeyword
	}
	if mode == ModeAuto {
		mode, res.Mode = ModeHybrid, ModeHybrid
	}
	switch mode {
	case ModeSemantic:
		return eng.finish(ctx, sc.CanSee, res, semantic, limit)
	case ModeKeyword:
		hits, err := keyword()
		if err != nil {
			return nil, err
		}
		return eng.finish(ctx, sc.CanSee, res, hits, limit)
	}
	kw, err := keyword()
	if err != nil {
		return nil, err
	}
	return eng.finish(ctx, sc.CanSee, res, fuse(semantic, kw), limit)
}

// CheckSimilar reports why Similar would refuse types and limit, if it
// would: callers check before resolving the entity, so that a bad query
// is reported first.
func CheckSimilar(types []domain.EntityType, limit int) error {
	if _, err := ragLimit(limit); err != nil {
		return err
	}
	return checkTypes(types)
}

// Similar finds the live entities whose text is most similar to e's (never
// e itself) within e's organization, of those canSee lets through. Without
// a vector for e (the embedder is down, or nothing is embedded yet) it
// answers with a keyword search for e's words, and says so in Fallback.
func (eng *Engine) Similar(ctx context.Context, e *domain.Entity, types []domain.EntityType, limit int, canSee func(organizationID string) bool) (*Result, error) {
	if err := CheckSimilar(types, limit); err != nil {
		return nil, err
	}
	limit, _ = ragLimit(limit)
	orgs := []string{e.OrganizationID}
	res := &Result{Mode: ModeSemantic, Hits: []Hit{}}
	var err error
	if res.Pending, err = eng.store.CountQueuedEmbeddings(ctx, orgs, MaxPendingCount); err != nil {
		return nil, err
	}
	vec, model, why := eng.vectorOf(ctx, e)
	if why == "" {
		ixs, total, err := eng.indexes(ctx, orgs, model)
		if err != nil {
			return nil, err
		}
		if total == 0 {
			why = noVectorsYet(res.Pending)
		} else {
			hits, err := eng.semanticHits(ctx, canSee, ixs, vec, scanFilter{types: types, exclude: e.ID}, limit, candidatesFor(limit))
			if err != nil {
				return nil, err
			}
			return eng.finish(ctx, canSee, res, hits, limit)
		}
	}
	res.Mode, res.Fallback = ModeKeyword, why
	// Any word: the entity's text matches all of its own words, and
	// rarely anything else does.
	hits, err := eng.anyWordHits(ctx, store.SearchQuery{Types: types, OrganizationIDs: orgs, Text: embedText(e), Limit: candidatesFor(limit) + 1})
	if err != nil {
		return nil, err
	}
	hits = slices.DeleteFunc(hits, func(h *ragHit) bool { return h.ID == e.ID })
	return eng.finish(ctx, canSee, res, hits, limit)
}

func ragLimit(limit int) (int, error) {
	if limit == 0 {
		return DefaultLimit, nil
	}
	if limit < 1 || limit > MaxLimit {
		return 0, fmt.Errorf("%w: limit %d is out of range; accepted: 1 to %d (default %d)", domain.ErrInvalid, limit, MaxLimit, DefaultLimit)
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
func candidatesFor(limit int) int { return min(2*limit+10, 3*MaxLimit) }

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
func (eng *Engine) queryVector(ctx context.Context, text string) (vec []float32, model, why string) {
	const down = "the embedder is not answering (details in the server log); keyword results instead"
	if eng.now().UnixNano() < eng.down.Load() {
		return nil, "", down
	}
	e := eng.embedder
	ctx, cancel := context.WithTimeout(ctx, queryEmbedTimeout)
	defer cancel()
	vecs, err := e.Embed(ctx, []string{text})
	if err == nil && (len(vecs) != 1 || len(vecs[0]) == 0 || len(vecs[0]) != e.Dimensions()) {
		err = fmt.Errorf("the embedder answered %d vectors for 1 text", len(vecs))
	}
	if err != nil {
		if ctx.Err() == nil || errors.Is(ctx.Err(), context.DeadlineExceeded) {
			eng.down.Store(eng.now().Add(embedderRest).UnixNano())
		}
		eng.logger.Warn("embeddings: could not embed a query; answering with keyword search", "error", err, "model", e.Model(), "skip_for", embedderRest)
		return nil, "", down
	}
	return vecs[0], e.Model(), ""
}

// vectorOf returns an entity's vector: the indexed one, or one computed
// now when it has none yet.
func (eng *Engine) vectorOf(ctx context.Context, e *domain.Entity) (vec []float32, model, why string) {
	if eng.embedder.Dimensions() > 0 {
		model := eng.embedder.Model()
		ix := eng.vectors.get(e.OrganizationID, model)
		if err := ix.refresh(ctx, eng.store); err == nil {
			if v := ix.vector(e.ID); v != nil {
				return v, model, ""
			}
		}
	}
	return eng.queryVector(ctx, embedText(e))
}

// indexes returns the fresh vector indexes of the organizations and how
// many vectors they hold together.
func (eng *Engine) indexes(ctx context.Context, orgs []string, model string) ([]*vectorIndex, int, error) {
	out := make([]*vectorIndex, 0, len(orgs))
	total := 0
	for _, org := range orgs {
		ix := eng.vectors.get(org, model)
		if err := ix.refresh(ctx, eng.store); err != nil {
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
func (eng *Engine) semanticHits(ctx context.Context, canSee func(string) bool, ixs []*vectorIndex, q []float32, f scanFilter, want, k int) ([]*ragHit, error) {
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
			e, err := eng.store.GetEntity(ctx, c.typ, c.id)
			if err != nil && !errors.Is(err, domain.ErrNotFound) {
				return nil, err
			}
			if err != nil || e.IsDeleted {
				byOrg[c.org].forget(c.id, c.seq)
				continue
			}
			if !canSee(e.OrganizationID) || (f.project != "" && e.ProjectID() != f.project) {
				continue
			}
			hits = append(hits, &ragHit{
				Hit:    Hit{Type: e.Type, ID: e.ID, Name: e.Name(), Score: float64(c.score), Sources: []string{ModeSemantic}},
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
func (eng *Engine) keywordHits(ctx context.Context, q store.SearchQuery, n int) ([]*ragHit, error) {
	q.Limit = n
	all, err := eng.searchHits(ctx, q)
	if err != nil || len(all) > 0 || len(keywordCandidates(q.Text)) < 2 {
		return all, err
	}
	return eng.anyWordHits(ctx, q)
}

// anyWordHits searches the longest words of q.Text one by one and fuses
// the lists.
func (eng *Engine) anyWordHits(ctx context.Context, q store.SearchQuery) ([]*ragHit, error) {
	words := keywordCandidates(q.Text)
	if len(words) == 0 {
		return nil, nil
	}
	var lists [][]*ragHit
	for _, w := range words {
		q.Text = w
		hits, err := eng.searchHits(ctx, q)
		if err != nil {
			return nil, err
		}
		lists = append(lists, hits)
	}
	return fuse(lists...), nil
}

func (eng *Engine) searchHits(ctx context.Context, q store.SearchQuery) ([]*ragHit, error) {
	found, _, err := eng.store.SearchText(ctx, q)
	if errors.Is(err, domain.ErrInvalid) {
		return nil, nil // no words to search for ("???"): no keyword hits
	}
	if err != nil {
		return nil, err
	}
	hits := make([]*ragHit, len(found))
	for i, h := range found {
		hits[i] = &ragHit{Hit: Hit{Type: h.Type, ID: h.ID, Score: h.Score, Sources: []string{ModeKeyword}, Snippet: h.Snippet}}
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
func (eng *Engine) finish(ctx context.Context, canSee func(string) bool, res *Result, hits []*ragHit, limit int) (*Result, error) {
	for _, h := range hits {
		if len(res.Hits) == limit {
			break
		}
		e := h.entity
		if e == nil {
			var err error
			e, err = eng.store.GetEntity(ctx, h.Type, h.ID)
			if errors.Is(err, domain.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, err
			}
		}
		if e.IsDeleted || !canSee(e.OrganizationID) {
			continue
		}
		out := h.Hit
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

// Filter keeps the hits for which keep is true (the old server's
// similarity_threshold and exclude_id, applied by the tools).
func (r *Result) Filter(keep func(t domain.EntityType, id string, score float64) bool) {
	kept := r.Hits[:0]
	for _, h := range r.Hits {
		if keep(h.Type, h.ID, h.Score) {
			kept = append(kept, h)
		}
	}
	r.Hits = kept
}
