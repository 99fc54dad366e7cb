package tools_test

import (
	"fmt"
	"strings"
	"testing"
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
