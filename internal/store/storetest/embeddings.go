package storetest

import (
	"errors"
	"math"
	"reflect"
	"slices"
	"testing"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

const (
	modelA = "test:model-a:3"
	modelB = "test:model-b:2"
)

// embedding returns an unsaved vector of e under model.
func (f *fixture) embedding(e *domain.Entity, model string, vec ...float32) *store.Embedding {
	project := e.Str("project_id")
	if e.Type == domain.Project {
		project = e.ID
	}
	return &store.Embedding{
		EntityType: e.Type, EntityID: e.ID, OrganizationID: e.OrganizationID, ProjectID: project,
		Model: model, ContentHash: "hash-" + e.ID[:8], Vector: vec, UpdatedAt: f.now(),
	}
}

// putEmbedding stores a vector and fails the test on error.
func (f *fixture) putEmbedding(e *domain.Entity, model string, vec ...float32) *store.Embedding {
	f.t.Helper()
	emb := f.embedding(e, model, vec...)
	if err := f.s.PutEmbedding(f.ctx, emb); err != nil {
		f.t.Fatalf("PutEmbedding(%s): %v", e.ID, err)
	}
	return emb
}

// listEmbeddings lists and fails the test on error.
func (f *fixture) listEmbeddings(q store.EmbeddingQuery) []*store.Embedding {
	f.t.Helper()
	got, err := f.s.ListEmbeddings(f.ctx, q)
	if err != nil {
		f.t.Fatalf("ListEmbeddings(%+v): %v", q, err)
	}
	return got
}

func embeddingIDs(es []*store.Embedding) []string {
	out := []string{}
	for _, e := range es {
		out = append(out, e.EntityID)
	}
	return out
}

// drainQueue empties the embedding queue.
func (f *fixture) drainQueue() {
	f.t.Helper()
	q, err := f.s.EmbeddingQueue(f.ctx, 1000)
	if err != nil {
		f.t.Fatal(err)
	}
	for _, e := range q {
		if err := f.s.DequeueEmbedding(f.ctx, e); err != nil {
			f.t.Fatal(err)
		}
	}
}

func queuedIDs(t *testing.T, f *fixture) []string {
	t.Helper()
	q, err := f.s.EmbeddingQueue(f.ctx, 1000)
	if err != nil {
		t.Fatal(err)
	}
	out := []string{}
	for _, e := range q {
		out = append(out, e.ID)
	}
	slices.Sort(out)
	return out
}

var embeddingTests = []test{
	{"put, get and replace; vectors kept bit for bit", func(t *testing.T, f *fixture) {
		org := f.org("emb")
		p := f.project(org, "p")
		req := f.requirement(f.document(p, "d"), "Battery", "")
		vec := []float32{-1.5, float32(math.SmallestNonzeroFloat32), 3.4e38}
		first := f.putEmbedding(req, modelA, vec...)
		got, err := f.s.GetEmbedding(f.ctx, req.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, first) || got.ProjectID != p.ID || first.Seq <= 0 {
			t.Fatalf("GetEmbedding = %+v; want %+v", got, first)
		}
		// Another put replaces the vector (of any model) and gets a larger Seq.
		second := f.putEmbedding(req, modelB, 0.25, 0.5)
		got, _ = f.s.GetEmbedding(f.ctx, req.ID)
		if second.Seq <= first.Seq || !reflect.DeepEqual(got, second) {
			t.Fatalf("after a replace: GetEmbedding = %+v (seq %d after %d)", got, second.Seq, first.Seq)
		}
		if l := f.listEmbeddings(store.EmbeddingQuery{OrganizationID: org.ID, Model: modelA}); len(l) != 0 {
			t.Fatalf("the replaced vector of model A is still listed: %v", embeddingIDs(l))
		}
		_, err = f.s.GetEmbedding(f.ctx, "00000000-0000-0000-0000-000000000000")
		wantErr(t, err, domain.ErrNotFound)
		if err := f.s.DeleteEmbedding(f.ctx, req.ID); err != nil {
			t.Fatal(err)
		}
		_, err = f.s.GetEmbedding(f.ctx, req.ID)
		wantErr(t, err, domain.ErrNotFound)
		if err := f.s.DeleteEmbedding(f.ctx, req.ID); err != nil {
			t.Fatalf("deleting an absent vector: %v", err)
		}
	}},
	{"bad vectors are refused", func(t *testing.T, f *fixture) {
		req := f.requirement(f.document(f.project(f.org("bad"), "p"), "d"), "R", "")
		for _, c := range []struct {
			e    *store.Embedding
			want string
		}{
			{f.embedding(req, modelA), "empty vector"},
			{f.embedding(req, modelA, 1, float32(math.NaN())), "not a finite number"},
			{f.embedding(req, modelA, float32(math.Inf(-1))), "not a finite number"},
			{f.embedding(req, "", 1), "model"},
		} {
			wantErr(t, f.s.PutEmbedding(f.ctx, c.e), domain.ErrInvalid, c.want)
		}
		_, err := f.s.ListEmbeddings(f.ctx, store.EmbeddingQuery{Model: modelA})
		wantErr(t, err, domain.ErrInvalid)
	}},
	{"list by organization, model and seq; latest seq", func(t *testing.T, f *fixture) {
		org, other := f.org("one"), f.org("two")
		doc := f.document(f.project(org, "p"), "d")
		r1, r2, r3 := f.requirement(doc, "R1", ""), f.requirement(doc, "R2", ""), f.requirement(doc, "R3", "")
		otherReq := f.requirement(f.document(f.project(other, "p"), "d"), "X", "")
		if seq, err := f.s.LatestEmbeddingSeq(f.ctx, org.ID, modelA); err != nil || seq != 0 {
			t.Fatalf("LatestEmbeddingSeq with no vectors = %d, %v", seq, err)
		}
		e1 := f.putEmbedding(r1, modelA, 1, 0, 0)
		e2 := f.putEmbedding(r2, modelA, 0, 1, 0)
		f.putEmbedding(r3, modelB, 1, 1)
		f.putEmbedding(otherReq, modelA, 0, 0, 1)
		all := f.listEmbeddings(store.EmbeddingQuery{OrganizationID: org.ID, Model: modelA})
		if !reflect.DeepEqual(embeddingIDs(all), []string{r1.ID, r2.ID}) || !reflect.DeepEqual(all[1], e2) {
			t.Fatalf("list = %v; want r1, r2 of model A in this organization", embeddingIDs(all))
		}
		if seq, _ := f.s.LatestEmbeddingSeq(f.ctx, org.ID, modelA); seq != e2.Seq {
			t.Fatalf("LatestEmbeddingSeq = %d; want %d", seq, e2.Seq)
		}
		if l := f.listEmbeddings(store.EmbeddingQuery{OrganizationID: org.ID, Model: modelA, AfterSeq: e1.Seq}); !reflect.DeepEqual(embeddingIDs(l), []string{r2.ID}) {
			t.Fatalf("after seq %d: %v; want r2", e1.Seq, embeddingIDs(l))
		}
		if l := f.listEmbeddings(store.EmbeddingQuery{OrganizationID: org.ID, Model: modelA, Limit: 1}); !reflect.DeepEqual(embeddingIDs(l), []string{r1.ID}) {
			t.Fatalf("limit 1: %v; want r1", embeddingIDs(l))
		}
		// A re-put moves the vector after the others: a reader holding up to
		// e2.Seq finds exactly the change.
		again := f.putEmbedding(r1, modelA, 0.5, 0.5, 0)
		if l := f.listEmbeddings(store.EmbeddingQuery{OrganizationID: org.ID, Model: modelA, AfterSeq: e2.Seq}); len(l) != 1 || !reflect.DeepEqual(l[0], again) {
			t.Fatalf("changes after seq %d: %v", e2.Seq, embeddingIDs(l))
		}
	}},
	{"vectors of deleted entities are never returned, and pruned", func(t *testing.T, f *fixture) {
		org := f.org("del")
		p := f.project(org, "p")
		doc := f.document(p, "d")
		soft, hard, kept := f.requirement(doc, "Soft", ""), f.requirement(doc, "Hard", ""), f.requirement(doc, "Kept", "")
		block := f.block(doc, 0)
		for _, e := range []*domain.Entity{soft, hard, kept, block} {
			f.putEmbedding(e, modelA, 1, 2, 3)
		}
		f.putEmbedding(p, modelB, 1, 2) // another model: pruned too
		soft.IsDeleted, soft.UpdatedAt = true, f.now()
		if err := f.s.UpdateEntity(f.ctx, soft); err != nil {
			t.Fatal(err)
		}
		if err := f.s.DeleteEntity(f.ctx, domain.Requirement, hard.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.s.DeleteEntity(f.ctx, domain.Block, block.ID); err != nil {
			t.Fatal(err)
		}
		q := store.EmbeddingQuery{OrganizationID: org.ID, Model: modelA}
		if l := f.listEmbeddings(q); !reflect.DeepEqual(embeddingIDs(l), []string{kept.ID}) {
			t.Fatalf("list after deletes = %v; want only the kept requirement", embeddingIDs(l))
		}
		for _, id := range []string{soft.ID, hard.ID, block.ID} {
			_, err := f.s.GetEmbedding(f.ctx, id)
			wantErr(t, err, domain.ErrNotFound)
		}
		// A restored entity is found again (the vector was kept).
		soft.IsDeleted, soft.DeletedAt, soft.UpdatedAt = false, nil, f.now()
		if err := f.s.UpdateEntity(f.ctx, soft); err != nil {
			t.Fatal(err)
		}
		if l := f.listEmbeddings(q); !reflect.DeepEqual(embeddingIDs(l), []string{soft.ID, kept.ID}) {
			t.Fatalf("list after restore = %v; want soft, kept", embeddingIDs(l))
		}
		n, err := f.s.PruneEmbeddings(f.ctx, modelA)
		if err != nil || n != 3 {
			t.Fatalf("PruneEmbeddings = %d, %v; want the hard-deleted requirement, the block and the model B vector", n, err)
		}
		if n, _ := f.s.PruneEmbeddings(f.ctx, modelA); n != 0 {
			t.Fatalf("a second prune deleted %d", n)
		}
		if l := f.listEmbeddings(q); len(l) != 2 {
			t.Fatalf("prune removed live vectors: %v", embeddingIDs(l))
		}
	}},
	{"requeue what lacks a vector of the model; count the queue per organization", func(t *testing.T, f *fixture) {
		org, other := f.org("rq"), f.org("rq2")
		doc := f.document(f.project(org, "p"), "d")
		r1, r2 := f.requirement(doc, "R1", ""), f.requirement(doc, "R2", "")
		gone := f.requirement(doc, "Gone", "")
		f.requirement(f.document(f.project(other, "p"), "d"), "X", "")
		// org, project, document, 3 requirements = 6 queued in org; 4 in other.
		if n, err := f.s.CountQueuedEmbeddings(f.ctx, []string{org.ID}, 100); err != nil || n != 6 {
			t.Fatalf("CountQueuedEmbeddings(org) = %d, %v; want 6", n, err)
		}
		if n, _ := f.s.CountQueuedEmbeddings(f.ctx, []string{org.ID, other.ID}, 100); n != 10 {
			t.Fatalf("CountQueuedEmbeddings(both) = %d; want 10", n)
		}
		if n, _ := f.s.CountQueuedEmbeddings(f.ctx, []string{org.ID}, 4); n != 4 {
			t.Fatalf("CountQueuedEmbeddings capped at 4 = %d", n)
		}
		_, err := f.s.CountQueuedEmbeddings(f.ctx, nil, 10)
		wantErr(t, err, domain.ErrInvalid)
		// A queued entity deleted for good is no longer counted.
		if err := f.s.DeleteEntity(f.ctx, domain.Requirement, gone.ID); err != nil {
			t.Fatal(err)
		}
		if n, _ := f.s.CountQueuedEmbeddings(f.ctx, []string{org.ID}, 100); n != 5 {
			t.Fatalf("after a delete, CountQueuedEmbeddings = %d; want 5", n)
		}

		f.drainQueue()
		f.putEmbedding(r1, modelA, 1, 0, 0)
		n, err := f.s.RequeueEmbeddings(f.ctx, modelA, f.now())
		if err != nil || n != 8 {
			t.Fatalf("RequeueEmbeddings(A) = %d, %v; want the 8 live entities without a vector of A", n, err)
		}
		queued := queuedIDs(t, f)
		if slices.Contains(queued, r1.ID) || !slices.Contains(queued, r2.ID) || slices.Contains(queued, gone.ID) {
			t.Fatalf("queue = %v; want r2 but not r1 (has a vector) nor the deleted one", queued)
		}
		if n, _ := f.s.RequeueEmbeddings(f.ctx, modelA, f.now()); n != 0 {
			t.Fatalf("a second requeue queued %d again", n)
		}
		// A change of model queues everything, r1 included.
		if n, _ := f.s.RequeueEmbeddings(f.ctx, modelB, f.now()); n != 1 || !slices.Contains(queuedIDs(t, f), r1.ID) {
			t.Fatalf("RequeueEmbeddings(B) = %d; want r1 added to the queue", n)
		}
	}},
	{"a rolled-back put leaves nothing", func(t *testing.T, f *fixture) {
		req := f.requirement(f.document(f.project(f.org("tx"), "p"), "d"), "R", "")
		boom := errors.New("boom")
		err := f.s.InTx(f.ctx, func(tx store.Ops) error {
			if err := tx.PutEmbedding(f.ctx, f.embedding(req, modelA, 1)); err != nil {
				return err
			}
			if _, err := tx.GetEmbedding(f.ctx, req.ID); err != nil {
				t.Errorf("the transaction does not see its own put: %v", err)
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		_, err = f.s.GetEmbedding(f.ctx, req.ID)
		wantErr(t, err, domain.ErrNotFound)
	}},
}
