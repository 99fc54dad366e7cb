package atoms

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/atomcp/atomcp/internal/domain"
)

// plainLevenshtein is the textbook O(n·m) distance, the reference for the
// bounded one.
func plainLevenshtein(a, b []rune) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func TestBoundedLevenshteinAgreesWithThePlainOne(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	word := func() []rune {
		n := r.IntN(12)
		out := make([]rune, n)
		for i := range out {
			out[i] = rune('a' + r.IntN(3))
		}
		return out
	}
	for range 20000 {
		a, b := word(), word()
		d := plainLevenshtein(a, b)
		for k := 0; k <= 13; k++ {
			got := boundedLevenshtein(a, b, k)
			want := d
			if d > k {
				want = k + 1
			}
			if got != want {
				t.Fatalf("boundedLevenshtein(%q, %q, %d) = %d, want %d (distance %d)", string(a), string(b), k, got, want, d)
			}
		}
	}
}

func TestSimilarityAtLeastKeepsScoresAboveTheFloor(t *testing.T) {
	names := []string{"authentication service", "auth", "login page", "authorization", "payment gateway", "a", "ab", "service auth"}
	for _, a := range names {
		for _, b := range names {
			full := similarity(a, b)
			got := similarityAtLeast(a, b, minScore)
			if full >= minScore && got != full {
				t.Errorf("similarityAtLeast(%q, %q) = %v, want %v", a, b, got, full)
			}
			if full < minScore && got >= minScore {
				t.Errorf("similarityAtLeast(%q, %q) = %v reaches the floor; similarity is %v", a, b, got, full)
			}
		}
	}
}

// TestFuzzyMatchingOfAHugeReferenceIsBounded: a 200 KB name against 3,000
// names cost 9.8 s of CPU before matching was bounded (issue 18); now the
// work per name is bounded by maxCompareRunes, so a 4 MiB reference costs
// about what a 256-character one does.
func TestFuzzyMatchingOfAHugeReferenceIsBounded(t *testing.T) {
	items := make([]*domain.Entity, 3000)
	for i := range items {
		items[i] = &domain.Entity{ID: fmt.Sprint(i), Fields: map[string]any{"name": fmt.Sprintf("requirement number %d about %s", i, strings.Repeat("x", i%300))}}
	}
	match := func(ref string) time.Duration {
		start := time.Now()
		_, _ = bestMatch(domain.Requirement, ref, items, "name")
		return time.Since(start)
	}
	short := strings.Repeat("requirement ", 22) // 264 characters
	base := min(match(short), match(short), match(short))
	huge := min(match(strings.Repeat("requirement ", 350_000)), match(strings.Repeat("requirement ", 350_000))) // 4.2 MB
	// Normalizing 4 MB is linear work of its own; the matching must not
	// grow with it: allow 10× the short reference plus a fixed margin.
	t.Logf("4 MB reference: %v; 264 characters: %v", huge, base)
	if huge > 10*base+200*time.Millisecond {
		t.Fatalf("a 4 MB reference took %v, a 264-character one %v: matching is not bounded", huge, base)
	}
}

func TestSearchTermsAreDistinctBoundedWords(t *testing.T) {
	many := strings.Repeat("alpha Beta ", 1000)
	for i := range 100 {
		many += fmt.Sprintf(" w%d", i)
	}
	for _, tc := range []struct{ in, want string }{
		{"rover  drive", "rover drive"},
		{"Rover rover ROVER drive", "Rover drive"},
		{"a-b c_d", "a b c d"},
		{"???", ""},
		{strings.Repeat("x", 100), strings.Repeat("x", MaxSearchWordChars)},
	} {
		if got := searchTerms(tc.in); got != tc.want {
			t.Errorf("searchTerms(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	got := strings.Fields(searchTerms(many))
	if len(got) != MaxSearchTerms || got[0] != "alpha" || got[1] != "Beta" || got[2] != "w0" {
		t.Errorf("searchTerms of 2,100 words = %d words starting %v", len(got), got[:3])
	}
}
