//go:build attack

package e2e

import (
	"database/sql"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

func toolParams(name string, args map[string]any) *mcp.CallToolParams {
	return &mcp.CallToolParams{Name: name, Arguments: args}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// aliceData is what Alice owns; Bob goes after it.
type aliceData struct {
	org, project, doc, req, test, link map[string]any
	names                              []string // every name and id of hers
}

// aliceMarker is in every description Alice writes: it must never reach
// Bob.
const aliceMarker = "alice-private-marker-qz19"

func setUpAlice(t *testing.T, cs *mcp.ClientSession) *aliceData {
	t.Helper()
	create := func(typ string, data map[string]any) map[string]any {
		return entityOf(t, mustCall(t, cs, "entity_tool", map[string]any{"entity_type": typ, "operation": "create", "data": data}))
	}
	d := &aliceData{}
	d.org = create("organization", map[string]any{"name": "Zephyr Confidential Org", "description": aliceMarker})
	d.project = create("project", map[string]any{"organization_id": d.org["id"], "name": "Zephyr Hidden Project", "description": aliceMarker})
	d.doc = create("document", map[string]any{"project_id": d.project["id"], "name": "Zephyr Secret Spec", "description": aliceMarker, "content": aliceMarker})
	d.req = create("requirement", map[string]any{"document_id": d.doc["id"], "name": "Zephyr thrust vector limit", "external_id": "ZEP-1", "description": aliceMarker})
	d.test = create("test", map[string]any{"project_id": d.project["id"], "title": "Zephyr thrust vector test", "description": aliceMarker})
	d.link = mustCall(t, cs, "relationship_tool", map[string]any{"operation": "link", "relationship_type": "requirement_test",
		"source": map[string]any{"type": "requirement", "id": d.req["id"]}, "target": map[string]any{"type": "test", "id": d.test["id"]}})
	d.names = []string{"Zephyr Confidential Org", "Zephyr Hidden Project", "Zephyr Secret Spec", "Zephyr thrust vector limit", "Zephyr thrust vector test"}
	for _, e := range []map[string]any{d.org, d.project, d.doc, d.req, d.test} {
		d.names = append(d.names, e["id"].(string))
	}
	return d
}

// leaks returns what of Alice's data is in text: the marker, and any of
// her names that the request itself did not carry.
func (d *aliceData) leaks(text, request string) []string {
	var out []string
	if strings.Contains(text, aliceMarker) {
		out = append(out, "the marker of Alice's descriptions")
	}
	for _, n := range d.names {
		if strings.Contains(text, n) && !strings.Contains(request, n) {
			out = append(out, n)
		}
	}
	return out
}

// TestAttackTenantIsolation: Bob, signed in with his own token, reaches
// for Alice's organization, project, document, requirement, test and
// links through every tool, the resource, the prompts and completions,
// by id, by name, by search and by filters. Each call is refused or
// answers without her data, and nothing is written; the reads that
// should show her data do when Alice makes them (the control).
func TestAttackTenantIsolation(t *testing.T) {
	a := newAttackServer(t)
	alice, err := connectWithToken(t, a.URL, a.alicePAT)
	if err != nil {
		t.Fatal(err)
	}
	bob, err := connectWithToken(t, a.URL, a.bobPAT)
	if err != nil {
		t.Fatal(err)
	}
	d := setUpAlice(t, alice)
	mustCall(t, bob, "workspace_tool", map[string]any{"operation": "list_workspaces"}) // Bob's profile and personal organization
	bobOrg := entityOf(t, mustCall(t, bob, "entity_tool", map[string]any{"entity_type": "organization", "operation": "create", "data": map[string]any{"name": "Bob Org"}}))
	bobProject := entityOf(t, mustCall(t, bob, "entity_tool", map[string]any{"entity_type": "project", "operation": "create", "data": map[string]any{"organization_id": bobOrg["id"], "name": "Bob Project"}}))
	bobDoc := entityOf(t, mustCall(t, bob, "entity_tool", map[string]any{"entity_type": "document", "operation": "create", "data": map[string]any{"project_id": bobProject["id"], "name": "Bob Doc"}}))
	bobReq := entityOf(t, mustCall(t, bob, "entity_tool", map[string]any{"entity_type": "requirement", "operation": "create", "data": map[string]any{"document_id": bobDoc["id"], "name": "Bob req"}}))

	ent := func(typ, op string, more map[string]any) map[string]any {
		m := map[string]any{"entity_type": typ, "operation": op}
		for k, v := range more {
			m[k] = v
		}
		return m
	}
	id := func(e map[string]any) any { return e["id"] }
	ref := func(typ string, e any) map[string]any { return map[string]any{"type": typ, "id": e} }
	linkID, _ := d.link["id"].(string)
	if linkID == "" {
		if l, ok := d.link["link"].(map[string]any); ok {
			linkID, _ = l["id"].(string)
		}
	}

	cases := []struct {
		name    string
		tool    string
		args    map[string]any
		control bool // Alice's same call shows her data
		open    bool // may answer (without her data) instead of a tool error
	}{
		{"read organization by id", "entity_tool", ent("organization", "read", map[string]any{"entity_id": id(d.org)}), true, false},
		{"read project by id", "entity_tool", ent("project", "read", map[string]any{"entity_id": id(d.project)}), true, false},
		{"read document by id", "entity_tool", ent("document", "read", map[string]any{"entity_id": id(d.doc)}), true, false},
		{"read requirement by id", "entity_tool", ent("requirement", "read", map[string]any{"entity_id": id(d.req)}), true, false},
		{"read test by id", "entity_tool", ent("test", "read", map[string]any{"entity_id": id(d.test)}), true, false},
		{"read requirement by name", "entity_tool", ent("requirement", "read", map[string]any{"entity_id": "Zephyr thrust vector limit"}), true, false},
		{"read requirement by a misspelt name (fuzzy)", "entity_tool", ent("requirement", "read", map[string]any{"entity_id": "Zephyr thrust vectr limit"}), true, false},
		{"read requirement by external id", "entity_tool", ent("requirement", "read", map[string]any{"entity_id": "ZEP-1"}), true, false},
		{"read project by name", "entity_tool", ent("project", "read", map[string]any{"entity_id": "Zephyr Hidden Project"}), true, false},
		{"list projects of her organization", "entity_tool", ent("project", "list", map[string]any{"filters": map[string]any{"organization_id": id(d.org)}}), true, true},
		{"list requirements of her document", "entity_tool", ent("requirement", "list", map[string]any{"filters": map[string]any{"document_id": id(d.doc)}}), true, true},
		{"list tests of her project by name", "entity_tool", ent("test", "list", map[string]any{"filters": map[string]any{"project_id": "Zephyr Hidden Project"}}), true, true},
		{"list every requirement", "entity_tool", ent("requirement", "list", nil), true, true},
		{"list every organization", "entity_tool", ent("organization", "list", nil), true, true},
		{"entity search by name", "entity_tool", ent("requirement", "search", map[string]any{"search_term": "Zephyr"}), true, true},
		{"query search by marker", "query_tool", map[string]any{"query_type": "search", "search_term": aliceMarker}, true, true},
		{"query search by name", "query_tool", map[string]any{"query_type": "search", "search_term": "Zephyr thrust"}, true, true},
		{"rag_search", "query_tool", map[string]any{"query_type": "rag_search", "search_term": "Zephyr thrust vector"}, true, true},
		{"aggregate her project", "query_tool", map[string]any{"query_type": "aggregate", "project_id": id(d.project)}, false, false},
		{"analyze her project", "query_tool", map[string]any{"query_type": "analyze", "project_id": id(d.project)}, false, false},
		{"relationships around her requirement", "query_tool", map[string]any{"query_type": "relationships", "entity_type": "requirement", "entity_id": id(d.req)}, true, false},
		{"similarity to her requirement", "query_tool", map[string]any{"query_type": "similarity", "entity_type": "requirement", "entity_id": id(d.req)}, false, false},
		{"list the links of her requirement", "relationship_tool", map[string]any{"operation": "list", "relationship_type": "requirement_test", "source": ref("requirement", id(d.req))}, true, true},
		{"check her link", "relationship_tool", map[string]any{"operation": "check", "relationship_type": "requirement_test", "source": ref("requirement", id(d.req)), "target": ref("test", id(d.test))}, false, false},
		{"list the members of her organization", "relationship_tool", map[string]any{"operation": "list", "relationship_type": "member", "source": ref("organization", id(d.org))}, false, true},
		{"set context to her organization", "workspace_tool", map[string]any{"operation": "set_context", "context_type": "organization", "entity_id": id(d.org)}, false, false},
		{"set context to her project by name", "workspace_tool", map[string]any{"operation": "set_context", "context_type": "project", "entity_id": "Zephyr Hidden Project"}, false, false},
		{"list workspaces", "workspace_tool", map[string]any{"operation": "list_workspaces"}, true, true},
		{"old context_tool to her project", "context_tool", map[string]any{"operation": "set_context", "context_type": "project", "context_id": id(d.project)}, false, false},
		// Writes.
		{"update her requirement", "entity_tool", ent("requirement", "update", map[string]any{"entity_id": id(d.req), "data": map[string]any{"name": "pwned"}}), false, false},
		{"update her requirement by name", "entity_tool", ent("requirement", "update", map[string]any{"entity_id": "Zephyr thrust vector limit", "data": map[string]any{"status": "rejected"}}), false, false},
		{"delete her requirement", "entity_tool", ent("requirement", "delete", map[string]any{"entity_id": id(d.req)}), false, false},
		{"hard delete her test", "entity_tool", ent("test", "delete", map[string]any{"entity_id": id(d.test), "soft_delete": false}), false, false},
		{"delete her organization", "entity_tool", ent("organization", "delete", map[string]any{"entity_id": id(d.org)}), false, false},
		{"restore in her project", "entity_tool", ent("requirement", "restore", map[string]any{"entity_id": id(d.req)}), false, false},
		{"create a project in her organization", "entity_tool", ent("project", "create", map[string]any{"data": map[string]any{"organization_id": id(d.org), "name": "Intruder"}}), false, false},
		{"create a requirement in her document", "entity_tool", ent("requirement", "create", map[string]any{"data": map[string]any{"document_id": id(d.doc), "name": "Intruder"}}), false, false},
		{"batch create in her document", "entity_tool", ent("requirement", "batch_create", map[string]any{"data": []any{map[string]any{"document_id": id(d.doc), "name": "Intruder"}}}), false, false},
		{"move his requirement into her document", "entity_tool", ent("requirement", "update", map[string]any{"entity_id": id(bobReq), "data": map[string]any{"document_id": id(d.doc)}}), false, false},
		{"link his requirement to her test", "relationship_tool", map[string]any{"operation": "link", "relationship_type": "requirement_test", "source": ref("requirement", id(bobReq)), "target": ref("test", id(d.test))}, false, false},
		{"trace link from her requirement", "relationship_tool", map[string]any{"operation": "link", "relationship_type": "trace_link", "source": ref("requirement", id(d.req)), "target": ref("requirement", id(bobReq))}, false, false},
		{"unlink her link", "relationship_tool", map[string]any{"operation": "unlink", "link_id": linkID, "relationship_type": "requirement_test"}, false, false},
		{"update her link", "relationship_tool", map[string]any{"operation": "update", "link_id": linkID, "relationship_type": "requirement_test", "link_type": "none"}, false, false},
		{"add himself to her organization", "relationship_tool", map[string]any{"operation": "link", "relationship_type": "member", "source": ref("organization", id(d.org)), "target": map[string]any{"id": "bob@example.com"}, "link_type": "owner"}, false, false},
		{"invite himself to her organization", "relationship_tool", map[string]any{"operation": "link", "relationship_type": "invitation", "source": ref("organization", id(d.org)), "target": map[string]any{"id": "bob@example.com"}}, false, false},
		{"assign himself to her requirement", "relationship_tool", map[string]any{"operation": "link", "relationship_type": "assignment", "source": ref("requirement", id(d.req)), "target": map[string]any{"id": "bob@example.com"}}, false, false},
		{"import into her document", "workflow_tool", map[string]any{"workflow": "import_requirements", "parameters": map[string]any{"document_id": id(d.doc), "requirements": []any{map[string]any{"name": "Intruder"}}}}, false, false},
		{"import into her document by name", "workflow_tool", map[string]any{"workflow": "import_requirements", "parameters": map[string]any{"document_id": "Zephyr Secret Spec", "markdown": "- Intruder"}}, false, false},
		{"test matrix of her project", "workflow_tool", map[string]any{"workflow": "setup_test_matrix", "parameters": map[string]any{"project_id": id(d.project)}}, false, false},
		{"bulk status of her requirement", "workflow_tool", map[string]any{"workflow": "bulk_status_update", "parameters": map[string]any{"entity_type": "requirement", "entity_ids": []any{id(d.req)}, "status": "rejected"}}, false, false},
		{"bulk status by filter on her document", "workflow_tool", map[string]any{"workflow": "bulk_status_update", "parameters": map[string]any{"entity_type": "requirement", "filters": map[string]any{"document_id": id(d.doc)}, "status": "rejected"}}, false, false},
		{"setup project in her organization", "workflow_tool", map[string]any{"workflow": "setup_project", "parameters": map[string]any{"name": "Intruder", "organization_id": id(d.org)}}, false, false},
		{"old workflow_execute in her organization", "workflow_execute", map[string]any{"workflow_name": "setup_new_project", "parameters": map[string]any{"name": "Intruder", "organization_id": id(d.org)}}, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			request, _ := json.Marshal(tc.args)
			before := a.state(t)
			res, err := bob.CallTool(t.Context(), toolParams(tc.tool, tc.args))
			if err != nil {
				t.Fatalf("protocol error: %v", err)
			}
			text := resultText(res)
			if l := d.leaks(text, string(request)); len(l) > 0 {
				t.Errorf("Bob sees %v in: %.600s", l, text)
			}
			if !tc.open && !res.IsError {
				t.Errorf("Bob's call succeeded; want a tool error: %.600s", text)
			}
			a.unchanged(t, before)
			if tc.control {
				ares, err := alice.CallTool(t.Context(), toolParams(tc.tool, tc.args))
				if err != nil || ares.IsError {
					t.Fatalf("control: Alice's same call failed: %v %s", err, resultText(ares))
				}
				if l := d.leaks(resultText(ares), string(request)); len(l) == 0 {
					t.Errorf("control: Alice's same call shows none of her data, so the case proves nothing: %.400s", resultText(ares))
				}
			}
		})
	}
	// Bob's workspace context points at nothing of Alice's afterwards.
	t.Run("his workspace context after the attempts", func(t *testing.T) {
		r := call(t, bob, "workspace_tool", map[string]any{"operation": "get_context"})
		if l := d.leaks(r.Text, ""); len(l) > 0 || strings.Contains(r.Text, d.org["id"].(string)) || strings.Contains(r.Text, d.project["id"].(string)) {
			t.Errorf("Bob's context holds Alice's data: %s", r.Text)
		}
	})

	matrix := func(p string) string { return "atoms://projects/" + p + "/traceability-matrix" }
	for _, tc := range []struct{ name, uri string }{
		{"resource: her matrix by id", matrix(d.project["id"].(string))},
		{"resource: her matrix by name", matrix(url.PathEscape("Zephyr Hidden Project"))},
		{"resource: her matrix by a path trick", matrix(url.PathEscape("../projects/" + d.project["id"].(string)))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := bob.ReadResource(t.Context(), &mcp.ReadResourceParams{URI: tc.uri})
			if err == nil {
				b, _ := json.Marshal(res)
				if l := d.leaks(string(b), tc.uri); len(l) > 0 {
					t.Fatalf("Bob reads %v: %s", l, b)
				}
			}
			if tc.name == "resource: her matrix by id" {
				ares, err := alice.ReadResource(t.Context(), &mcp.ReadResourceParams{URI: tc.uri})
				if err != nil || len(ares.Contents) == 0 || !strings.Contains(ares.Contents[0].Text, "Zephyr thrust vector limit") {
					t.Errorf("control: Alice's matrix: %v", err)
				}
			}
		})
	}
	t.Run("resources/list", func(t *testing.T) {
		res, err := bob.ListResources(t.Context(), nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(res)
		if l := d.leaks(string(b), ""); len(l) > 0 {
			t.Errorf("Bob lists %v", l)
		}
	})
	t.Run("prompt with her project", func(t *testing.T) {
		res, err := bob.GetPrompt(t.Context(), &mcp.GetPromptParams{Name: "atoms_traceability_review", Arguments: map[string]string{"project": d.project["id"].(string)}})
		if err == nil {
			b, _ := json.Marshal(res)
			if l := d.leaks(string(b), d.project["id"].(string)); len(l) > 0 {
				t.Errorf("the prompt shows Bob %v", l)
			}
		}
	})
	for _, tc := range []struct {
		name string
		ref  *mcp.CompleteReference
		arg  string
	}{
		{"completion: prompt project", &mcp.CompleteReference{Type: "ref/prompt", Name: "atoms_traceability_review"}, "project"},
		{"completion: resource project_id", &mcp.CompleteReference{Type: "ref/resource", URI: matrixTemplateURI}, "project_id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := bob.Complete(t.Context(), &mcp.CompleteParams{Ref: tc.ref, Argument: mcp.CompleteParamsArgument{Name: tc.arg, Value: "Zeph"}})
			if err != nil {
				return // refused
			}
			b, _ := json.Marshal(res)
			if l := d.leaks(string(b), ""); len(l) > 0 || strings.Contains(string(b), d.project["id"].(string)) {
				t.Errorf("completion shows Bob %s", b)
			}
		})
	}
	t.Run("no secret in the log", func(t *testing.T) { a.logsClean(t) })
}

const matrixTemplateURI = "atoms://projects/{project_id}/traceability-matrix"

// resultText is a tool result's text and structured content.
func resultText(res *mcp.CallToolResult) string {
	if res == nil {
		return ""
	}
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	if res.StructuredContent != nil {
		j, _ := json.Marshal(res.StructuredContent)
		b.Write(j)
	}
	return b.String()
}

// waitEmbeddings waits (generously) until the background indexer has
// taken every queued entity.
func (a *attackServer) waitEmbeddings(t *testing.T) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+a.db+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for range 600 {
		var n int
		if err := db.QueryRowContext(t.Context(), `SELECT count(*) FROM embedding_queue`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("the embedding queue did not drain within 60 s")
}
