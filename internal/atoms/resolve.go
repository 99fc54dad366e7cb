package atoms

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

// ErrAmbiguous means a name matched several entities equally well; the
// AmbiguousError carries the candidates so that the caller can choose.
var ErrAmbiguous = errors.New("ambiguous name")

// Candidate is one possible match of a name.
type Candidate struct {
	ID    string  `json:"id"`
	Name  string  `json:"name"`
	Score float64 `json:"score"`
}

// AmbiguousError lists the entities a name could mean.
type AmbiguousError struct {
	Type       domain.EntityType
	Query      string
	Candidates []Candidate
}

func (e *AmbiguousError) Error() string {
	names := make([]string, len(e.Candidates))
	for i, c := range e.Candidates {
		names[i] = fmt.Sprintf("%q (%s)", c.Name, c.ID)
	}
	return fmt.Sprintf("%q matches several %ss: %s; pass one of these ids instead", e.Query, e.Type, strings.Join(names, ", "))
}

func (e *AmbiguousError) Unwrap() error { return ErrAmbiguous }

// maxNameScan bounds the names read for fuzzy matching, so that a huge
// organization cannot make one lookup expensive.
const maxNameScan = 5000

// Thresholds of fuzzy matching, on a 0..1 similarity: a candidate below
// minScore is no match at all; a best match wins alone only when it leads
// the next one by clearMargin.
const (
	minScore    = 0.6
	clearMargin = 0.1
)

// ResolveID turns an entity reference (a UUID, or a name, possibly
// misspelled) into the id of an entity the actor can see.
func (s *Service) ResolveID(ctx context.Context, a *Actor, t domain.EntityType, ref string) (string, error) {
	e, err := s.resolve(ctx, s.store, a, t, ref)
	if err != nil {
		return "", err
	}
	return e.ID, nil
}

// resolve finds the entity a reference means. A UUID must name a visible
// entity; anything else is matched against names (exact, case-insensitive,
// then fuzzy) among the actor's non-deleted entities of the type.
func (s *Service) resolve(ctx context.Context, tx store.Ops, a *Actor, t domain.EntityType, ref string) (*domain.Entity, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return nil, fmt.Errorf("%w: an empty %s reference", domain.ErrInvalid, t)
	}
	if _, err := uuid.Parse(ref); err == nil {
		return s.getVisible(ctx, tx, a, t, ref)
	}
	k, err := domain.KindOf(t)
	if err != nil {
		return nil, err
	}
	orgs := a.OrganizationIDs()
	if len(orgs) == 0 {
		return nil, fmt.Errorf("%s %q: %w", t, ref, domain.ErrNotFound)
	}
	page, err := tx.ListEntities(ctx, store.EntityQuery{Type: t, OrganizationIDs: orgs, Limit: maxNameScan})
	if err != nil {
		return nil, fmt.Errorf("resolve %s %q: %w", t, ref, err)
	}
	match, err := bestMatch(t, ref, page.Items, k.NameField)
	if err != nil {
		return nil, err
	}
	return match, nil
}

func bestMatch(t domain.EntityType, ref string, items []*domain.Entity, nameField string) (*domain.Entity, error) {
	want := normalizeName(ref)
	type scored struct {
		e     *domain.Entity
		score float64
	}
	var exact, fuzzy []scored
	for _, e := range items {
		name := normalizeName(e.Str(nameField))
		if name == want || (e.Str("external_id") != "" && normalizeName(e.Str("external_id")) == want) {
			exact = append(exact, scored{e, 1})
			continue
		}
		if sc := similarityAtLeast(want, name, minScore); sc >= minScore {
			fuzzy = append(fuzzy, scored{e, sc})
		}
	}
	candidates := exact
	if len(exact) == 0 {
		candidates = fuzzy
	}
	sort.SliceStable(candidates, func(i, j int) bool { return candidates[i].score > candidates[j].score })
	switch {
	case len(candidates) == 0:
		return nil, &NoMatchError{Type: t, Query: ref, Suggestions: suggestions(want, items, nameField)}
	case len(candidates) == 1,
		len(exact) == 0 && candidates[0].score-candidates[1].score >= clearMargin:
		return candidates[0].e, nil
	}
	amb := &AmbiguousError{Type: t, Query: ref}
	for i, c := range candidates {
		if i == 5 {
			break
		}
		amb.Candidates = append(amb.Candidates, Candidate{ID: c.e.ID, Name: c.e.Str(nameField), Score: float64(int(c.score*100)) / 100})
	}
	return nil, amb
}

// NoMatchError is a name that matches no entity; Suggestions are the
// nearest names, best first (the old Atoms server offered them too).
type NoMatchError struct {
	Type        domain.EntityType
	Query       string
	Suggestions []Candidate
}

func (e *NoMatchError) Error() string {
	return fmt.Sprintf("no %s named like %q: %v", e.Type, e.Query, domain.ErrNotFound)
}

func (e *NoMatchError) Unwrap() error { return domain.ErrNotFound }

// Suggestions below this similarity are not worth offering.
const minSuggestionScore = 0.3

// suggestions are the (at most three) names nearest to want, however far.
func suggestions(want string, items []*domain.Entity, nameField string) []Candidate {
	var out []Candidate
	for _, e := range items {
		sc := similarity(want, normalizeName(e.Str(nameField)))
		if sc >= minSuggestionScore {
			out = append(out, Candidate{ID: e.ID, Name: e.Str(nameField), Score: float64(int(sc*100)) / 100})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Score > out[j].Score })
	if len(out) > 3 {
		out = out[:3]
	}
	return out
}

func normalizeName(s string) string {
	return strings.Join(strings.Fields(strings.ToLower(s)), " ")
}

// maxCompareRunes bounds fuzzy name matching: names are compared on
// their first maxCompareRunes characters, so that a long reference costs
// no more than a short one (an exact match still compares whole names).
const maxCompareRunes = 256

// similarity is 1 minus the normalized Levenshtein distance, raised for a
// name that contains the query as a word prefix ("auth" → "Authentication
// service"), since that is how people abbreviate.
func similarity(a, b string) float64 { return similarityAtLeast(a, b, 0) }

// similarityAtLeast is similarity when that is at least floor, and some
// score below floor otherwise: it stops comparing as soon as the names
// differ too much to reach floor, so that one reference against thousands
// of names costs O(names · maxCompareRunes · band), the band shrinking as
// floor rises.
func similarityAtLeast(a, b string, floor float64) float64 {
	if a == "" || b == "" {
		return 0
	}
	// A longer a cannot be in b: skip the search (and a's rune count).
	bonus := len(a) >= 3 && len(a) <= len(b) && utf8.RuneCountInString(a) >= 3 &&
		(strings.HasPrefix(b, a) || containsWordPrefix(b, a))
	ra, rb := capRunes(a), capRunes(b)
	maxLen := max(len(ra), len(rb))
	k := int(math.Floor((1-floor)*float64(maxLen) + 1e-9))
	d := boundedLevenshtein(ra, rb, k)
	if d > k {
		if bonus {
			return 0.8
		}
		return 0
	}
	sc := 1 - float64(d)/float64(maxLen)
	if bonus {
		sc = max(sc, 0.8)
	}
	return sc
}

// containsWordPrefix reports whether s contains " "+w, without building it.
func containsWordPrefix(s, w string) bool {
	for i := strings.Index(s, w); i >= 0; {
		if i > 0 && s[i-1] == ' ' {
			return true
		}
		j := strings.Index(s[i+1:], w)
		if j < 0 {
			return false
		}
		i += 1 + j
	}
	return false
}

// capRunes returns the first maxCompareRunes runes of s, decoding no more.
func capRunes(s string) []rune {
	r := make([]rune, 0, min(len(s), maxCompareRunes))
	for _, c := range s {
		if len(r) == maxCompareRunes {
			break
		}
		r = append(r, c)
	}
	return r
}

// boundedLevenshtein is the edit distance of a and b when it is at most
// k, and k+1 otherwise. It fills only the band of cells within k of the
// diagonal and stops at the first row whose every cell exceeds k: O(len(a)·k).
func boundedLevenshtein(a, b []rune, k int) int {
	la, lb := len(a), len(b)
	if la-lb > k || lb-la > k {
		return k + 1
	}
	inf := k + 1
	prev := make([]int, lb+1)
	cur := make([]int, lb+1)
	for j := range prev {
		prev[j] = min(j, inf)
	}
	for i := 1; i <= la; i++ {
		lo, hi := max(1, i-k), min(lb, i+k)
		rowMin := inf
		if lo == 1 {
			cur[0] = min(i, inf)
			rowMin = cur[0]
		} else {
			cur[lo-1] = inf
		}
		for j := lo; j <= hi; j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost, inf)
			cur[j] = v
			rowMin = min(rowMin, v)
		}
		if hi < lb {
			cur[hi+1] = inf
		}
		if rowMin >= inf {
			return inf
		}
		prev, cur = cur, prev
	}
	return min(prev[lb], inf)
}
