package tools_test

import (
	"strings"
	"testing"
)

// A deleted document hides its requirements from every tool that shows
// them, and its restore brings back exactly those.
func TestDeleteCascadesThroughTheTools(t *testing.T) {
	e := newEnv(t)
	cs := e.client(t, alice)
	_, proj, doc := chain(t, cs, "Cascade")
	other := entity(t, ok(t, cs, "entity_tool", map[string]any{"entity_type": "document", "operation": "create", "data": map[string]any{"project_id": proj, "name": "Other"}}))["id"].(string)
	mk := func(docID, name, ext string) string {
		return entity(t, ok(t, cs, "entity_tool", map[string]any{"entity_type": "requirement", "operation": "create",
			"data": map[string]any{"document_id": docID, "name": name, "external_id": ext}}))["id"].(string)
	}
	hidden, gone, kept := mk(doc, "Quartz clock", "REQ-1"), mk(doc, "Quartz alarm", "REQ-2"), mk(other, "Quartz display", "REQ-3")
	test := entity(t, ok(t, cs, "entity_tool", map[string]any{"entity_type": "test", "operation": "create", "data": map[string]any{"project_id": proj, "title": "Tick"}}))["id"].(string)
	rq := func(id string) map[string]any { return map[string]any{"type": "requirement", "id": id} }
	ok(t, cs, "relationship_tool", map[string]any{"operation": "link", "relationship_type": "trace_link", "source": rq(kept), "target": rq(hidden), "link_type": "derives_from"})
	ok(t, cs, "relationship_tool", map[string]any{"operation": "link", "relationship_type": "requirement_test", "source": rq(hidden), "target": map[string]any{"type": "test", "id": test}})

	// One requirement is deleted on its own before its document.
	ok(t, cs, "entity_tool", map[string]any{"entity_type": "requirement", "operation": "delete", "entity_id": gone})
	ok(t, cs, "entity_tool", map[string]any{"entity_type": "document", "operation": "delete", "entity_id": doc})

	names := func(args map[string]any) []string {
		t.Helper()
		var out []string
		for _, it := range ok(t, cs, "entity_tool", args)["items"].([]any) {
			out = append(out, it.(map[string]any)["name"].(string))
		}
		return out
	}
	listReqs := map[string]any{"entity_type": "requirement", "operation": "list", "filters": map[string]any{"project_id": proj}}
	if got := names(listReqs); strings.Join(got, ",") != "Quartz display" {
		t.Errorf("requirements listed after the document's delete = %v; want only Quartz display", got)
	}
	if got := names(map[string]any{"entity_type": "requirement", "operation": "search", "search_term": "quartz"}); strings.Join(got, ",") != "Quartz display" {
		t.Errorf("entity_tool search = %v; want only Quartz display", got)
	}
	s := ok(t, cs, "query_tool", map[string]any{"query_type": "search", "search_term": "quartz", "format_type": "summary"})
	if rs := s["results"].([]any); len(rs) != 1 || rs[0].(map[string]any)["id"] != kept {
		t.Errorf("query_tool search = %v; want only Quartz display", rs)
	}
	if r := call(t, cs, "entity_tool", map[string]any{"entity_type": "requirement", "operation": "read", "entity_id": hidden}); !r.isError || !strings.Contains(r.text, "hidden") {
		t.Errorf("read of a requirement hidden with its document: error=%v %q; want it hidden", r.isError, r.text)
	}
	read := entity(t, ok(t, cs, "entity_tool", map[string]any{"entity_type": "requirement", "operation": "read", "entity_id": hidden, "include_deleted": true}))
	if read["is_deleted"] != true || read["deleted_with"] != doc {
		t.Errorf("read with include_deleted = %v; want deleted with the document %s", read, doc)
	}
	links := ok(t, cs, "relationship_tool", map[string]any{"operation": "list", "relationship_type": "trace_link", "source": rq(kept)})
	if links["count"] != float64(0) {
		t.Errorf("trace links of Quartz display = %v; want none (the other end is hidden)", links)
	}
	an := ok(t, cs, "query_tool", map[string]any{"query_type": "analyze", "project_id": proj})
	if cov := an["coverage"].(map[string]any); cov["requirements"] != float64(1) || cov["covered_requirements"] != float64(0) {
		t.Errorf("analyze after the document's delete = %v; want 1 requirement, none covered", cov)
	}

	// The hidden requirement is restored with its document, not alone.
	if r := call(t, cs, "entity_tool", map[string]any{"entity_type": "requirement", "operation": "restore", "entity_id": hidden}); !r.isError || !strings.Contains(r.text, "restore that document") {
		t.Errorf("restore of a requirement hidden with its document: error=%v %q", r.isError, r.text)
	}
	ok(t, cs, "entity_tool", map[string]any{"entity_type": "document", "operation": "restore", "entity_id": doc})
	if got := names(listReqs); strings.Join(got, ",") != "Quartz clock,Quartz display" {
		t.Errorf("requirements after the document's restore = %v; want Quartz clock and Quartz display (Quartz alarm was deleted before)", got)
	}
	links = ok(t, cs, "relationship_tool", map[string]any{"operation": "list", "relationship_type": "trace_link", "source": rq(kept)})
	if links["count"] != float64(1) {
		t.Errorf("trace links after the restore = %v; want the one back", links)
	}
	cov := ok(t, cs, "relationship_tool", map[string]any{"operation": "check", "relationship_type": "requirement_test", "source": rq(hidden), "target": map[string]any{"type": "test", "id": test}})
	if cov["exists"] != true {
		t.Errorf("coverage link after the restore: %v", cov)
	}
}
