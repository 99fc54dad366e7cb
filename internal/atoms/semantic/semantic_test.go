package semantic_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atomcp/atomcp/internal/atoms"
	"github.com/atomcp/atomcp/internal/atoms/semantic"
	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/embed"
	"github.com/atomcp/atomcp/internal/store"
	"github.com/atomcp/atomcp/internal/store/sqlite"
)

// semEnv is a service on a fresh SQLite store with one organization, a
// project "Rover" with a document, and helpers to write and search.
type semEnv struct {
	t       *testing.T
	ctx     context.Context
	st      *sqlite.Store
	svc     *atoms.Service
	a       *atoms.Actor
	org     *domain.Entity
	project *domain.Entity
	doc     *domain.Entity
}

func openStore(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if _, err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return st
}

func newSemEnv(t *testing.T, opts ...atoms.Option) *semEnv {
	t.Helper()
	st := openStore(t, filepath.Join(t.TempDir(), "atomcp.db"))
	e := &semEnv{t: t, ctx: t.Context(), st: st, svc: atoms.New(st, opts...)}
	var err error
	if e.a, err = e.svc.Actor(e.ctx, atoms.LocalCaller); err != nil {
		t.Fatal(err)
	}
	e.org = e.create(domain.Organization, map[string]any{"name": "Acme"})
	e.project = e.create(domain.Project, map[string]any{"name": "Rover", "organization_id": e.org.ID})
	e.doc = e.create(domain.Document, map[string]any{"name": "Spec", "project_id": e.project.ID})
	return e
}

func (e *semEnv) create(t domain.EntityType, data map[string]any) *domain.Entity {
	e.t.Helper()
	ent, err := e.svc.CreateEntity(e.ctx, e.a, t, data)
	if err != nil {
		e.t.Fatalf("create %s %v: %v", t, data, err)
	}
	return ent
}

func (e *semEnv) req(name, description string) *domain.Entity {
	e.t.Helper()
	return e.create(domain.Requirement, map[string]any{"name": name, "description": description, "document_id": e.doc.ID})
}

// drain runs the embedding worker until the queue is empty and returns
// how many entities got a vector.
func (e *semEnv) drain(svc *atoms.Service) int {
	e.t.Helper()
	if err := svc.Semantic().Prepare(e.ctx); err != nil {
		e.t.Fatal(err)
	}
	total := 0
	for range 1000 {
		n, err := svc.Semantic().Step(e.ctx)
		if err != nil {
			e.t.Fatal(err)
		}
		total += n
		if q, _ := e.st.EmbeddingQueue(e.ctx, 1); len(q) == 0 {
			return total
		}
	}
	e.t.Fatal("the embedding queue does not drain")
	return 0
}

func (e *semEnv) rag(p atoms.RAGParams) *semantic.Result {
	e.t.Helper()
	res, err := e.svc.RAGSearch(e.ctx, e.a, p)
	if err != nil {
		e.t.Fatalf("RAGSearch(%+v): %v", p, err)
	}
	return res
}

func hitIDs(res *semantic.Result) []string {
	out := []string{}
	for _, h := range res.Hits {
		out = append(out, h.ID)
	}
	return out
}

func queued(t *testing.T, st store.Store) []string {
	t.Helper()
	q, err := st.EmbeddingQueue(t.Context(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range q {
		out = append(out, e.ID)
	}
	return out
}

// fakeEmbedder wraps the local embedder, counts what it is asked, and can
// fail on demand.
type fakeEmbedder struct {
	inner  embed.Embedder
	mu     sync.Mutex
	texts  []string
	calls  int
	err    error  // when set, Embed fails with it
	reject string // texts containing it are refused with embed.ErrRejected
}

func (f *fakeEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	for _, t := range texts {
		if f.reject != "" && strings.Contains(t, f.reject) {
			return nil, errors.Join(embed.ErrRejected, errors.New("input too long"))
		}
	}
	f.texts = append(f.texts, texts...)
	return f.inner.Embed(ctx, texts)
}
func (f *fakeEmbedder) Model() string   { return "fake/" + f.inner.Model() }
func (f *fakeEmbedder) Dimensions() int { return f.inner.Dimensions() }

func (f *fakeEmbedder) set(err error) {
	f.mu.Lock()
	f.err = err
	f.mu.Unlock()
}

func (f *fakeEmbedder) callCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

func (f *fakeEmbedder) asked() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.texts
	f.texts = nil
	return out
}

// A corpus of requirements on unrelated subjects.
func (e *semEnv) corpus() map[string]*domain.Entity {
	return map[string]*domain.Entity{
		"battery":  e.req("Battery thermal limit", "The battery pack shall stay below 45 °C while charging."),
		"cooling":  e.req("Cell cooling", "Coolant flows around each battery cell to keep it cool."),
		"password": e.req("Password storage", "Passwords are stored encrypted with a salted hash."),
		"login":    e.req("Operator login", "Operators sign in with single sign-on and a second factor."),
		"brake":    e.req("Braking distance", "From 100 km/h the rover stops within 40 metres."),
	}
}

func TestEmbedWorkerStoresVectorsAndSkipsUnchangedText(t *testing.T) {
	fake := &fakeEmbedder{inner: embed.NewLocal(64)}
	e := newSemEnv(t, atoms.WithEmbedder(fake))
	r := e.req("Battery thermal limit", "Stay below 45 °C.")
	// The personal organization, Acme, the project, the document, the requirement.
	if got := e.drain(e.svc); got != 5 {
		t.Fatalf("embedded %d entities; want 5", got)
	}
	asked := fake.asked()
	if !slices.Contains(asked, "Battery thermal limit\nStay below 45 °C.") {
		t.Fatalf("the embedder was asked %q; want the requirement's name and description", asked)
	}
	first, err := e.st.GetEmbedding(e.ctx, r.ID)
	if err != nil || first.Model != fake.Model() || first.ProjectID != e.project.ID || len(first.Vector) != 64 {
		t.Fatalf("stored embedding = %+v, %v", first, err)
	}

	// A status change queues the entity again, but its text is the same:
	// the vector is stored again (new seq) without asking the embedder.
	if _, err := e.svc.UpdateEntity(e.ctx, e.a, domain.Requirement, r.ID, map[string]any{"status": "approved"}); err != nil {
		t.Fatal(err)
	}
	if got := e.drain(e.svc); got != 1 {
		t.Fatalf("after a status change, embedded %d; want 1", got)
	}
	if asked := fake.asked(); len(asked) != 0 {
		t.Fatalf("the embedder was asked %q for an unchanged text", asked)
	}
	again, _ := e.st.GetEmbedding(e.ctx, r.ID)
	if again.Seq <= first.Seq || !slices.Equal(again.Vector, first.Vector) {
		t.Fatalf("re-stored vector: seq %d after %d, same vector %v", again.Seq, first.Seq, slices.Equal(again.Vector, first.Vector))
	}

	// A new description is embedded.
	if _, err := e.svc.UpdateEntity(e.ctx, e.a, domain.Requirement, r.ID, map[string]any{"description": "Never above 60 °C."}); err != nil {
		t.Fatal(err)
	}
	e.drain(e.svc)
	if asked := fake.asked(); !slices.Equal(asked, []string{"Battery thermal limit\nNever above 60 °C."}) {
		t.Fatalf("after a text change the embedder was asked %q", asked)
	}
}

func TestEmbedWorkerFailureKeepsEntitiesQueued(t *testing.T) {
	fake := &fakeEmbedder{inner: embed.NewLocal(64)}
	e := newSemEnv(t, atoms.WithEmbedder(fake))
	e.drain(e.svc)
	fake.set(errors.New("connection refused"))
	r := e.req("Battery thermal limit", "") // the write succeeds
	if n, err := e.svc.Semantic().Step(e.ctx); err == nil || n != 0 {
		t.Fatalf("EmbedStep with a failing embedder = %d, %v; want an error", n, err)
	}
	if q := queued(t, e.st); !slices.Equal(q, []string{r.ID}) {
		t.Fatalf("queue = %v; want the requirement still waiting", q)
	}
	fake.set(nil)
	if got := e.drain(e.svc); got != 1 {
		t.Fatalf("after recovery, embedded %d; want 1", got)
	}
}

func TestEmbedWorkerSkipsRejectedTextOnly(t *testing.T) {
	fake := &fakeEmbedder{inner: embed.NewLocal(64), reject: "POISON"}
	e := newSemEnv(t, atoms.WithEmbedder(fake))
	good := e.req("Battery thermal limit", "")
	bad := e.req("POISON", strings.Repeat("very long ", 100))
	e.drain(e.svc) // does not stall on the rejected text
	if _, err := e.st.GetEmbedding(e.ctx, good.ID); err != nil {
		t.Fatalf("the good requirement has no vector: %v", err)
	}
	if _, err := e.st.GetEmbedding(e.ctx, bad.ID); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("the rejected requirement has a vector: %v", err)
	}
	// Still found by keyword.
	if res := e.rag(atoms.RAGParams{Text: "poison", Mode: "keyword"}); !slices.Contains(hitIDs(res), bad.ID) {
		t.Fatalf("keyword search for the rejected requirement = %v", hitIDs(res))
	}
}

func TestEmbedWorkerDropsVectorsOfDeletedEntities(t *testing.T) {
	e := newSemEnv(t)
	gone := e.req("Battery thermal limit", "")
	queuedThenGone := e.req("Battery cooling", "")
	e.drain(e.svc)
	// Queued, then deleted for good before the worker ran.
	if _, err := e.svc.UpdateEntity(e.ctx, e.a, domain.Requirement, queuedThenGone.ID, map[string]any{"name": "Battery coolant"}); err != nil {
		t.Fatal(err)
	}
	for _, r := range []*domain.Entity{gone, queuedThenGone} {
		if _, err := e.svc.DeleteEntity(e.ctx, e.a, domain.Requirement, r.ID, true); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.svc.Semantic().Step(e.ctx); err != nil {
		t.Fatal(err)
	}
	if q := queued(t, e.st); len(q) != 0 {
		t.Fatalf("queue = %v; want the deleted entity dequeued", q)
	}
	for _, r := range []*domain.Entity{gone, queuedThenGone} {
		if _, err := e.st.GetEmbedding(e.ctx, r.ID); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("vector of a deleted requirement: %v", err)
		}
	}
	res := e.rag(atoms.RAGParams{Text: "battery", Mode: "semantic", Limit: 100})
	if ids := hitIDs(res); slices.Contains(ids, gone.ID) || slices.Contains(ids, queuedThenGone.ID) {
		t.Fatalf("semantic search finds deleted requirements: %+v", res.Hits)
	}
	// The start-up prune removed the row itself.
	if err := e.svc.Semantic().Prepare(e.ctx); err != nil {
		t.Fatal(err)
	}
	n, err := e.st.PruneEmbeddings(e.ctx, embed.NewLocal(0).Model())
	if err != nil || n != 0 {
		t.Fatalf("rows left for a second prune: %d, %v", n, err)
	}
}

func TestRAGSearchModes(t *testing.T) {
	e := newSemEnv(t)
	c := e.corpus()
	test := e.create(domain.Test, map[string]any{"title": "Battery overheating test", "project_id": e.project.ID})
	e.drain(e.svc)

	// Semantic: no shared exact word needed ("cool" / "cooling", "charge" / "charging").
	res := e.rag(atoms.RAGParams{Text: "keep the battery cool while it charges", Mode: "semantic", Types: []domain.EntityType{domain.Requirement}})
	if res.Mode != "semantic" || res.Fallback != "" || len(res.Hits) == 0 {
		t.Fatalf("semantic = %+v", res)
	}
	if top := res.Hits[0].ID; top != c["battery"].ID && top != c["cooling"].ID {
		t.Fatalf("semantic top hit %q; want a battery requirement", res.Hits[0].Name)
	}
	if h := res.Hits[0]; !slices.Equal(h.Sources, []string{"semantic"}) || h.Score <= 0 || h.Score > 1 || h.Snippet == "" || h.Type != domain.Requirement {
		t.Fatalf("semantic hit = %+v", h)
	}
	if last := res.Hits[len(res.Hits)-1]; last.Score > res.Hits[0].Score {
		t.Fatal("semantic hits are not best first")
	}

	// Keyword: the words must occur; snippets are highlighted.
	res = e.rag(atoms.RAGParams{Text: "salted hash", Mode: "keyword"})
	if res.Mode != "keyword" || !slices.Equal(hitIDs(res), []string{c["password"].ID}) || !strings.Contains(res.Hits[0].Snippet, "**salted**") {
		t.Fatalf("keyword = %+v", res)
	}
	if !slices.Equal(res.Hits[0].Sources, []string{"keyword"}) || res.Hits[0].Name != "Password storage" {
		t.Fatalf("keyword hit = %+v", res.Hits[0])
	}
	// A question whose words do not all occur still finds by any word.
	res = e.rag(atoms.RAGParams{Text: "how are passwords protected?", Mode: "keyword"})
	if len(res.Hits) == 0 || res.Hits[0].ID != c["password"].ID {
		t.Fatalf("keyword question = %v", hitIDs(res))
	}

	// Hybrid: fused, a hit found both ways says so and ranks first.
	res = e.rag(atoms.RAGParams{Text: "battery thermal", Mode: "hybrid"})
	if res.Mode != "hybrid" || res.Hits[0].ID != c["battery"].ID || !slices.Equal(res.Hits[0].Sources, []string{"semantic", "keyword"}) {
		t.Fatalf("hybrid = %+v", res)
	}
	// Auto is hybrid when vectors exist.
	if res := e.rag(atoms.RAGParams{Text: "battery thermal"}); res.Mode != "hybrid" || res.Pending != 0 {
		t.Fatalf("auto = %+v", res)
	}

	// Types and limit.
	res = e.rag(atoms.RAGParams{Text: "battery", Mode: "semantic", Types: []domain.EntityType{domain.Test}})
	if !slices.Equal(hitIDs(res), []string{test.ID}) {
		t.Fatalf("tests only = %v", hitIDs(res))
	}
	if res := e.rag(atoms.RAGParams{Text: "battery", Mode: "hybrid", Limit: 2}); len(res.Hits) != 2 {
		t.Fatalf("limit 2 gave %d hits", len(res.Hits))
	}
}

func TestRAGSearchScope(t *testing.T) {
	e := newSemEnv(t)
	mine := e.req("Battery thermal limit", "")
	other := e.create(domain.Project, map[string]any{"name": "Drone", "organization_id": e.org.ID})
	otherDoc := e.create(domain.Document, map[string]any{"name": "Drone spec", "project_id": other.ID})
	inOther := e.create(domain.Requirement, map[string]any{"name": "Battery thermal limit of the drone", "document_id": otherDoc.ID})

	// Another user's organization, never visible to e.a.
	bob, err := e.svc.Actor(e.ctx, atoms.Caller{Issuer: "https://idp.example", Subject: "bob", Email: "bob@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	bobOrg, err := e.svc.CreateEntity(e.ctx, bob, domain.Organization, map[string]any{"name": "Bob corp"})
	if err != nil {
		t.Fatal(err)
	}
	bobProject, _ := e.svc.CreateEntity(e.ctx, bob, domain.Project, map[string]any{"name": "Secret", "organization_id": bobOrg.ID})
	bobDoc, _ := e.svc.CreateEntity(e.ctx, bob, domain.Document, map[string]any{"name": "Secret spec", "project_id": bobProject.ID})
	secret, err := e.svc.CreateEntity(e.ctx, bob, domain.Requirement, map[string]any{"name": "Battery thermal limit (secret)", "document_id": bobDoc.ID})
	if err != nil {
		t.Fatal(err)
	}
	e.drain(e.svc)

	for _, mode := range semantic.Modes {
		res := e.rag(atoms.RAGParams{Text: "battery thermal limit", Mode: mode})
		ids := hitIDs(res)
		if slices.Contains(ids, secret.ID) {
			t.Fatalf("%s: another organization's requirement is visible", mode)
		}
		if !slices.Contains(ids, mine.ID) || !slices.Contains(ids, inOther.ID) {
			t.Fatalf("%s: hits %v; want both projects' requirements", mode, ids)
		}
		res = e.rag(atoms.RAGParams{Text: "battery thermal limit", Mode: mode, ProjectID: "Rover"})
		if ids := hitIDs(res); !slices.Contains(ids, mine.ID) || slices.Contains(ids, inOther.ID) {
			t.Fatalf("%s in project Rover: hits %v", mode, ids)
		}
	}
	// Bob sees his own.
	res, err := e.svc.RAGSearch(e.ctx, bob, atoms.RAGParams{Text: "battery thermal limit", Mode: "semantic", Types: []domain.EntityType{domain.Requirement}})
	if err != nil || !slices.Equal(hitIDs(res), []string{secret.ID}) {
		t.Fatalf("Bob's search = %v, %v", res, err)
	}
	// A project of another organization is "not found".
	_, err = e.svc.RAGSearch(e.ctx, e.a, atoms.RAGParams{Text: "battery", ProjectID: bobProject.ID})
	if !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("search in Bob's project = %v; want not found", err)
	}
}

func TestRAGSearchNeverShowsDeleted(t *testing.T) {
	e := newSemEnv(t)
	c := e.corpus()
	e.drain(e.svc)
	// Load the index first, so that the deletes happen after it has the vectors.
	if res := e.rag(atoms.RAGParams{Text: "battery", Mode: "semantic"}); !slices.Contains(hitIDs(res), c["battery"].ID) {
		t.Fatalf("before the delete: %v", hitIDs(res))
	}
	if _, err := e.svc.DeleteEntity(e.ctx, e.a, domain.Requirement, c["battery"].ID, false); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.DeleteEntity(e.ctx, e.a, domain.Requirement, c["cooling"].ID, true); err != nil {
		t.Fatal(err)
	}
	for _, mode := range semantic.Modes {
		ids := hitIDs(e.rag(atoms.RAGParams{Text: "battery cooling thermal", Mode: mode, Limit: 100}))
		if slices.Contains(ids, c["battery"].ID) || slices.Contains(ids, c["cooling"].ID) {
			t.Fatalf("%s: deleted requirements among %v", mode, ids)
		}
	}
	sim, err := e.svc.Similar(e.ctx, e.a, atoms.EntityRef{Type: domain.Requirement, ID: c["password"].ID}, nil, 100)
	if err != nil {
		t.Fatal(err)
	}
	if ids := hitIDs(sim); slices.Contains(ids, c["battery"].ID) || slices.Contains(ids, c["cooling"].ID) {
		t.Fatalf("similar: deleted requirements among %v", ids)
	}
	// A restore brings it back once the worker has seen it.
	if _, err := e.svc.RestoreEntity(e.ctx, e.a, domain.Requirement, c["battery"].ID); err != nil {
		t.Fatal(err)
	}
	e.drain(e.svc)
	if ids := hitIDs(e.rag(atoms.RAGParams{Text: "battery thermal", Mode: "semantic"})); !slices.Contains(ids, c["battery"].ID) {
		t.Fatalf("after restore: %v", ids)
	}
}

func TestRAGSearchWithoutVectors(t *testing.T) {
	e := newSemEnv(t)
	r := e.req("Battery thermal limit", "")
	// Nothing embedded yet: five entities wait (two organizations, the
	// project, the document and the requirement).
	res := e.rag(atoms.RAGParams{Text: "battery"})
	if res.Mode != "keyword" || res.Fallback != "" || res.Pending != 5 || !slices.Equal(hitIDs(res), []string{r.ID}) {
		t.Fatalf("auto without vectors = %+v", res)
	}
	for _, mode := range []string{"semantic", "hybrid"} {
		res := e.rag(atoms.RAGParams{Text: "battery", Mode: mode})
		if res.Mode != "keyword" || !strings.Contains(res.Fallback, "no embeddings are stored yet (5 entities are waiting") || !slices.Equal(hitIDs(res), []string{r.ID}) {
			t.Fatalf("%s without vectors = %+v", mode, res)
		}
	}
}

func TestRAGSearchBadInput(t *testing.T) {
	e := newSemEnv(t)
	for _, c := range []struct {
		p    atoms.RAGParams
		want string
	}{
		{atoms.RAGParams{Text: "  "}, "needs text"},
		{atoms.RAGParams{Text: strings.Repeat("x", semantic.MaxTextRunes+1)}, "at most 4000"},
		{atoms.RAGParams{Text: "x", Mode: "fuzzy"}, `unknown mode "fuzzy"; accepted: semantic, keyword, hybrid, auto`},
		{atoms.RAGParams{Text: "x", Limit: -1}, "limit -1 is out of range; accepted: 1 to 100"},
		{atoms.RAGParams{Text: "x", Limit: 101}, "limit 101 is out of range"},
		{atoms.RAGParams{Text: "x", Types: []domain.EntityType{"widget"}}, `entity_types: invalid input: unknown entity_type "widget"`},
	} {
		_, err := e.svc.RAGSearch(e.ctx, e.a, c.p)
		if !errors.Is(err, domain.ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("RAGSearch(%.20q, mode %q, limit %d) = %v; want ErrInvalid with %q", c.p.Text, c.p.Mode, c.p.Limit, err, c.want)
		}
	}
	ref := atoms.EntityRef{Type: domain.Project, ID: e.project.ID}
	if _, err := e.svc.Similar(e.ctx, e.a, ref, nil, 500); !errors.Is(err, domain.ErrInvalid) || !strings.Contains(err.Error(), "limit 500") {
		t.Errorf("Similar limit 500 = %v", err)
	}
	if _, err := e.svc.Similar(e.ctx, e.a, atoms.EntityRef{Type: domain.Requirement, ID: "no such thing"}, nil, 5); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("Similar of an unknown name = %v", err)
	}
}

func TestSimilar(t *testing.T) {
	e := newSemEnv(t)
	c := e.corpus()
	test := e.create(domain.Test, map[string]any{"title": "Battery thermal limit test", "project_id": e.project.ID})
	e.drain(e.svc)
	ref := atoms.EntityRef{Type: domain.Requirement, ID: c["battery"].ID}
	res, err := e.svc.Similar(e.ctx, e.a, ref, []domain.EntityType{domain.Requirement}, 3)
	if err != nil {
		t.Fatal(err)
	}
	ids := hitIDs(res)
	if res.Mode != "semantic" || len(ids) == 0 || len(ids) > 3 || slices.Contains(ids, c["battery"].ID) || ids[0] != c["cooling"].ID {
		t.Fatalf("Similar = %+v; want at most 3 requirements, the cooling one first, not itself", res)
	}
	// By name, and of every type: the test about the same thing ranks first.
	res, err = e.svc.Similar(e.ctx, e.a, atoms.EntityRef{Type: domain.Requirement, ID: "Battery thermal limit"}, nil, 1)
	if err != nil || !slices.Equal(hitIDs(res), []string{test.ID}) {
		t.Fatalf("Similar by name = %v, %v; want the test", res, err)
	}
	// An entity not embedded yet is embedded on the fly.
	fresh := e.req("Battery charge limit", "")
	res, err = e.svc.Similar(e.ctx, e.a, atoms.EntityRef{Type: domain.Requirement, ID: fresh.ID}, []domain.EntityType{domain.Requirement}, 1)
	if err != nil || res.Mode != "semantic" || res.Pending == 0 || !slices.Equal(hitIDs(res), []string{c["battery"].ID}) {
		t.Fatalf("Similar of a queued entity = %+v, %v", res, err)
	}
}

// TestReplicasSeeEachOthersVectors: two services on one database file (two
// replicas): vectors written by one are found by the other's index, and
// deletes by one are never shown by the other.
func TestReplicasSeeEachOthersVectors(t *testing.T) {
	e := newSemEnv(t)
	c := e.corpus()
	e.drain(e.svc)
	replica := atoms.New(openStore(t, e.st.Path()))
	a2, err := replica.Actor(e.ctx, atoms.LocalCaller)
	if err != nil {
		t.Fatal(err)
	}
	search := func(text string) []string {
		res, err := replica.RAGSearch(e.ctx, a2, atoms.RAGParams{Text: text, Mode: "semantic", Types: []domain.EntityType{domain.Requirement}})
		if err != nil {
			t.Fatal(err)
		}
		return hitIDs(res)
	}
	if ids := search("braking distance"); len(ids) == 0 || ids[0] != c["brake"].ID {
		t.Fatalf("replica: %v", ids)
	}
	added := e.req("Emergency braking", "The rover brakes by itself before an obstacle.")
	e.drain(e.svc)
	if ids := search("emergency braking obstacle"); len(ids) == 0 || ids[0] != added.ID {
		t.Fatalf("replica after a new vector: %v", ids)
	}
	if _, err := e.svc.DeleteEntity(e.ctx, e.a, domain.Requirement, added.ID, false); err != nil {
		t.Fatal(err)
	}
	if ids := search("emergency braking obstacle"); slices.Contains(ids, added.ID) {
		t.Fatalf("replica shows a requirement deleted on the other: %v", ids)
	}
}

// TestModelChangeReembeds: a service started with another embedder over
// the same database re-queues every entity and replaces the vectors.
func TestModelChangeReembeds(t *testing.T) {
	e := newSemEnv(t)
	c := e.corpus()
	e.drain(e.svc)
	next := atoms.New(e.st, atoms.WithEmbedder(embed.NewLocal(128)))
	if err := next.Semantic().Prepare(e.ctx); err != nil {
		t.Fatal(err)
	}
	if q := queued(t, e.st); len(q) != 9 { // 2 organizations, project, document, 5 requirements
		t.Fatalf("after a model change %d entities are queued; want all 9", len(q))
	}
	if _, err := e.st.GetEmbedding(e.ctx, c["brake"].ID); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("the old model's vector is still stored: %v", err)
	}
	e.drain(next)
	got, err := e.st.GetEmbedding(e.ctx, c["brake"].ID)
	if err != nil || got.Model != "local:feature-hash-v1:128" || len(got.Vector) != 128 {
		t.Fatalf("after re-embedding: %+v, %v", got, err)
	}
	res, err := next.RAGSearch(e.ctx, e.a, atoms.RAGParams{Text: "braking distance", Mode: "semantic"})
	if err != nil || len(res.Hits) == 0 || res.Hits[0].ID != c["brake"].ID {
		t.Fatalf("search with the new model = %v, %v", res, err)
	}
	// Starting again with the same model changes nothing.
	if err := next.Semantic().Prepare(e.ctx); err != nil || len(queued(t, e.st)) != 0 {
		t.Fatalf("a restart with the same model queued %v (%v)", queued(t, e.st), err)
	}
}

// TestRunEmbeddingsWakesOnWrite: the worker drains what is queued, then
// waits; a write wakes it at once (its poll interval is an hour here, so
// only the wake can explain the step).
func TestRunEmbeddingsWakesOnWrite(t *testing.T) {
	e := newSemEnv(t)
	events := make(chan semantic.EmbedEvent, 100)
	e.svc.Semantic().WatchEmbeddings(func(ev semantic.EmbedEvent) { events <- ev }, 1<<62)
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan error, 1)
	go func() { done <- e.svc.RunEmbeddings(ctx) }()
	next := func() semantic.EmbedEvent {
		t.Helper()
		select {
		case ev := <-events:
			return ev
		case <-t.Context().Done():
			t.Fatal("no event")
		}
		return semantic.EmbedEvent{}
	}
	waitIdle := func() int {
		n := 0
		for {
			ev := next()
			if ev.Err != nil {
				t.Fatalf("worker error: %v", ev.Err)
			}
			n += ev.Embedded
			if ev.Step == "wait" {
				return n
			}
		}
	}
	if n := waitIdle(); n != 4 {
		t.Fatalf("first drain embedded %d; want the two organizations, the project and the document", n)
	}
	r := e.req("Battery thermal limit", "")
	if n := waitIdle(); n != 1 {
		t.Fatalf("after a write the worker embedded %d; want 1", n)
	}
	if _, err := e.st.GetEmbedding(e.ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("RunEmbeddings returned %v on cancel; want nil", err)
	}
}

// TestRunEmbeddingsBacksOff: a failing embedder makes the worker wait a
// back-off (not the poll interval), and the write still succeeds.
func TestRunEmbeddingsBacksOff(t *testing.T) {
	fake := &fakeEmbedder{inner: embed.NewLocal(32), err: errors.New("down")}
	e := newSemEnv(t, atoms.WithEmbedder(fake))
	events := make(chan semantic.EmbedEvent, 100)
	e.svc.Semantic().WatchEmbeddings(func(ev semantic.EmbedEvent) { events <- ev }, 1<<62)
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan error, 1)
	go func() { done <- e.svc.RunEmbeddings(ctx) }()
	// Prepare passes (the dimensions are known), the step fails.
	for ev := range events {
		if ev.Step == "step" {
			if ev.Err == nil {
				t.Fatal("a step with a down embedder succeeded")
			}
			continue
		}
		if ev.Step == "wait" {
			if ev.Backoff != semantic.EmbedMinBackoff {
				t.Fatalf("wait %v after a failure; want the back-off %v", ev.Backoff, semantic.EmbedMinBackoff)
			}
			break
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(queued(t, e.st)) != 4 {
		t.Fatalf("queue = %v; want the 4 entities still waiting", queued(t, e.st))
	}
}

// TestFailingEmbedderIsRested: after a query finds the embedder failing,
// queries answer by keyword at once for a while instead of each waiting
// for it; the worker's next success, or the end of the rest, ends that.
func TestFailingEmbedderIsRested(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var clock sync.Mutex
	fake := &fakeEmbedder{inner: embed.NewLocal(64)}
	e := newSemEnv(t, atoms.WithEmbedder(fake), atoms.WithClock(func() time.Time {
		clock.Lock()
		defer clock.Unlock()
		return now
	}))
	e.req("Battery thermal limit", "")
	e.drain(e.svc)
	fake.set(errors.New("timeout"))
	before := fake.callCount()
	for range 3 {
		if res := e.rag(atoms.RAGParams{Text: "battery"}); res.Mode != "keyword" || res.Fallback == "" {
			t.Fatalf("with a failing embedder: %+v", res)
		}
	}
	if n := fake.callCount() - before; n != 1 {
		t.Fatalf("three queries called a failing embedder %d times; want 1", n)
	}
	clock.Lock()
	now = now.Add(31 * time.Second)
	clock.Unlock()
	fake.set(nil)
	if res := e.rag(atoms.RAGParams{Text: "battery"}); res.Mode != "hybrid" {
		t.Fatalf("after the rest: %+v", res)
	}
	// A worker success ends the rest early.
	fake.set(errors.New("timeout"))
	e.rag(atoms.RAGParams{Text: "battery"})
	fake.set(nil)
	e.req("Battery cooling", "")
	e.drain(e.svc)
	if res := e.rag(atoms.RAGParams{Text: "battery"}); res.Mode != "hybrid" {
		t.Fatalf("after the worker succeeded: %+v", res)
	}
}
