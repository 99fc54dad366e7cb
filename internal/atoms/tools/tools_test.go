package tools_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/atomcp/atomcp/internal/atoms"
	"github.com/atomcp/atomcp/internal/atoms/tools"
	"github.com/atomcp/atomcp/internal/store/sqlite"
)

// env is a service on a fresh SQLite database with one MCP client per user.
type env struct {
	svc *atoms.Service
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return &env{svc: atoms.New(st)}
}

// client connects an in-memory MCP client whose every call comes from c.
func (e *env) client(t *testing.T, c atoms.Caller) *mcp.ClientSession {
	t.Helper()
	server := mcp.NewServer(&mcp.Implementation{Name: "test", Version: "1"}, nil)
	tools.Register(server, tools.Deps{Service: e.svc, Caller: func(context.Context, *mcp.CallToolRequest) (atoms.Caller, error) { return c, nil }})
	st, ct := mcp.NewInMemoryTransports()
	ctx := context.Background()
	ss, err := server.Connect(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "c", Version: "1"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close(); ss.Close() })
	return cs
}

type result struct {
	isError bool
	text    string
	data    map[string]any
}

func call(t *testing.T, cs *mcp.ClientSession, tool string, args map[string]any) result {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		t.Fatalf("%s: protocol error: %v", tool, err)
	}
	r := result{isError: res.IsError}
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			r.text += tc.Text
		}
	}
	if r.isError {
		// A failure's text is the old server's JSON; the tests read its
		// message (compat_test.go checks the shape).
		var f struct {
			Success *bool  `json:"success"`
			Error   string `json:"error"`
			Message string `json:"message"`
		}
		if json.Unmarshal([]byte(r.text), &f) == nil && f.Success != nil && !*f.Success {
			r.text = f.Error
			if f.Message != "" {
				r.text = f.Message
			}
		}
	}
	if res.StructuredContent != nil {
		b, _ := json.Marshal(res.StructuredContent)
		_ = json.Unmarshal(b, &r.data)
	}
	return r
}

func ok(t *testing.T, cs *mcp.ClientSession, tool string, args map[string]any) map[string]any {
	t.Helper()
	r := call(t, cs, tool, args)
	if r.isError {
		t.Fatalf("%s %v: %s", tool, args, r.text)
	}
	return r.data
}

func entity(t *testing.T, data map[string]any) map[string]any {
	t.Helper()
	e, found := data["entity"].(map[string]any)
	if !found {
		t.Fatalf("no entity in %v", data)
	}
	return e
}

var (
	alice = atoms.Caller{Issuer: "https://issuer.test", Subject: "alice", Email: "alice@example.com", EmailVerified: true, Name: "Alice"}
	bob   = atoms.Caller{Issuer: "https://issuer.test", Subject: "bob", Email: "bob@example.com", EmailVerified: true, Name: "Bob"}
)

// chain creates organization → project → document and returns their ids.
func chain(t *testing.T, cs *mcp.ClientSession, orgName string) (org, proj, doc string) {
	t.Helper()
	o := entity(t, ok(t, cs, "entity_tool", map[string]any{"entity_type": "organization", "operation": "create", "data": map[string]any{"name": orgName}}))
	p := entity(t, ok(t, cs, "entity_tool", map[string]any{"entity_type": "project", "operation": "create", "data": map[string]any{"organization_id": o["id"], "name": "Rover"}}))
	d := entity(t, ok(t, cs, "entity_tool", map[string]any{"entity_type": "document", "operation": "create", "data": map[string]any{"project_id": p["id"], "name": "Specs"}}))
	return o["id"].(string), p["id"].(string), d["id"].(string)
}

func TestBadInputIsAToolErrorNamingTheArgument(t *testing.T) {
	e := newEnv(t)
	cs := e.client(t, alice)
	_, _, doc := chain(t, cs, "Acme")
	for _, tc := range []struct {
		name string
		args map[string]any
		want []string // substrings of the error text
	}{
		// (without operation the call is inferred, as the old server did: see compat_test.go)
		{"missing entity_type", map[string]any{"operation": "list"}, []string{"entity_type"}},
		{"unknown operation", map[string]any{"entity_type": "requirement", "operation": "explode"}, []string{"operation", "explode"}},
		{"unknown entity type", map[string]any{"entity_type": "spaceship", "operation": "list"}, []string{"entity_type", "spaceship"}},
		{"wrong type for limit", map[string]any{"entity_type": "requirement", "operation": "list", "limit": "many"}, []string{"limit"}},
		{"unknown field", map[string]any{"entity_type": "requirement", "operation": "create", "data": map[string]any{"document_id": doc, "name": "x", "colour": "red"}}, []string{"data.colour", "accepted"}},
		{"missing required field", map[string]any{"entity_type": "requirement", "operation": "create", "data": map[string]any{"document_id": doc}}, []string{"data.name", "required"}},
		{"bad enum value", map[string]any{"entity_type": "requirement", "operation": "create", "data": map[string]any{"document_id": doc, "name": "x", "status": "pending"}}, []string{"data.status", "draft, active, approved, rejected, archived"}},
		{"id that does not exist", map[string]any{"entity_type": "requirement", "operation": "read", "entity_id": "3f1e7a9c-0000-4000-8000-000000000000"}, []string{"not found"}},
		{"read without entity_id", map[string]any{"entity_type": "requirement", "operation": "read"}, []string{"entity_id"}},
		{"auto without context", map[string]any{"entity_type": "document", "operation": "create", "data": map[string]any{"project_id": "auto", "name": "x"}}, []string{"auto", "set_context"}},
		{"bad format", map[string]any{"entity_type": "requirement", "operation": "list", "format_type": "fancy"}, []string{"format_type"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, cs, "entity_tool", tc.args)
			if !r.isError {
				t.Fatalf("no tool error; result %v", r.data)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.text, w) {
					t.Errorf("error %q does not mention %q", r.text, w)
				}
			}
			if strings.Contains(r.text, "goroutine") || strings.Contains(r.text, "sql") {
				t.Errorf("error leaks internals: %q", r.text)
			}
		})
	}
}

func TestOtherOrganizationsAreNotFound(t *testing.T) {
	e := newEnv(t)
	a, b := e.client(t, alice), e.client(t, bob)
	org, _, doc := chain(t, a, "Alice Corp")
	req := entity(t, ok(t, a, "entity_tool", map[string]any{"entity_type": "requirement", "operation": "create", "data": map[string]any{"document_id": doc, "name": "Secret"}}))

	for _, args := range []map[string]any{
		{"entity_type": "requirement", "operation": "read", "entity_id": req["id"]},
		{"entity_type": "organization", "operation": "read", "entity_id": org},
		{"entity_type": "requirement", "operation": "update", "entity_id": req["id"], "data": map[string]any{"name": "mine"}},
		{"entity_type": "requirement", "operation": "delete", "entity_id": req["id"]},
		{"entity_type": "requirement", "operation": "create", "data": map[string]any{"document_id": doc, "name": "intruder"}},
	} {
		r := call(t, b, "entity_tool", args)
		if !r.isError || !strings.Contains(r.text, "not found") || strings.Contains(r.text, "forbidden") {
			t.Errorf("bob %v: got error=%v %q; want not found", args["operation"], r.isError, r.text)
		}
	}
	list := ok(t, b, "entity_tool", map[string]any{"entity_type": "requirement", "operation": "list"})
	if list["total"] != float64(0) {
		t.Errorf("bob lists %v requirements; want 0", list["total"])
	}
	// Alice's requirement is untouched.
	got := entity(t, ok(t, a, "entity_tool", map[string]any{"entity_type": "requirement", "operation": "read", "entity_id": req["id"]}))
	if got["name"] != "Secret" || got["is_deleted"] != false {
		t.Errorf("alice's requirement changed: %v", got)
	}
}

func TestSlugsAndExternalIDs(t *testing.T) {
	e := newEnv(t)
	cs := e.client(t, alice)
	first := entity(t, ok(t, cs, "entity_tool", map[string]any{"entity_type": "organization", "operation": "create", "data": map[string]any{"name": "Café Robotics"}}))
	second := entity(t, ok(t, cs, "entity_tool", map[string]any{"entity_type": "organization", "operation": "create", "data": map[string]any{"name": "Café Robotics"}}))
	if first["slug"] != "cafe-robotics" || second["slug"] != "cafe-robotics-2" {
		t.Fatalf("slugs %v, %v; want cafe-robotics, cafe-robotics-2", first["slug"], second["slug"])
	}
	_, _, doc := chain(t, cs, "Ext")
	r1 := entity(t, ok(t, cs, "entity_tool", map[string]any{"entity_type": "requirement", "operation": "create", "data": map[string]any{"document_id": doc, "name": "One", "external_id": "REQ-012"}}))
	dup := call(t, cs, "entity_tool", map[string]any{"entity_type": "requirement", "operation": "create", "data": map[string]any{"document_id": doc, "name": "Two", "external_id": "REQ-012"}})
	if !dup.isError || !strings.Contains(dup.text, r1["id"].(string)) {
		t.Fatalf("duplicate external_id: error=%v %q; want a conflict naming %v", dup.isError, dup.text, r1["id"])
	}
}

func TestBatchCreateIsAllOrNothing(t *testing.T) {
	e := newEnv(t)
	cs := e.client(t, alice)
	_, _, doc := chain(t, cs, "Batch")
	r := call(t, cs, "entity_tool", map[string]any{"entity_type": "requirement", "operation": "batch_create", "batch": []any{
		map[string]any{"document_id": doc, "name": "fine 1"},
		map[string]any{"document_id": doc, "name": "fine 2"},
		map[string]any{"document_id": doc, "external_id": "X-3"}, // no name
	}})
	if !r.isError || !strings.Contains(r.text, "batch[2]") {
		t.Fatalf("want an error naming batch[2], got error=%v %q", r.isError, r.text)
	}
	list := ok(t, cs, "entity_tool", map[string]any{"entity_type": "requirement", "operation": "list", "filters": map[string]any{"document_id": doc}})
	if list["total"] != float64(0) {
		t.Fatalf("%v requirements exist after a failed batch; want 0", list["total"])
	}
	good := ok(t, cs, "entity_tool", map[string]any{"entity_type": "requirement", "operation": "batch_create", "batch": []any{
		map[string]any{"document_id": doc, "name": "fine 1"},
		map[string]any{"document_id": doc, "name": "fine 2"},
	}})
	if good["created"] != float64(2) {
		t.Fatalf("created %v; want 2", good["created"])
	}
}

func TestFuzzyNamesAutoAndAmbiguity(t *testing.T) {
	e := newEnv(t)
	cs := e.client(t, alice)
	_, proj, doc := chain(t, cs, "Fuzzy")
	for _, name := range []string{"Battery thermal limits", "Battery thermal monitor", "Landing gear strength"} {
		ok(t, cs, "entity_tool", map[string]any{"entity_type": "requirement", "operation": "create", "data": map[string]any{"document_id": doc, "name": name}})
	}
	// A clear misspelling resolves.
	got := entity(t, ok(t, cs, "entity_tool", map[string]any{"entity_type": "requirement", "operation": "read", "entity_id": "landing gear strenght"}))
	if got["name"] != "Landing gear strength" {
		t.Fatalf("resolved to %v", got["name"])
	}
	// An ambiguous one returns candidates instead of guessing.
	r := call(t, cs, "entity_tool", map[string]any{"entity_type": "requirement", "operation": "read", "entity_id": "Battery thermal"})
	if !r.isError {
		t.Fatalf("ambiguous name resolved to %v", r.data)
	}
	cands, _ := r.data["candidates"].([]any)
	if len(cands) != 2 {
		t.Fatalf("candidates = %v; want the two battery requirements (text %q)", r.data["candidates"], r.text)
	}
	// "auto" follows the workspace context.
	ok(t, cs, "workspace_tool", map[string]any{"operation": "set_context", "context_type": "document", "entity_id": "Specs"})
	ctx := ok(t, cs, "workspace_tool", map[string]any{"operation": "get_context"})
	if ctx["project"].(map[string]any)["id"] != proj || ctx["document"].(map[string]any)["id"] != doc {
		t.Fatalf("context after set_context document = %v", ctx)
	}
	created := entity(t, ok(t, cs, "entity_tool", map[string]any{"entity_type": "requirement", "operation": "create", "data": map[string]any{"document_id": "auto", "name": "Via auto"}}))
	if created["document_id"] != doc {
		t.Fatalf("auto resolved to %v; want %v", created["document_id"], doc)
	}
	summary := ok(t, cs, "entity_tool", map[string]any{"entity_type": "requirement", "operation": "list", "format_type": "summary", "filters": map[string]any{"document_id": "auto"}, "limit": 2})
	items := summary["items"].([]any)
	if len(items) != 2 || summary["has_more"] != true || summary["total"] != float64(4) {
		t.Fatalf("paged summary list = %v", summary)
	}
	if _, has := items[0].(map[string]any)["created_by"]; has {
		t.Fatalf("summary format includes bookkeeping: %v", items[0])
	}
}

func TestViewerCannotWrite(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a := e.client(t, alice)
	org, _, doc := chain(t, a, "Team")
	aliceActor, err := e.svc.Actor(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.InviteMember(ctx, aliceActor, org, "BOB@example.com", "viewer"); err != nil {
		t.Fatal(err)
	}
	b := e.client(t, bob)
	acceptInvitations(t, b)
	read := ok(t, b, "entity_tool", map[string]any{"entity_type": "document", "operation": "read", "entity_id": doc})
	if entity(t, read)["id"] != doc {
		t.Fatalf("viewer cannot read: %v", read)
	}
	r := call(t, b, "entity_tool", map[string]any{"entity_type": "requirement", "operation": "create", "data": map[string]any{"document_id": doc, "name": "viewer write"}})
	if !r.isError || !strings.Contains(r.text, "viewer") {
		t.Fatalf("viewer create: error=%v %q; want a refusal naming the role", r.isError, r.text)
	}
	ws := ok(t, b, "workspace_tool", map[string]any{"operation": "list_workspaces"})
	if n := len(ws["organizations"].([]any)); n != 2 {
		t.Fatalf("bob sees %d organizations; want his personal one and Team", n)
	}
}

func TestToolSchemasHaveEnums(t *testing.T) {
	e := newEnv(t)
	cs := e.client(t, alice)
	res, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tool := range res.Tools {
		b, _ := json.Marshal(tool.InputSchema)
		var s struct {
			Required   []string `json:"required"`
			Properties map[string]struct {
				Enum []string `json:"enum"`
			} `json:"properties"`
		}
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatal(err)
		}
		discriminator := ""
		if len(s.Properties) == 0 {
			continue // health_check takes no arguments
		}
		for _, name := range []string{"operation", "query_type", "workflow", "workflow_name"} {
			if _, has := s.Properties[name]; has {
				discriminator = name
			}
		}
		if discriminator == "" || len(s.Properties[discriminator].Enum) == 0 {
			t.Errorf("%s: no enum on its operation argument (%q)", tool.Name, discriminator)
		}
		if tool.Name == "entity_tool" && len(s.Properties["entity_type"].Enum) != 6 {
			t.Errorf("entity_tool: entity_type enum = %v", s.Properties["entity_type"].Enum)
		}
	}
}
