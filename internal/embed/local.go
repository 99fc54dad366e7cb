package embed

import (
	"context"
	"fmt"
	"math"
	"strings"
	"unicode"
)

// DefaultLocalDimensions is the vector size of NewLocal(0): large enough
// that hash collisions between the words of one organization's
// requirements are rare, small enough that a brute-force scan of 100,000
// vectors stays well under 100 ms.
const DefaultLocalDimensions = 384

// localVersion names the feature set. Change it whenever the features or
// their weights change: stored vectors of the old version must then be
// recomputed, and Model() is how callers notice.
const localVersion = "feature-hash-v1"

// Feature weights. Whole words carry the meaning; word pairs reward a
// shared phrase ("thermal runaway"); character trigrams let related forms
// meet ("encrypt", "encrypted", "encryption") and survive typos. Each
// word's trigrams share one weight, so long words do not dominate.
const (
	unigramWeight = 1.0
	bigramWeight  = 0.6
	trigramWeight = 1.0
)

// Local is an Embedder that needs no network and no model: it hashes the
// features of a text (lower-cased words, adjacent word pairs and the
// character trigrams of each word) into a fixed number of buckets with a
// sign bit (the "hashing trick"), then scales the vector to unit length.
// It is deterministic, fast (microseconds per text) and finds texts that
// share words or word stems; it does not know synonyms. It is safe for
// concurrent use.
type Local struct {
	dims int
}

var _ Embedder = (*Local)(nil)

// NewLocal returns a local embedder of the given dimensions
// (DefaultLocalDimensions when dims <= 0).
func NewLocal(dims int) *Local {
	if dims <= 0 {
		dims = DefaultLocalDimensions
	}
	return &Local{dims: dims}
}

// Model identifies the feature set and the dimensions.
func (l *Local) Model() string { return fmt.Sprintf("local:%s:%d", localVersion, l.dims) }

// Dimensions is the vector length.
func (l *Local) Dimensions() int { return l.dims }

// Embed hashes each text. It only fails when ctx is done.
func (l *Local) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		if i%64 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		out[i] = l.vector(t)
	}
	return out, nil
}

// vector computes the embedding of one text.
func (l *Local) vector(text string) []float32 {
	v := make([]float32, l.dims)
	words := tokenize(text)
	content := words[:0:0]
	for _, w := range words {
		if !stopWords[w] {
			content = append(content, w)
		}
	}
	// A text made only of stop words ("what is it") still gets a vector.
	if len(content) == 0 {
		content = words
	}
	for i, w := range content {
		l.add(v, "w\x00"+w, unigramWeight)
		if i > 0 {
			l.add(v, "b\x00"+content[i-1]+"\x00"+w, bigramWeight)
		}
		// Each word's trigrams together weigh trigramWeight (as a vector
		// length), however long the word.
		grams := trigrams(w)
		per := trigramWeight / float32(math.Sqrt(float64(len(grams))))
		for _, g := range grams {
			l.add(v, "c\x00"+g, per)
		}
	}
	Normalize(v)
	return v
}

// add hashes one feature into v, twice: each hash picks a bucket and one
// more bit picks the sign, so that colliding features cancel out on
// average instead of piling up, and one unlucky collision costs a feature
// half its weight rather than all of it.
func (l *Local) add(v []float32, feature string, weight float32) {
	h := fnv64a(feature)
	weight *= 1 / math.Sqrt2
	for range 2 {
		w := weight
		if h>>63 == 1 {
			w = -w
		}
		v[int(h%uint64(l.dims))] += w // #nosec G115 -- dims is a positive vector size and the remainder is below it
		h = mix64(h + 0x9e3779b97f4a7c15)
	}
}

// fnv64a is FNV-1a over the bytes of s, finalised, without the allocations of
// hash/fnv (this runs for every feature of every text).
func fnv64a(s string) uint64 {
	const (
		offset = 14695981039346656037
		prime  = 1099511628211
	)
	h := uint64(offset)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= prime
	}
	return mix64(h)
}

// mix64 is MurmurHash3's finaliser: FNV's low bits (the bucket) and top
// bit (the sign) are otherwise poorly mixed for short, similar features.
func mix64(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

// tokenize lower-cases text and splits it into runs of letters and digits.
func tokenize(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// trigrams returns the character trigrams of a word marked with its
// boundaries ("^ab$" for "ab"), so that a short word still has some and
// beginnings and endings count.
func trigrams(w string) []string {
	r := []rune("^" + w + "$")
	if len(r) < 3 {
		return []string{string(r)}
	}
	out := make([]string, 0, len(r)-2)
	for i := 0; i+3 <= len(r); i++ {
		out = append(out, string(r[i:i+3]))
	}
	return out
}

// stopWords are English words too common in requirements to say what a
// text is about; without this list "the system shall" would make every
// requirement look alike.
var stopWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`a an and are as at be been but by can could do does for from has have
		how i if in into is it its may must not of on or our shall should so such than that the their them
		then there these they this to was we were what when where which while who will with would you your
		all any each every no yes also only other same very`) {
		m[w] = true
	}
	return m
}()
