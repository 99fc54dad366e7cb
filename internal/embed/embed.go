// Package embed turns text into vectors for semantic search.
//
// An Embedder maps texts to fixed-size float32 vectors such that texts
// about the same thing have a high cosine similarity. Two implementations
// are provided: Local, which needs no network and no model file (feature
// hashing of words, word pairs and character trigrams), and HTTP, which
// calls an OpenAI-compatible /embeddings endpoint (OpenAI, Ollama, vLLM,
// LiteLLM …).
//
// Vectors from different embedders, models or dimensions cannot be
// compared. Model returns a string that identifies all three, so that a
// caller storing vectors can tell when they must be computed again.
package embed

import (
	"context"
	"errors"
	"math"
	"net/http"
)

// Embedder computes embeddings.
type Embedder interface {
	// Embed returns one vector per text, in order, each of Dimensions()
	// values and of unit length (or zero), so that a dot product is a
	// cosine similarity. It fails as a whole: a nil error means every text
	// has its vector.
	Embed(ctx context.Context, texts []string) ([][]float32, error)
	// Model identifies the embedder, its model and its dimensions, e.g.
	// "local:feature-hash-v1:384". Vectors stored under one Model value
	// are comparable with each other and with new vectors of an embedder
	// reporting the same value, and with nothing else.
	Model() string
	// Dimensions is the length of every vector, or 0 while it is not yet
	// known (an HTTP embedder learns it from the first answer).
	Dimensions() int
}

// ErrRejected marks an error where the embedder understood the request
// and refused these texts (for example an HTTP 400 because a text is too
// long): trying the same texts again will fail again. Other errors (the
// endpoint is down, slow or answers garbage) may pass on retry.
var ErrRejected = errors.New("embedder rejected the input")

// Normalize scales v in place to unit length, so that the dot product of
// two normalised vectors is their cosine similarity. A zero vector stays
// zero. It reports whether v was usable: not empty, and every value finite.
func Normalize(v []float32) bool {
	if len(v) == 0 {
		return false
	}
	var sum float64
	for _, x := range v {
		f := float64(x)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return false
		}
		sum += f * f
	}
	if sum == 0 {
		return true
	}
	inv := 1 / math.Sqrt(sum)
	for i, x := range v {
		v[i] = float32(float64(x) * inv)
	}
	return true
}

// Dot is the dot product of two vectors of the same length; for
// normalised vectors, their cosine similarity.
func Dot(a, b []float32) float32 {
	if len(a) != len(b) {
		panic("embed.Dot: vectors of different lengths")
	}
	var s0, s1, s2, s3 float32
	i := 0
	// Four independent sums let the CPU overlap the multiply-adds; this is
	// the inner loop of every similarity query.
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// Settings choose an embedder, as atomcp's configuration gives them
// (ATOMCP_EMBEDDINGS_URL, _MODEL, _API_KEY).
type Settings struct {
	URL    string // empty: the local embedder
	Model  string
	APIKey string
	// Client is the HTTP embedder's client (nil: one of its own).
	Client *http.Client
}

// New returns the HTTP embedder when s.URL is set, otherwise the local one
// (NewLocal(0)).
func New(s Settings) (Embedder, error) {
	if s.URL == "" {
		return NewLocal(0), nil
	}
	return NewHTTP(HTTPConfig{URL: s.URL, Model: s.Model, APIKey: s.APIKey, Client: s.Client})
}
