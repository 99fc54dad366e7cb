package embed_test

import (
	"math"
	"testing"

	"github.com/atomcp/atomcp/internal/embed"
)

func embedOne(t *testing.T, e embed.Embedder, texts ...string) [][]float32 {
	t.Helper()
	vecs, err := e.Embed(t.Context(), texts)
	if err != nil {
		t.Fatal(err)
	}
	if len(vecs) != len(texts) {
		t.Fatalf("%d vectors for %d texts", len(vecs), len(texts))
	}
	return vecs
}

// corpus is a small set of requirements on unrelated subjects; each query
// of TestLocalRanksTheRelatedTextFirst is about exactly one of them.
var corpus = []string{
	"The battery pack shall stay below its thermal limit while charging",
	"Passwords are stored encrypted with a salted hash",
	"Operators sign in through single sign-on with a second factor",
	"The pump delivers 5 litres of coolant per minute",
	"The display shows the vehicle speed in km/h",
	"Braking distance from 100 km/h shall not exceed 40 metres",
	"Audit logs are kept for seven years",
	"The firmware update is signed and verified before installation",
}

func TestLocalRanksTheRelatedTextFirst(t *testing.T) {
	e := embed.NewLocal(0)
	docs := embedOne(t, e, corpus...)
	cases := []struct {
		query string
		want  int
	}{
		{"battery thermal limits", 0},
		{"encrypt stored passwords", 1},
		// Stems meet through character trigrams, without a shared word.
		{"encryption", 1},
		{"authentication of operators", 2},
		// A typo still lands close.
		{"operater signin", 2},
		{"coolant flow", 3},
		{"brake", 5},
		{"how long do we keep logs", 6},
		{"signed firmware updates", 7},
	}
	for _, c := range cases {
		q := embedOne(t, e, c.query)[0]
		best, bestScore, second := -1, float32(-2), float32(-2)
		for i, d := range docs {
			switch s := embed.Dot(q, d); {
			case s > bestScore:
				best, bestScore, second = i, s, bestScore
			case s > second:
				second = s
			}
		}
		if best != c.want {
			t.Errorf("%q: best match %q (%.3f); want %q (%.3f)", c.query, corpus[best], bestScore, corpus[c.want], embed.Dot(q, docs[c.want]))
		} else {
			t.Logf("%q: %.3f, next %.3f", c.query, bestScore, second)
		}
	}
}

func TestLocalDeterministicUnitVectors(t *testing.T) {
	e := embed.NewLocal(128)
	if e.Dimensions() != 128 || e.Model() != "local:feature-hash-v1:128" {
		t.Fatalf("Dimensions %d, Model %q", e.Dimensions(), e.Model())
	}
	if embed.NewLocal(0).Model() == e.Model() {
		t.Fatal("the model must change with the dimensions")
	}
	a := embedOne(t, e, "Thermal runaway detection", "")
	b := embedOne(t, embed.NewLocal(128), "thermal RUNAWAY, detection!")
	for i := range a[0] {
		if a[0][i] != b[0][i] {
			t.Fatalf("case and punctuation changed the vector at %d", i)
		}
	}
	if n := embed.Dot(a[0], a[0]); math.Abs(float64(n)-1) > 1e-5 {
		t.Fatalf("|v|² = %v; want 1", n)
	}
	for _, x := range a[1] {
		if x != 0 {
			t.Fatal("empty text gave a non-zero vector")
		}
	}
	// Only stop words: still a vector, so the text is findable.
	if v := embedOne(t, e, "what is it"); embed.Dot(v[0], v[0]) < 0.99 {
		t.Fatal("a text of stop words has no vector")
	}
}

func TestLocalHonoursContext(t *testing.T) {
	ctx, cancel := contextCancelled(t)
	defer cancel()
	if _, err := embed.NewLocal(0).Embed(ctx, []string{"a"}); err == nil {
		t.Fatal("Embed on a cancelled context succeeded")
	}
}

func TestNormalize(t *testing.T) {
	v := []float32{3, 4}
	if !embed.Normalize(v) || v[0] != 0.6 || v[1] != 0.8 {
		t.Fatalf("Normalize = %v", v)
	}
	if embed.Normalize([]float32{1, float32(math.NaN())}) || embed.Normalize(nil) || embed.Normalize([]float32{float32(math.Inf(1))}) {
		t.Fatal("Normalize accepted a NaN, an empty or an infinite vector")
	}
}

func BenchmarkLocalEmbed(b *testing.B) {
	e := embed.NewLocal(0)
	text := []string{"The battery management system shall disconnect the pack when a cell exceeds 60 degrees Celsius for more than two seconds"}
	for b.Loop() {
		if _, err := e.Embed(b.Context(), text); err != nil {
			b.Fatal(err)
		}
	}
}
