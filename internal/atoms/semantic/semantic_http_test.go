package semantic_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atomcp/atomcp/internal/atoms"
	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/embed"
)

// embeddingsServer is an OpenAI-compatible endpoint whose behaviour the
// test switches: "ok" answers with the local embedder's vectors, "garbage"
// with an HTML page, "wrong" with the wrong number of vectors, "slow"
// never answers, "reset" drops the connection.
type embeddingsServer struct {
	mode  atomic.Value // string
	local *embed.Local
}

func (s *embeddingsServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Input []string `json:"input"`
	}
	_ = json.NewDecoder(r.Body).Decode(&req)
	switch s.mode.Load().(string) {
	case "garbage":
		_, _ = w.Write([]byte("<html>502 Bad Gateway</html>"))
	case "wrong":
		_ = json.NewEncoder(w).Encode(map[string]any{"data": []any{}})
	case "slow":
		<-r.Context().Done()
	case "reset":
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			_ = conn.Close()
		}
	default:
		vecs, _ := s.local.Embed(r.Context(), req.Input)
		data := make([]map[string]any, len(vecs))
		for i, v := range vecs {
			data[i] = map[string]any{"index": i, "embedding": v}
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"data": data})
	}
}

// TestHTTPEmbedderDownSlowOrGarbage: whatever the endpoint does, writes
// succeed, entities stay queued, and rag_search and similarity answer by
// keyword and say why; once it answers, everything is embedded.
func TestHTTPEmbedderDownSlowOrGarbage(t *testing.T) {
	srv := &embeddingsServer{local: embed.NewLocal(96)}
	srv.mode.Store("garbage")
	ts := httptest.NewServer(srv)
	defer ts.Close()
	h, err := embed.NewHTTP(embed.HTTPConfig{URL: ts.URL + "/v1", Model: "nomic-embed-text", APIKey: "sk-secret", Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	// Each mode starts after the rest a failure gives the embedder, so
	// that every mode is really asked.
	var clock atomic.Int64
	clock.Store(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano())
	later := func() { clock.Add(int64(time.Minute)) }
	e := newSemEnv(t, atoms.WithEmbedder(h), atoms.WithClock(func() time.Time { return time.Unix(0, clock.Load()).UTC() }))
	battery := e.req("Battery thermal limit", "The pack stays below 45 °C.")
	cooling := e.req("Cell cooling", "Coolant keeps each battery cell cool.")

	checkFallback := func(mode string) {
		t.Helper()
		for _, m := range []string{"auto", "semantic", "hybrid"} {
			res := e.rag(atoms.RAGParams{Text: "battery", Mode: m})
			if res.Mode != "keyword" || !strings.Contains(res.Fallback, "the embedder is not answering") || !slices.Contains(hitIDs(res), battery.ID) {
				t.Fatalf("%s endpoint, mode %s: %+v; want keyword hits and a fallback saying why", mode, m, res)
			}
			if strings.Contains(res.Fallback, ts.URL) || strings.Contains(res.Fallback, "sk-secret") {
				t.Fatalf("the fallback reveals the endpoint or key: %q", res.Fallback)
			}
		}
		sim, err := e.svc.Similar(e.ctx, e.a, atoms.EntityRef{Type: domain.Requirement, ID: battery.ID}, nil, 5)
		if err != nil || sim.Mode != "keyword" || sim.Fallback == "" || slices.Contains(hitIDs(sim), battery.ID) || !slices.Contains(hitIDs(sim), cooling.ID) {
			t.Fatalf("%s endpoint, similar: %+v, %v", mode, sim, err)
		}
		if err := e.svc.Semantic().Prepare(e.ctx); err == nil {
			t.Fatalf("%s endpoint: PrepareEmbeddings succeeded", mode)
		}
	}

	// Before the endpoint ever answered, its dimensions are unknown.
	for _, mode := range []string{"garbage", "wrong", "slow", "reset"} {
		srv.mode.Store(mode)
		later()
		e.req("Brake "+mode, "") // writes succeed
		checkFallback(mode)
	}
	if q := queued(t, e.st); len(q) != 10 {
		t.Fatalf("%d entities queued; want all 10 still waiting", len(q))
	}

	srv.mode.Store("ok")
	e.drain(e.svc)
	res := e.rag(atoms.RAGParams{Text: "battery cell temperature"})
	if res.Mode != "hybrid" || res.Fallback != "" || len(res.Hits) == 0 {
		t.Fatalf("with the endpoint answering: %+v", res)
	}
	if got, err := e.st.GetEmbedding(e.ctx, battery.ID); err != nil || got.Model != "openai:nomic-embed-text:96" {
		t.Fatalf("stored embedding: %+v, %v", got, err)
	}

	// Down again, now with vectors stored: still keyword, still says why.
	for _, mode := range []string{"garbage", "slow", "reset"} {
		srv.mode.Store(mode)
		later()
		res := e.rag(atoms.RAGParams{Text: "battery"})
		if res.Mode != "keyword" || !strings.Contains(res.Fallback, "not answering") {
			t.Fatalf("%s endpoint after embedding: %+v", mode, res)
		}
		// The entity's own vector is stored: similarity still works.
		sim, err := e.svc.Similar(e.ctx, e.a, atoms.EntityRef{Type: domain.Requirement, ID: battery.ID}, nil, 5)
		if err != nil || sim.Mode != "semantic" || len(sim.Hits) == 0 {
			t.Fatalf("%s endpoint, similar from a stored vector: %+v, %v", mode, sim, err)
		}
		r := e.req("Wheel "+mode, "")
		if _, err := e.svc.Semantic().Step(e.ctx); err == nil {
			t.Fatalf("%s endpoint: a step succeeded", mode)
		}
		if !slices.Contains(queued(t, e.st), r.ID) {
			t.Fatalf("%s endpoint: the new requirement left the queue", mode)
		}
	}
}

// TestHTTPEmbedderNothingListening: the endpoint's port is closed.
func TestHTTPEmbedderNothingListening(t *testing.T) {
	ts := httptest.NewServer(http.NotFoundHandler())
	url := ts.URL
	ts.Close()
	h, err := embed.NewHTTP(embed.HTTPConfig{URL: url + "/v1", Model: "m"})
	if err != nil {
		t.Fatal(err)
	}
	e := newSemEnv(t, atoms.WithEmbedder(h))
	r := e.req("Battery thermal limit", "")
	res := e.rag(atoms.RAGParams{Text: "battery", Mode: "hybrid"})
	if res.Mode != "keyword" || res.Fallback == "" || !slices.Equal(hitIDs(res), []string{r.ID}) || res.Pending != 5 {
		t.Fatalf("with nothing listening: %+v", res)
	}
}
