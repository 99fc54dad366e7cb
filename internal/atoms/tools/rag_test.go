package tools_test

import (
	"strings"
	"testing"
)

// TestQueryToolRetrievalWiring: rag_search and similarity reach the
// service through query_tool; without stored vectors the answer is keyword
// results and the count of entities still waiting for embeddings (the worker and the vector modes are tested in
// internal/atoms).
func TestQueryToolRetrievalWiring(t *testing.T) {
	e := newEnv(t)
	cs := e.client(t, alice)
	_, proj, doc := chain(t, cs, "Retrieval")
	for _, name := range []string{"Battery thermal runaway detection", "Landing gear strength", "Battery charging time"} {
		ok(t, cs, "entity_tool", map[string]any{"entity_type": "requirement", "operation": "create", "data": map[string]any{"document_id": doc, "name": name}})
	}
	kw := ok(t, cs, "query_tool", map[string]any{"query_type": "rag_search", "search_term": "battery", "rag_mode": "keyword", "project_id": proj})
	rag := kw["rag"].(map[string]any)
	if rag["mode"] != "keyword" || len(rag["results"].([]any)) != 2 {
		t.Fatalf("keyword rag_search = %v", rag)
	}
	auto := ok(t, cs, "query_tool", map[string]any{"query_type": "rag_search", "search_term": "battery heat"})["rag"].(map[string]any)
	if auto["mode"] != "keyword" || auto["pending_embeddings"] == nil {
		t.Fatalf("auto without vectors should answer with keywords and count the entities waiting for embeddings: %v", auto)
	}
	for _, tc := range []struct {
		args map[string]any
		want string
	}{
		{map[string]any{"query_type": "rag_search", "search_term": "x", "rag_mode": "telepathic"}, "rag_mode"},
		{map[string]any{"query_type": "rag_search", "search_term": "x", "document_id": doc}, "project_id"},
		{map[string]any{"query_type": "similarity", "entity_type": "requirement"}, "entity_id"},
		{map[string]any{"query_type": "similarity", "entity_type": "requirement", "entity_id": "no such thing at all"}, "not"},
	} {
		r := call(t, cs, "query_tool", tc.args)
		if !r.isError || !strings.Contains(r.text, tc.want) {
			t.Errorf("%v: error=%v %q; want one mentioning %q", tc.args, r.isError, r.text, tc.want)
		}
	}
}
