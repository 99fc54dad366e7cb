package tools_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/atomcp/atomcp/internal/store"
)

func TestQueryToolSearchAggregateAnalyzeGraph(t *testing.T) {
	e := newEnv(t)
	cs := e.client(t, alice)
	_, proj, doc := chain(t, cs, "Query")
	var reqs []string
	for i, r := range []struct{ name, status, priority, desc string }{
		{"Battery thermal limits", "active", "high", "cells stay below 45 °C"},
		{"Charging time", "draft", "low", "charge the battery in an hour"},
		{"Landing gear strength", "active", "high", ""},
		{"Paint colour", "rejected", "low", ""},
	} {
		id := entity(t, ok(t, cs, "entity_tool", map[string]any{"entity_type": "requirement", "operation": "create", "data": map[string]any{
			"document_id": doc, "name": r.name, "status": r.status, "priority": r.priority, "description": r.desc, "external_id": fmt.Sprintf("Q-%d", i+1),
		}}))["id"].(string)
		reqs = append(reqs, id)
	}
	tst := func(title string) string {
		return entity(t, ok(t, cs, "entity_tool", map[string]any{"entity_type": "test", "operation": "create", "data": map[string]any{"project_id": proj, "title": title}}))["id"].(string)
	}
	t1, t2, lonely := tst("Thermal chamber"), tst("Drop test"), tst("Unlinked test")
	link := func(kind string, src, tgt map[string]any, lt string) {
		ok(t, cs, "relationship_tool", map[string]any{"operation": "link", "relationship_type": kind, "source": src, "target": tgt, "link_type": lt})
	}
	rq := func(id string) map[string]any { return map[string]any{"type": "requirement", "id": id} }
	ts := func(id string) map[string]any { return map[string]any{"type": "test", "id": id} }
	link("requirement_test", rq(reqs[0]), ts(t1), "full")
	link("requirement_test", rq(reqs[2]), ts(t2), "partial")
	link("requirement_test", rq(reqs[3]), ts(lonely), "none")
	link("trace_link", rq(reqs[1]), rq(reqs[0]), "derives_from")
	link("trace_link", rq(reqs[3]), rq(reqs[2]), "relates_to")

	// search: ranked, highlighted, name matches before body matches.
	s := ok(t, cs, "query_tool", map[string]any{"query_type": "search", "search_term": "battery", "format_type": "summary"})
	results := s["results"].([]any)
	if len(results) != 2 || results[0].(map[string]any)["id"] != reqs[0] {
		t.Fatalf("search results = %v", results)
	}
	if name := results[0].(map[string]any)["name"].(string); !strings.Contains(name, "**Battery**") {
		t.Fatalf("no highlight in %q", name)
	}
	if snip := results[1].(map[string]any)["snippet"].(string); !strings.Contains(snip, "**battery**") {
		t.Fatalf("no highlighted snippet in %q", snip)
	}
	if r := call(t, cs, "query_tool", map[string]any{"query_type": "search"}); !r.isError || !strings.Contains(r.text, "search_term") {
		t.Fatalf("search without a term: %q", r.text)
	}

	// aggregate
	agg := ok(t, cs, "query_tool", map[string]any{"query_type": "aggregate", "entities": []string{"requirement"}, "project_id": proj})
	counts := agg["counts"].(map[string]any)
	if counts["status"].(map[string]any)["active"] != float64(2) || counts["priority"].(map[string]any)["low"] != float64(2) || agg["total"] != float64(4) {
		t.Fatalf("aggregate = %v", agg)
	}
	if r := call(t, cs, "query_tool", map[string]any{"query_type": "aggregate", "group_by": []string{"description"}}); !r.isError || !strings.Contains(r.text, "group_by") {
		t.Fatalf("aggregate by a text field: %q", r.text)
	}

	// analyze: two of four covered (coverage "none" does not count); the
	// lonely test covers nothing; deleting a requirement orphans its trace link.
	ok(t, cs, "entity_tool", map[string]any{"entity_type": "requirement", "operation": "delete", "entity_id": reqs[2]})
	an := ok(t, cs, "query_tool", map[string]any{"query_type": "analyze", "project_id": "Rover"})
	cov := an["coverage"].(map[string]any)
	if cov["requirements"] != float64(3) || cov["covered_requirements"] != float64(1) || cov["coverage_percent"] != 33.3 {
		t.Fatalf("coverage = %v", cov)
	}
	without := cov["requirements_without_tests"].([]any)
	if len(without) != 2 {
		t.Fatalf("requirements without tests = %v", without)
	}
	lonelyTests := cov["tests_without_requirements"].([]any)
	if len(lonelyTests) != 2 { // the lonely one (coverage none) and the drop test (its requirement is deleted)
		t.Fatalf("tests without requirements = %v", lonelyTests)
	}
	orphans := cov["orphan_trace_links"].([]any)
	if len(orphans) != 1 {
		t.Fatalf("orphan trace links = %v", orphans)
	}
	// Without a scope (the old server's global analyze): every project's coverage.
	all := ok(t, cs, "query_tool", map[string]any{"query_type": "analyze"})
	if ps, _ := all["projects"].([]any); len(ps) != 1 || ps[0].(map[string]any)["coverage"].(map[string]any)["requirements"] != float64(3) {
		t.Fatalf("analyze without scope: %v", all["projects"])
	}

	// relationships graph
	g := ok(t, cs, "query_tool", map[string]any{"query_type": "relationships", "entity_type": "requirement", "entity_id": "Battery thermal limits", "depth": 1})
	graph := g["graph"].(map[string]any)
	if n, ed := len(graph["nodes"].([]any)), len(graph["edges"].([]any)); n != 3 || ed != 2 {
		t.Fatalf("graph = %v", graph)
	}
	if r := call(t, cs, "query_tool", map[string]any{"query_type": "relationships", "entity_type": "requirement", "entity_id": reqs[0], "depth": 9}); !r.isError || !strings.Contains(r.text, "depth") {
		t.Fatalf("depth 9: %q", r.text)
	}
}

// Past store.SearchRankWindow hits, search says that the total is a bound
// (total_capped) and that ranking is by windows (rank_window); below it,
// neither. The better matches, created first, are in the older window:
// the first page is of the newest window, and they come after it.
func TestQueryToolSearchPastTheRankWindow(t *testing.T) {
	e := newEnv(t)
	cs := e.client(t, alice)
	_, _, doc := chain(t, cs, "Windows")
	batch := func(n int, name string) {
		items := make([]any, n)
		for i := range items {
			items[i] = map[string]any{"document_id": doc, "name": name}
		}
		if r := ok(t, cs, "entity_tool", map[string]any{"entity_type": "requirement", "operation": "batch_create", "batch": items}); r["created"] != float64(n) {
			t.Fatalf("created %v; want %d", r["created"], n)
		}
	}
	batch(5, "Valve valve valve seal")
	batch(store.SearchRankWindow, "Valve housing")
	s := ok(t, cs, "query_tool", map[string]any{"query_type": "search", "search_term": "valve", "limit": 10})
	if s["total"] != float64(store.SearchCountLimit) || s["total_capped"] != true || s["has_more"] != true || s["rank_window"] != float64(store.SearchRankWindow) {
		t.Fatalf("total %v, total_capped %v, has_more %v, rank_window %v; want %d, true, true, %d", s["total"], s["total_capped"], s["has_more"], s["rank_window"], store.SearchCountLimit, store.SearchRankWindow)
	}
	names := func(page map[string]any) []string {
		var out []string
		for _, r := range page["results"].([]any) {
			out = append(out, r.(map[string]any)["name"].(string))
		}
		return out
	}
	for _, name := range names(s) {
		if name != "**Valve** housing" {
			t.Fatalf("first page %q; want the newest window's hits only", names(s))
		}
	}
	last := ok(t, cs, "query_tool", map[string]any{"query_type": "search", "search_term": "valve", "limit": 10, "offset": store.SearchRankWindow})
	if last["total"] != float64(store.SearchRankWindow+5) || last["total_capped"] != nil || last["has_more"] != false || last["rank_window"] != float64(store.SearchRankWindow) {
		t.Fatalf("last page: total %v, total_capped %v, has_more %v, rank_window %v; want the exact %d, no cap, no more, %d", last["total"], last["total_capped"], last["has_more"], last["rank_window"], store.SearchRankWindow+5, store.SearchRankWindow)
	}
	if got := names(last); len(got) != 5 || got[0] != "**Valve** **valve** **valve** seal" {
		t.Fatalf("last page %q; want the 5 older, better matches", got)
	}
	few := ok(t, cs, "query_tool", map[string]any{"query_type": "search", "search_term": "valve seal"})
	if few["total"] != float64(5) || few["total_capped"] != nil || few["rank_window"] != nil {
		t.Fatalf("search of 5 hits: total %v, total_capped %v, rank_window %v; want 5 and neither", few["total"], few["total_capped"], few["rank_window"])
	}
}
