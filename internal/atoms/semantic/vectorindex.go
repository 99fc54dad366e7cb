package semantic

import (
	"container/heap"
	"context"
	"runtime"
	"sync"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/embed"
	"github.com/atomcp/atomcp/internal/store"
)

// The in-memory vector indexes: one per organization and model, holding
// every stored vector of it in one contiguous []float32 so that a query is
// a brute-force scan of dot products (about 40 million multiply-adds for
// 100,000 vectors of 384 dimensions: milliseconds, see docs/performance.md).
//
// An index is loaded from the store on first use and kept fresh on every
// query by loading the vectors written since the largest seq it holds
// (store.Embedding.Seq), which is one indexed lookup when nothing changed.
// That works across replicas too: the store is the source of truth. What
// the seq does not reveal is a deletion: an entity deleted after its
// vector was loaded stays in the index until a query finds it deleted and
// drops it (see forget); every hit is checked against the store before it
// is returned, so a deleted entity is never shown.

// indexLoadPage is how many vectors one store read loads.
const indexLoadPage = 4096

// parallelScanMin is the index size from which a scan is split across
// CPUs; below it the goroutines cost more than they save.
const parallelScanMin = 20_000

type indexKey struct{ org, model string }

// vectorIndexes holds the indexes of one Engine. The zero value is ready.
type vectorIndexes struct {
	mu    sync.Mutex
	byKey map[indexKey]*vectorIndex
}

// get returns the index of an organization and model, creating it empty.
func (vs *vectorIndexes) get(org, model string) *vectorIndex {
	vs.mu.Lock()
	defer vs.mu.Unlock()
	if vs.byKey == nil {
		vs.byKey = map[indexKey]*vectorIndex{}
	}
	k := indexKey{org, model}
	ix := vs.byKey[k]
	if ix == nil {
		ix = &vectorIndex{org: org, model: model, slot: map[string]int{}, projectCode: map[string]int32{}}
		vs.byKey[k] = ix
	}
	return ix
}

// vectorIndex is the vectors of one organization and model. Slot i holds
// one entity: its vector is vecs[i*dims:(i+1)*dims].
type vectorIndex struct {
	org, model string

	load sync.Mutex // one refresh at a time

	mu       sync.RWMutex // guards what follows; scans hold it for reading
	dims     int
	seq      int64 // every vector with a seq up to this is loaded
	vecs     []float32
	ids      []string // "" for a dropped slot
	types    []uint8  // typeCode of the entity; 0 for a dropped slot
	projects []int32  // code in projectNames; 0 is "no project"
	seqs     []int64  // the seq of each slot's vector
	slot     map[string]int
	dropped  int

	projectCode  map[string]int32
	projectNames []string
}

// typeCodes numbers the entity types from 1 for the scan's type filter.
var typeCodes = func() map[domain.EntityType]uint8 {
	m := map[domain.EntityType]uint8{}
	for i, k := range domain.Kinds() {
		m[k.Type] = uint8(i + 1)
	}
	return m
}()

var typeOfCode = func() []domain.EntityType {
	out := make([]domain.EntityType, len(typeCodes)+1)
	for t, c := range typeCodes {
		out[c] = t
	}
	return out
}()

// refresh loads the vectors written since the last refresh.
func (ix *vectorIndex) refresh(ctx context.Context, st store.Ops) error {
	latest, err := st.LatestEmbeddingSeq(ctx, ix.org, ix.model)
	if err != nil {
		return err
	}
	ix.load.Lock()
	defer ix.load.Unlock()
	ix.mu.RLock()
	have := ix.seq
	ix.mu.RUnlock()
	for have < latest {
		page, err := st.ListEmbeddings(ctx, store.EmbeddingQuery{OrganizationID: ix.org, Model: ix.model, AfterSeq: have, Limit: indexLoadPage})
		if err != nil {
			return err
		}
		ix.mu.Lock()
		for _, e := range page {
			ix.put(e)
		}
		if len(page) < indexLoadPage {
			// Every vector up to latest is loaded. Those not returned
			// belong to deleted entities; a restore queues the entity
			// again and its vector comes back with a new seq.
			have = max(have, latest)
		} else {
			have = page[len(page)-1].Seq
		}
		ix.seq = max(ix.seq, have)
		ix.mu.Unlock()
	}
	return nil
}

// put adds or replaces one vector; ix.mu is held for writing.
func (ix *vectorIndex) put(e *store.Embedding) {
	if ix.dims == 0 {
		ix.dims = len(e.Vector)
	}
	code := typeCodes[e.EntityType]
	if len(e.Vector) != ix.dims || code == 0 {
		return // cannot be compared; only a corrupt row gets here
	}
	proj := ix.project(e.ProjectID)
	if i, ok := ix.slot[e.EntityID]; ok {
		copy(ix.vecs[i*ix.dims:], e.Vector)
		ix.types[i], ix.projects[i], ix.seqs[i] = code, proj, e.Seq
		return
	}
	ix.slot[e.EntityID] = len(ix.ids)
	ix.vecs = append(ix.vecs, e.Vector...)
	ix.ids = append(ix.ids, e.EntityID)
	ix.types = append(ix.types, code)
	ix.projects = append(ix.projects, proj)
	ix.seqs = append(ix.seqs, e.Seq)
}

func (ix *vectorIndex) project(id string) int32 {
	if id == "" {
		return 0
	}
	c, ok := ix.projectCode[id]
	if !ok {
		if len(ix.projectNames) == 0 {
			ix.projectNames = []string{""}
		}
		c = int32(len(ix.projectNames)) // #nosec G115 -- one code per project of the process's index; 2^31 projects do not fit in memory first
		ix.projectCode[id] = c
		ix.projectNames = append(ix.projectNames, id)
	}
	return c
}

// forget drops the vector of an entity found deleted, unless it was
// replaced since the scan that returned it (seq differs).
func (ix *vectorIndex) forget(id string, seq int64) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	i, ok := ix.slot[id]
	if !ok || ix.seqs[i] != seq {
		return
	}
	delete(ix.slot, id)
	ix.ids[i], ix.types[i] = "", 0
	ix.dropped++
	if ix.dropped > 1024 && ix.dropped > len(ix.ids)/4 {
		ix.compact()
	}
}

// compact removes dropped slots; ix.mu is held for writing.
func (ix *vectorIndex) compact() {
	n := 0
	for i, id := range ix.ids {
		if id == "" {
			continue
		}
		copy(ix.vecs[n*ix.dims:(n+1)*ix.dims], ix.vecs[i*ix.dims:(i+1)*ix.dims])
		ix.ids[n], ix.types[n], ix.projects[n], ix.seqs[n] = id, ix.types[i], ix.projects[i], ix.seqs[i]
		ix.slot[id] = n
		n++
	}
	ix.vecs, ix.ids, ix.types, ix.projects, ix.seqs = ix.vecs[:n*ix.dims], ix.ids[:n], ix.types[:n], ix.projects[:n], ix.seqs[:n]
	ix.dropped = 0
}

// size is the number of vectors held.
func (ix *vectorIndex) size() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return len(ix.ids) - ix.dropped
}

// vector returns a copy of an entity's vector, or nil.
func (ix *vectorIndex) vector(id string) []float32 {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	i, ok := ix.slot[id]
	if !ok {
		return nil
	}
	return append([]float32(nil), ix.vecs[i*ix.dims:(i+1)*ix.dims]...)
}

// scanFilter restricts a scan.
type scanFilter struct {
	types   []domain.EntityType // empty: every type
	project string              // "": any
	exclude string              // an entity id to leave out (the query's own)
}

// candidate is one scan result.
type candidate struct {
	org   string
	id    string
	typ   domain.EntityType
	seq   int64
	score float32
}

// search returns the k vectors most similar to q that pass the filter,
// best first.
func (ix *vectorIndex) search(q []float32, f scanFilter, k int) []candidate {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	n := len(ix.ids)
	if n == 0 || len(q) != ix.dims || k <= 0 {
		return nil
	}
	var typeMask uint64
	for _, t := range f.types {
		typeMask |= 1 << typeCodes[t]
	}
	project := int32(-1)
	if f.project != "" {
		c, ok := ix.projectCode[f.project]
		if !ok {
			return nil // nothing of that project is indexed
		}
		project = c
	}
	excluded := -1
	if i, ok := ix.slot[f.exclude]; ok {
		excluded = i
	}
	scan := func(from, to int) topK {
		h := make(topK, 0, k+1)
		d := ix.dims
		for i := from; i < to; i++ {
			c := ix.types[i]
			if c == 0 || i == excluded || (typeMask != 0 && typeMask&(1<<c) == 0) || (project >= 0 && ix.projects[i] != project) {
				continue
			}
			s := embed.Dot(q, ix.vecs[i*d:(i+1)*d])
			if s <= 0 {
				continue // unrelated: nothing in common at all
			}
			if len(h) < k {
				heap.Push(&h, scored{i, s})
			} else if s > h[0].score {
				h[0] = scored{i, s}
				heap.Fix(&h, 0)
			}
		}
		return h
	}
	var best topK
	workers := min(runtime.GOMAXPROCS(0), 8)
	if n < parallelScanMin || workers < 2 {
		best = scan(0, n)
	} else {
		parts := make([]topK, workers)
		var wg sync.WaitGroup
		chunk := (n + workers - 1) / workers
		for w := range workers {
			wg.Go(func() { parts[w] = scan(w*chunk, min((w+1)*chunk, n)) })
		}
		wg.Wait()
		best = make(topK, 0, k+1)
		for _, p := range parts {
			for _, c := range p {
				if len(best) < k {
					heap.Push(&best, c)
				} else if c.score > best[0].score {
					best[0] = c
					heap.Fix(&best, 0)
				}
			}
		}
	}
	out := make([]candidate, len(best))
	for i := len(best) - 1; i >= 0; i-- {
		c := heap.Pop(&best).(scored)
		out[i] = candidate{org: ix.org, id: ix.ids[c.slot], typ: typeOfCode[ix.types[c.slot]], seq: ix.seqs[c.slot], score: c.score}
	}
	return out
}

// scored is a slot and its similarity; topK is a min-heap of them, so that
// the worst of the best k is at the top, ready to be replaced.
type scored struct {
	slot  int
	score float32
}

type topK []scored

func (h topK) Len() int { return len(h) }
func (h topK) Less(i, j int) bool {
	if h[i].score != h[j].score {
		return h[i].score < h[j].score
	}
	return h[i].slot > h[j].slot // on a tie, the earlier slot ranks higher
}
func (h topK) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *topK) Push(x any)   { *h = append(*h, x.(scored)) }
func (h *topK) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
