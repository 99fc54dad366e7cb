package tools_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/atomcp/atomcp/internal/atoms"
)

func TestRelationshipToolTraceLinks(t *testing.T) {
	e := newEnv(t)
	cs := e.client(t, alice)
	_, proj, doc := chain(t, cs, "Links")
	mk := func(name string) string {
		return entity(t, ok(t, cs, "entity_tool", map[string]any{"entity_type": "requirement", "operation": "create", "data": map[string]any{"document_id": doc, "name": name}}))["id"].(string)
	}
	a, b, c := mk("Parent need"), mk("Child need"), mk("Grandchild need")
	test := entity(t, ok(t, cs, "entity_tool", map[string]any{"entity_type": "test", "operation": "create", "data": map[string]any{"project_id": proj, "title": "Check child"}}))["id"].(string)
	req := func(id string) map[string]any { return map[string]any{"type": "requirement", "id": id} }

	first := ok(t, cs, "relationship_tool", map[string]any{"operation": "link", "relationship_type": "trace_link", "source": req(b), "target": req(a), "link_type": "derives_from"})
	if first["created"] != true {
		t.Fatalf("first link: %v", first)
	}
	again := ok(t, cs, "relationship_tool", map[string]any{"operation": "link", "relationship_type": "trace_link", "source": req(b), "target": req(a), "link_type": "derives_from"})
	if again["created"] != false || again["link"].(map[string]any)["id"] != first["link"].(map[string]any)["id"] {
		t.Fatalf("duplicate link is not idempotent: %v", again)
	}
	ok(t, cs, "relationship_tool", map[string]any{"operation": "link", "relationship_type": "trace_link", "source": req(c), "target": req(b), "link_type": "derives_from"})
	for _, tc := range []struct {
		name string
		args map[string]any
		want string
	}{
		{"cycle", map[string]any{"operation": "link", "relationship_type": "trace_link", "source": req(a), "target": req(c), "link_type": "derives_from"}, "cycle"},
		{"self link", map[string]any{"operation": "link", "relationship_type": "trace_link", "source": req(a), "target": req(a)}, "itself"},
		{"unknown type", map[string]any{"operation": "link", "relationship_type": "friendship", "source": req(a), "target": req(b)}, "relationship_type"},
		{"bad link_type", map[string]any{"operation": "link", "relationship_type": "trace_link", "source": req(a), "target": req(b), "link_type": "likes"}, "derives_from"},
		{"missing entity", map[string]any{"operation": "link", "relationship_type": "trace_link", "source": req(a), "target": req("0b8a4c57-0000-4000-8000-000000000000")}, "not found"},
		{"wrong ends for coverage", map[string]any{"operation": "link", "relationship_type": "requirement_test", "source": map[string]any{"type": "test", "id": test}, "target": req(a)}, "requirement"},
	} {
		r := call(t, cs, "relationship_tool", tc.args)
		if !r.isError || !strings.Contains(r.text, tc.want) {
			t.Errorf("%s: error=%v %q; want an error mentioning %q", tc.name, r.isError, r.text, tc.want)
		}
	}
	// A deleted end is refused.
	ok(t, cs, "entity_tool", map[string]any{"entity_type": "requirement", "operation": "delete", "entity_id": c})
	if r := call(t, cs, "relationship_tool", map[string]any{"operation": "link", "relationship_type": "trace_link", "source": req(c), "target": req(a)}); !r.isError || !strings.Contains(r.text, "deleted") {
		t.Errorf("link to a deleted requirement: %q", r.text)
	}

	cov := ok(t, cs, "relationship_tool", map[string]any{"operation": "link", "relationship_type": "requirement_test", "source": req(b), "target": map[string]any{"type": "test", "id": "Check child"}, "link_type": "partial"})
	if cov["link"].(map[string]any)["coverage"] != "partial" {
		t.Fatalf("coverage link: %v", cov)
	}
	upd := ok(t, cs, "relationship_tool", map[string]any{"operation": "update", "relationship_type": "requirement_test", "link_id": cov["link"].(map[string]any)["id"], "link_type": "full", "status": "passed"})
	if l := upd["link"].(map[string]any); l["coverage"] != "full" || l["status"] != "passed" {
		t.Fatalf("update: %v", upd)
	}
	chk := ok(t, cs, "relationship_tool", map[string]any{"operation": "check", "relationship_type": "requirement_test", "source": req(b), "target": map[string]any{"type": "test", "id": test}})
	if chk["exists"] != true {
		t.Fatalf("check: %v", chk)
	}
	list := ok(t, cs, "relationship_tool", map[string]any{"operation": "list", "relationship_type": "trace_link", "source": req(b)})
	// c is deleted, so its link c → b is hidden: only b → a is listed.
	if list["count"] != float64(1) {
		t.Fatalf("links around b: %v", list)
	}
	ok(t, cs, "relationship_tool", map[string]any{"operation": "unlink", "relationship_type": "trace_link", "source": req(b), "target": req(a)})
	chk = ok(t, cs, "relationship_tool", map[string]any{"operation": "check", "relationship_type": "trace_link", "source": req(b), "target": req(a)})
	if chk["exists"] != false {
		t.Fatalf("after unlink, check: %v", chk)
	}
}

func TestRelationshipToolCrossOrganizationRefused(t *testing.T) {
	e := newEnv(t)
	cs := e.client(t, alice)
	_, _, doc1 := chain(t, cs, "Org One")
	_, _, doc2 := chain(t, cs, "Org Two")
	r1 := entity(t, ok(t, cs, "entity_tool", map[string]any{"entity_type": "requirement", "operation": "create", "data": map[string]any{"document_id": doc1, "name": "One"}}))["id"]
	r2 := entity(t, ok(t, cs, "entity_tool", map[string]any{"entity_type": "requirement", "operation": "create", "data": map[string]any{"document_id": doc2, "name": "Two"}}))["id"]
	r := call(t, cs, "relationship_tool", map[string]any{"operation": "link", "relationship_type": "trace_link", "source": map[string]any{"type": "requirement", "id": r1}, "target": map[string]any{"type": "requirement", "id": r2}})
	if !r.isError || !strings.Contains(r.text, "different organizations") {
		t.Fatalf("cross-organization link: %q", r.text)
	}
}

func TestRelationshipToolMembersAndRoles(t *testing.T) {
	e := newEnv(t)
	a := e.client(t, alice)
	org, _, doc := chain(t, a, "Team")
	b := e.client(t, bob)
	ok(t, b, "workspace_tool", map[string]any{"operation": "list_workspaces"}) // bob signs in once
	orgRef := map[string]any{"type": "organization", "id": org}

	added := ok(t, a, "relationship_tool", map[string]any{"operation": "link", "relationship_type": "member", "source": orgRef, "target": map[string]any{"id": "bob@example.com"}, "link_type": "viewer"})
	if added["member"] != nil || added["invitation"].(map[string]any)["status"] != "pending" {
		t.Fatalf("adding a known user must invite, not join: %v", added)
	}
	if r := call(t, b, "entity_tool", map[string]any{"entity_type": "document", "operation": "read", "entity_id": doc}); !r.isError {
		t.Fatal("bob reads the organization before accepting its invitation")
	}
	if n := acceptInvitations(t, b); n != 1 {
		t.Fatalf("bob accepted %d invitations; want 1", n)
	}
	if r := call(t, b, "entity_tool", map[string]any{"entity_type": "requirement", "operation": "create", "data": map[string]any{"document_id": doc, "name": "x"}}); !r.isError {
		t.Fatal("a viewer wrote")
	}
	if r := call(t, b, "relationship_tool", map[string]any{"operation": "link", "relationship_type": "member", "source": orgRef, "target": map[string]any{"id": "carol@example.com"}}); !r.isError {
		t.Fatal("a viewer added a member")
	}
	ok(t, a, "relationship_tool", map[string]any{"operation": "update", "relationship_type": "member", "source": orgRef, "target": map[string]any{"id": "bob@example.com"}, "link_type": "member"})
	ok(t, b, "entity_tool", map[string]any{"entity_type": "requirement", "operation": "create", "data": map[string]any{"document_id": doc, "name": "now allowed"}})

	// The last owner can be neither removed nor demoted.
	for _, args := range []map[string]any{
		{"operation": "unlink", "relationship_type": "member", "source": orgRef, "target": map[string]any{"id": "alice@example.com"}},
		{"operation": "update", "relationship_type": "member", "source": orgRef, "target": map[string]any{"id": "alice@example.com"}, "link_type": "admin"},
	} {
		if r := call(t, a, "relationship_tool", args); !r.isError || !strings.Contains(r.text, "last owner") {
			t.Errorf("%v: %q", args["operation"], r.text)
		}
	}
	inv := ok(t, a, "relationship_tool", map[string]any{"operation": "link", "relationship_type": "member", "source": orgRef, "target": map[string]any{"id": "carol@example.com"}})
	if inv["invitation"] == nil {
		t.Fatalf("unknown email should be invited: %v", inv)
	}
	list := ok(t, a, "relationship_tool", map[string]any{"operation": "list", "relationship_type": "member", "source": orgRef})
	if list["count"] != float64(2) {
		t.Fatalf("members: %v", list)
	}
	carol := e.client(t, atoms.Caller{Issuer: "https://issuer.test", Subject: "carol", Email: "Carol@Example.com", EmailVerified: true})
	ws := ok(t, carol, "workspace_tool", map[string]any{"operation": "list_workspaces"})
	if n := len(ws["organizations"].([]any)); n != 1 {
		t.Fatalf("carol joined at sign-in without accepting: %v", ws)
	}
	if n := acceptInvitations(t, carol); n != 1 {
		t.Fatalf("carol accepted %d invitations; want 1", n)
	}
	ws = ok(t, carol, "workspace_tool", map[string]any{"operation": "list_workspaces"})
	if n := len(ws["organizations"].([]any)); n != 2 {
		t.Fatalf("carol's accepted invitation: %v", ws)
	}
}

// TestMemberLinkSameAnswerForKnownAndUnknown: inviting tells nothing about
// who has an account, and inviting by id shows no email or name.
func TestMemberLinkSameAnswerForKnownAndUnknown(t *testing.T) {
	e := newEnv(t)
	a := e.client(t, alice)
	org, _, _ := chain(t, a, "Team")
	b := e.client(t, bob)
	ok(t, b, "workspace_tool", map[string]any{"operation": "list_workspaces"}) // bob has an account
	orgRef := map[string]any{"type": "organization", "id": org}
	shape := func(res map[string]any) string {
		inv := res["invitation"].(map[string]any)
		keys := make([]string, 0, len(inv))
		for k := range inv {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return fmt.Sprint(keys, inv["status"], inv["role"], res["message"], res["member"])
	}
	known := ok(t, a, "relationship_tool", map[string]any{"operation": "link", "relationship_type": "member", "source": orgRef, "target": map[string]any{"id": "bob@example.com"}})
	unknown := ok(t, a, "relationship_tool", map[string]any{"operation": "link", "relationship_type": "member", "source": orgRef, "target": map[string]any{"id": "nobody@example.com"}})
	if shape(known) != shape(unknown) {
		t.Fatalf("known and unknown emails answer differently:\n%s\n%s", shape(known), shape(unknown))
	}
	bobActor, err := e.svc.Actor(context.Background(), bob)
	if err != nil {
		t.Fatal(err)
	}
	bobID := bobActor.User.ID
	byID := ok(t, a, "relationship_tool", map[string]any{"operation": "link", "relationship_type": "member", "source": orgRef, "target": map[string]any{"id": bobID}})
	if text := fmt.Sprint(byID); strings.Contains(text, "bob@example.com") || strings.Contains(text, "Bob") {
		t.Fatalf("invitation by id shows who the id is: %v", byID)
	}
}

// acceptInvitations accepts every pending invitation of the client's user
// and returns how many there were.
func acceptInvitations(t *testing.T, cs *mcp.ClientSession) int {
	t.Helper()
	list := ok(t, cs, "relationship_tool", map[string]any{"operation": "list", "relationship_type": "invitation"})
	items, _ := list["items"].([]any)
	for _, it := range items {
		id := it.(map[string]any)["id"]
		res := ok(t, cs, "relationship_tool", map[string]any{"operation": "update", "relationship_type": "invitation", "target": map[string]any{"id": id}, "link_type": "accept"})
		if res["invitation"].(map[string]any)["status"] != "accepted" {
			t.Fatalf("accept %v: %v", id, res)
		}
	}
	return len(items)
}

// TestProjectMembershipDecidesProjectWrites: a project viewer only reads
// that project; a project member writes it even as an organization viewer;
// organization admins write every project.
func TestProjectMembershipDecidesProjectWrites(t *testing.T) {
	e := newEnv(t)
	as, bs := e.client(t, alice), e.client(t, bob)
	ok(t, bs, "workspace_tool", map[string]any{"operation": "get_context"}) // bob signs in
	org, proj, _ := chain(t, as, "Acme")
	other := entity(t, ok(t, as, "entity_tool", map[string]any{"entity_type": "project", "operation": "create", "data": map[string]any{"organization_id": org, "name": "Other"}}))["id"].(string)
	member := func(source map[string]any, role string) {
		t.Helper()
		ok(t, as, "relationship_tool", map[string]any{"operation": "link", "relationship_type": "member", "source": source, "target": map[string]any{"id": "bob@example.com"}, "link_type": role})
	}
	createDoc := func(project string) result {
		return call(t, bs, "entity_tool", map[string]any{"entity_type": "document", "operation": "create", "data": map[string]any{"project_id": project, "name": "Bob's doc"}})
	}
	member(map[string]any{"type": "organization", "id": org}, "member")
	acceptInvitations(t, bs)
	member(map[string]any{"type": "project", "id": proj}, "viewer")
	if r := createDoc(proj); !r.isError || !strings.Contains(r.text, "project") {
		t.Fatalf("a project viewer created a document: %v %s", r.data, r.text)
	}
	if r := call(t, bs, "entity_tool", map[string]any{"entity_type": "document", "operation": "list", "filters": map[string]any{"project_id": proj}}); r.isError {
		t.Fatalf("a project viewer cannot read: %s", r.text)
	}
	if r := createDoc(other); r.isError {
		t.Fatalf("an organization member cannot write another project: %s", r.text)
	}
	// An organization viewer with the member role in one project.
	member(map[string]any{"type": "organization", "id": org}, "viewer")
	member(map[string]any{"type": "project", "id": proj}, "member")
	if r := createDoc(proj); r.isError {
		t.Fatalf("a project member (organization viewer) cannot write the project: %s", r.text)
	}
	if r := createDoc(other); !r.isError {
		t.Fatalf("an organization viewer wrote a project they have no role in")
	}
	// Organization admins write every project, whatever the project role.
	member(map[string]any{"type": "project", "id": proj}, "viewer")
	member(map[string]any{"type": "organization", "id": org}, "admin")
	if r := createDoc(proj); r.isError {
		t.Fatalf("an organization admin cannot write a project where they are a viewer: %s", r.text)
	}
}
