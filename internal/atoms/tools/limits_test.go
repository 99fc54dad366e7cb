package tools_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/atomcp/atomcp/internal/atoms"
	"github.com/atomcp/atomcp/internal/atoms/tools"
)

// TestOverlongArgumentsAreRefusedByName: an argument over its maxLength
// gets a tool error that names it, its length and the limit, without the
// value (go-sdk's own message quotes the value whole).
func TestOverlongArgumentsAreRefusedByName(t *testing.T) {
	e := newEnv(t)
	cs := e.client(t, alice)
	_, _, doc := chain(t, cs, "Acme")
	mb := strings.Repeat("word ", 200_000) // 1 MB
	for _, tc := range []struct {
		name, tool string
		args       map[string]any
		want       string
	}{
		{"1 MB query search", "query_tool", map[string]any{"query_type": "search", "search_term": mb},
			fmt.Sprintf("search_term is %d characters long; the limit is %d characters", len(mb), tools.MaxSearchChars)},
		{"1 MB entity search", "entity_tool", map[string]any{"entity_type": "requirement", "operation": "search", "search_term": mb},
			"search_term is 1000000 characters long"},
		{"huge entity_id", "entity_tool", map[string]any{"entity_type": "requirement", "operation": "read", "entity_id": strings.Repeat("é", 600)},
			fmt.Sprintf("entity_id is 600 characters long; the limit is %d characters", tools.MaxNameChars)},
		{"long name in data", "entity_tool", map[string]any{"entity_type": "requirement", "operation": "create", "data": map[string]any{"document_id": doc, "name": strings.Repeat("n", 1001)}},
			"data.name is 1001 characters long; the limit is 1000 characters"},
		{"long description in a batch", "entity_tool", map[string]any{"entity_type": "requirement", "operation": "batch_create", "batch": []any{map[string]any{"document_id": doc, "name": "a"}, map[string]any{"document_id": doc, "name": "b", "description": strings.Repeat("d", atoms.MaxTextChars+1)}}},
			fmt.Sprintf("batch[1].description is %d characters long; the limit is %d characters", atoms.MaxTextChars+1, atoms.MaxTextChars)},
		{"long relationship end", "relationship_tool", map[string]any{"operation": "list", "relationship_type": "trace_link", "source": map[string]any{"type": "requirement", "id": strings.Repeat("x", 501)}},
			"source.id is 501 characters long"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			r := call(t, cs, tc.tool, tc.args)
			if !r.isError || !strings.Contains(r.text, tc.want) {
				t.Fatalf("got error=%v %.300q, want an error containing %q", r.isError, r.text, tc.want)
			}
			if len(r.text) > 500 {
				t.Errorf("the error is %d bytes long: it quotes the value", len(r.text))
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("the refusal took %v", d)
			}
		})
	}
}

// TestLongestSearchIsFast: a search term at the limit, made of distinct
// words (the costly case for full-text engines, each word a prefix term
// that must occur), answers at once.
func TestLongestSearchIsFast(t *testing.T) {
	e := newEnv(t)
	cs := e.client(t, alice)
	_, _, doc := chain(t, cs, "Acme")
	for i := range 50 {
		ok(t, cs, "entity_tool", map[string]any{"entity_type": "requirement", "operation": "create", "data": map[string]any{"document_id": doc, "name": fmt.Sprintf("requirement %d alpha beta", i), "description": "the rover shall drive"}})
	}
	var b strings.Builder
	for i := 0; b.Len() < tools.MaxSearchChars-10; i++ {
		fmt.Fprintf(&b, "w%d ", i)
	}
	for _, term := range []string{b.String(), strings.Repeat("a ", tools.MaxSearchChars/2), "requirement alpha " + b.String()[:900]} {
		start := time.Now()
		r := call(t, cs, "query_tool", map[string]any{"query_type": "search", "search_term": term})
		if r.isError {
			t.Fatalf("search failed: %s", r.text)
		}
		r = call(t, cs, "entity_tool", map[string]any{"entity_type": "requirement", "operation": "search", "search_term": term})
		if r.isError {
			t.Fatalf("entity search failed: %s", r.text)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("two searches of %d characters took %v", len(term), d)
		}
	}
}
