package atoms_test

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/atomcp/atomcp/internal/atoms"
	"github.com/atomcp/atomcp/internal/atoms/semantic"
	"github.com/atomcp/atomcp/internal/domain"
)

// The vector benchmarks of docs/performance.md run on the data set of bench_test.go
// (100,000 requirements, plus their projects, documents and tests), every
// entity embedded by the local embedder (384 dimensions).

var (
	semOnce     sync.Once
	semErr      error
	semEmbedded int
	semEmbedDur time.Duration
	semLoadDur  time.Duration
)

// loadSemantic embeds the whole data set once per process (through the
// worker, batch by batch, as a server would) and loads the vector index.
func loadSemantic(b *testing.B) *benchData {
	d := loadBench(b)
	semOnce.Do(func() {
		ctx := context.Background()
		start := time.Now()
		if semErr = d.svc.Semantic().Prepare(ctx); semErr != nil {
			return
		}
		for {
			n, err := d.svc.Semantic().Step(ctx)
			if err != nil {
				semErr = err
				return
			}
			semEmbedded += n
			if n == 0 {
				break
			}
		}
		semEmbedDur = time.Since(start)
		// The first query loads the organization's vectors into memory.
		start = time.Now()
		_, semErr = d.svc.Similar(ctx, d.actor, atoms.EntityRef{Type: domain.Requirement, ID: d.reqIDs[0]}, nil, 10)
		semLoadDur = time.Since(start)
	})
	if semErr != nil {
		b.Fatal(semErr)
	}
	if semEmbedded < benchRequirements {
		b.Fatalf("only %d entities embedded", semEmbedded)
	}
	return d
}

// report adds the median and 99th percentile of the timed calls, and the
// figures of the set-up (after the loop: b.Loop drops metrics reported
// before it).
func report(b *testing.B, took []time.Duration) {
	b.ReportMetric(float64(semEmbedded), "vectors")
	b.ReportMetric(semEmbedDur.Seconds(), "embed-all-s")
	b.ReportMetric(float64(semLoadDur.Milliseconds()), "cold-load-ms")
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkSimilarity100k: query_tool similarity, the 10 requirements most
// similar to a random one, over every vector of the organization (target
// < 100 ms).
func BenchmarkSimilarity100k(b *testing.B) {
	d := loadSemantic(b)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(5, 6))
	var took []time.Duration
	for b.Loop() {
		ref := atoms.EntityRef{Type: domain.Requirement, ID: d.reqIDs[r.IntN(len(d.reqIDs))]}
		start := time.Now()
		res, err := d.svc.Similar(ctx, d.actor, ref, []domain.EntityType{domain.Requirement}, 10)
		took = append(took, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
		if res.Mode != semantic.ModeSemantic || len(res.Hits) != 10 {
			b.Fatalf("similar = %s with %d hits (%s)", res.Mode, len(res.Hits), res.Fallback)
		}
	}
	report(b, took)
}

// BenchmarkRAGSemantic100k: query_tool rag_search in semantic mode, a
// three-word query embedded locally, first 10 hits.
func BenchmarkRAGSemantic100k(b *testing.B) {
	benchRAG(b, semantic.ModeSemantic)
}

// BenchmarkRAGHybrid100k: the same in hybrid mode (vector scan and
// full-text search fused).
func BenchmarkRAGHybrid100k(b *testing.B) {
	benchRAG(b, semantic.ModeHybrid)
}

func benchRAG(b *testing.B, mode string) {
	d := loadSemantic(b)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(7, 8))
	z := rand.NewZipf(r, 1.1, 2, uint64(len(words)-1))
	var took []time.Duration
	for b.Loop() {
		text := sentence(z, 3)
		start := time.Now()
		res, err := d.svc.RAGSearch(ctx, d.actor, atoms.RAGParams{Text: text, Mode: mode, Limit: 10})
		took = append(took, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
		if res.Mode != mode {
			b.Fatalf("mode %s, fallback %q", res.Mode, res.Fallback)
		}
	}
	report(b, took)
}
