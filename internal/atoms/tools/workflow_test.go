package tools_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/atomcp/atomcp/internal/atoms"
	"github.com/atomcp/atomcp/internal/store"
)

// runWorkflow calls workflow_tool; transactionMode nil leaves the default.
func runWorkflow(t *testing.T, cs *mcp.ClientSession, workflow string, params map[string]any, transactionMode *bool) result {
	t.Helper()
	args := map[string]any{"workflow": workflow, "parameters": params}
	if transactionMode != nil {
		args["transaction_mode"] = *transactionMode
	}
	return call(t, cs, "workflow_tool", args)
}

func workflowOK(t *testing.T, cs *mcp.ClientSession, workflow string, params map[string]any, transactionMode *bool) map[string]any {
	t.Helper()
	r := runWorkflow(t, cs, workflow, params, transactionMode)
	if r.isError {
		t.Fatalf("%s: %s", workflow, r.text)
	}
	return r.data
}

var continueMode = func() *bool { b := false; return &b }()

// stepStatuses maps each listed step to its status.
func stepStatuses(t *testing.T, data map[string]any) map[string]string {
	t.Helper()
	steps, found := data["steps"].([]any)
	if !found {
		t.Fatalf("no steps in %v", data)
	}
	out := map[string]string{}
	for _, s := range steps {
		m := s.(map[string]any)
		out[m["step"].(string)] = m["status"].(string)
	}
	return out
}

func stepNamed(t *testing.T, data map[string]any, name string) map[string]any {
	t.Helper()
	for _, s := range data["steps"].([]any) {
		if m := s.(map[string]any); m["step"] == name {
			return m
		}
	}
	t.Fatalf("no step %q in %v", name, data["steps"])
	return nil
}

// count lists entities of a type with entity_tool and returns the total.
func count(t *testing.T, cs *mcp.ClientSession, entityType string, filters map[string]any) int {
	t.Helper()
	args := map[string]any{"entity_type": entityType, "operation": "list"}
	if filters != nil {
		args["filters"] = filters
	}
	list := ok(t, cs, "entity_tool", args)
	return int(list["total"].(float64))
}

func wantContains(t *testing.T, what, text string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(text, w) {
			t.Errorf("%s %q does not mention %q", what, text, w)
		}
	}
}

func TestWorkflowSetupProject(t *testing.T) {
	e := newEnv(t)
	cs := e.client(t, alice)
	org := entity(t, ok(t, cs, "entity_tool", map[string]any{"entity_type": "organization", "operation": "create", "data": map[string]any{"name": "Acme"}}))["id"].(string)

	out := workflowOK(t, cs, "setup_project", map[string]any{
		"organization_id":   "Acme", // a name resolves like an id
		"name":              "Lander",
		"description":       "The landing stage",
		"initial_documents": []any{"System requirements", map[string]any{"name": "Test plan", "description": "How we test"}},
	}, nil)
	if out["status"] != "completed" || out["transaction_mode"] != true {
		t.Fatalf("status %v, transaction_mode %v: %v", out["status"], out["transaction_mode"], out)
	}
	want := map[string]string{
		"create_project": "ok", "assign_project_lead": "ok",
		"create_document[0] (System requirements)": "ok", "create_document[1] (Test plan)": "ok", "set_context": "ok",
	}
	if got := stepStatuses(t, out); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("steps %v; want %v", got, want)
	}
	res := out["result"].(map[string]any)
	proj := res["project"].(map[string]any)
	if proj["name"] != "Lander" || len(res["documents"].([]any)) != 2 {
		t.Fatalf("result %v", res)
	}
	projID := proj["id"].(string)

	// The documents exist under the project, with their fields.
	docs := ok(t, cs, "entity_tool", map[string]any{"entity_type": "document", "operation": "list", "filters": map[string]any{"project_id": projID}, "order_by": "name"})
	items := docs["items"].([]any)
	if len(items) != 2 || items[1].(map[string]any)["description"] != "How we test" {
		t.Fatalf("documents %v", items)
	}
	// The creator is the project's lead, by an assignment.
	leads := ok(t, cs, "relationship_tool", map[string]any{"operation": "list", "relationship_type": "assignment", "source": map[string]any{"type": "project", "id": projID}})
	if leads["count"] != float64(1) {
		t.Fatalf("assignments %v", leads)
	}
	lead := leads["items"].([]any)[0].(map[string]any)
	aliceActor, err := e.svc.Actor(context.Background(), alice)
	if err != nil {
		t.Fatal(err)
	}
	if lead["role"] != atoms.ProjectLeadRole || lead["target"].(map[string]any)["id"] != aliceActor.User.ID {
		t.Fatalf("lead assignment %v", lead)
	}
	// The project is the current one, and "auto" finds it.
	wctx := ok(t, cs, "workspace_tool", map[string]any{"operation": "get_context"})
	if wctx["organization"].(map[string]any)["id"] != org || wctx["project"].(map[string]any)["id"] != projID {
		t.Fatalf("context %v", wctx)
	}
	// Every write has its audit entry.
	audit, err := e.svc.AuditLog(context.Background(), aliceActor, "project", projID, 10)
	if err != nil || len(audit) != 1 || audit[0].Action != "create" {
		t.Fatalf("audit of the project: %v, %v", audit, err)
	}
}

func TestWorkflowSetupProjectFailureWritesNothing(t *testing.T) {
	e := newEnv(t)
	cs := e.client(t, alice)
	_, _, doc := chain(t, cs, "Acme")
	ok(t, cs, "workspace_tool", map[string]any{"operation": "set_context", "context_type": "document", "entity_id": doc})
	before := count(t, cs, "project", nil)

	params := map[string]any{"organization_id": "Nowhere Inc", "name": "Ghost", "initial_documents": []any{"Specs"}}
	r := runWorkflow(t, cs, "setup_project", params, nil)
	if !r.isError {
		t.Fatalf("no tool error: %v", r.data)
	}
	wantContains(t, "error", r.text, `failed at step "create_project"`, "parameters.organization_id", "not found", "nothing was saved")
	if r.data["status"] != "rolled_back" || r.data["failed_step"] != "create_project" {
		t.Fatalf("result %v", r.data)
	}
	for _, name := range []string{"assign_project_lead", "create_document[0] (Specs)", "set_context"} {
		if st := stepNamed(t, r.data, name); st["status"] != "not_run" {
			t.Errorf("step %s: %v; want not_run", name, st)
		}
	}

	// Continue mode: the same failure, and the steps that need the project
	// say why they were skipped.
	r = runWorkflow(t, cs, "setup_project", params, continueMode)
	if !r.isError || r.data["status"] != "failed" {
		t.Fatalf("continue mode: error=%v %v", r.isError, r.data)
	}
	if st := stepNamed(t, r.data, "create_document[0] (Specs)"); st["status"] != "skipped" || !strings.Contains(st["reason"].(string), `"create_project" failed`) {
		t.Errorf("skipped step %v", st)
	}

	if after := count(t, cs, "project", nil); after != before {
		t.Fatalf("%d projects after failed workflows; want %d", after, before)
	}
	if got := ok(t, cs, "workspace_tool", map[string]any{"operation": "get_context"}); got["document"].(map[string]any)["id"] != doc {
		t.Fatalf("context changed by a failed workflow: %v", got)
	}
}

func TestWorkflowImportRequirementsFromAList(t *testing.T) {
	e := newEnv(t)
	cs := e.client(t, alice)
	_, _, doc := chain(t, cs, "Acme")
	ok(t, cs, "workspace_tool", map[string]any{"operation": "set_context", "context_type": "document", "entity_id": doc})

	out := workflowOK(t, cs, "import_requirements", map[string]any{
		"document_id": "auto",
		"defaults":    map[string]any{"status": "draft"},
		"requirements": []any{
			map[string]any{"name": "Stop in time", "external_id": "REQ-1", "priority": "high"},
			map[string]any{"name": "Battery life", "external_id": "REQ-2", "status": "approved"},
			"Lights at night",
		},
	}, nil)
	res := out["result"].(map[string]any)
	if res["imported"] != float64(3) || res["failed"] != float64(0) || res["format"] != "requirements" {
		t.Fatalf("result %v", res)
	}
	got := map[string]map[string]any{}
	for _, it := range ok(t, cs, "entity_tool", map[string]any{"entity_type": "requirement", "operation": "list", "filters": map[string]any{"document_id": doc}})["items"].([]any) {
		m := it.(map[string]any)
		got[m["name"].(string)] = m
	}
	if r := got["Stop in time"]; r["external_id"] != "REQ-1" || r["priority"] != "high" || r["status"] != "draft" {
		t.Errorf("REQ-1 = %v", r)
	}
	if r := got["Battery life"]; r["external_id"] != "REQ-2" || r["status"] != "approved" {
		t.Errorf("REQ-2 = %v (its own status beats the default)", r)
	}
	if r := got["Lights at night"]; r == nil || r["priority"] != "low" {
		t.Errorf("bare name = %v", r)
	}
}

func TestWorkflowImportRequirementsFromCSVAndMarkdown(t *testing.T) {
	e := newEnv(t)
	cs := e.client(t, alice)
	_, _, doc := chain(t, cs, "Acme")

	csvText := "External ID,Title,Description,Priority,Status,Type,Owner\r\n" +
		"REQ-1,Stop in time,\"Brakes, within 2 m\",High,Approved,safety,ana\r\n" +
		"REQ-2,\"Multi-line\nname\",,,,,\r\n"
	out := workflowOK(t, cs, "import_requirements", map[string]any{"document_id": doc, "csv": csvText}, nil)
	res := out["result"].(map[string]any)
	if res["imported"] != float64(2) || fmt.Sprint(res["columns_kept_in_properties"]) != "[Owner]" {
		t.Fatalf("csv result %v", res)
	}
	req1 := entity(t, ok(t, cs, "entity_tool", map[string]any{"entity_type": "requirement", "operation": "read", "entity_id": "REQ-1"}))
	if req1["description"] != "Brakes, within 2 m" || req1["priority"] != "high" || req1["status"] != "approved" || req1["type"] != "safety" ||
		req1["properties"].(map[string]any)["owner"] != "ana" {
		t.Fatalf("REQ-1 from csv = %v", req1)
	}

	md := "## More\n- REQ-3: The rover shall climb 20° slopes.\n  On loose sand too.\n* Dust does not block the camera\nA note that is not a requirement.\n"
	out = workflowOK(t, cs, "import_requirements", map[string]any{"document_id": "Specs", "markdown": md}, nil)
	res = out["result"].(map[string]any)
	if res["imported"] != float64(2) || fmt.Sprint(res["ignored_lines"]) != "[1 5]" {
		t.Fatalf("markdown result %v", res)
	}
	req3 := entity(t, ok(t, cs, "entity_tool", map[string]any{"entity_type": "requirement", "operation": "read", "entity_id": "REQ-3"}))
	if req3["name"] != "The rover shall climb 20° slopes." || req3["description"] != "On loose sand too." {
		t.Fatalf("REQ-3 from markdown = %v", req3)
	}
	if n := count(t, cs, "requirement", map[string]any{"document_id": doc}); n != 4 {
		t.Fatalf("%d requirements; want 4", n)
	}
}

func TestWorkflowImportBadCSVIsPreciseAndWritesNothing(t *testing.T) {
	e := newEnv(t)
	cs := e.client(t, alice)
	_, _, doc := chain(t, cs, "Acme")
	ok(t, cs, "entity_tool", map[string]any{"entity_type": "requirement", "operation": "create", "data": map[string]any{"document_id": doc, "name": "Existing", "external_id": "REQ-9"}})

	var big strings.Builder
	big.WriteString("id,name\n")
	for i := 1; i <= 100000; i++ {
		fmt.Fprintf(&big, "R-%d,Requirement %d\n", i, i)
	}
	for _, tc := range []struct {
		name string
		csv  string
		want []string
	}{
		{"missing header", "REQ-1,Stop in time\nREQ-2,Battery\n", []string{"parameters.csv row 1", "missing header row"}},
		{"unterminated quote", "id,name,description\nREQ-1,Stop,\"never closed\nREQ-2,Battery,ok\n", []string{"parameters.csv row 2, column 3 (description)", "unterminated quote"}},
		{"bad value", "id,name,priority\nREQ-1,Stop,high\nREQ-2,Battery,urgent\n", []string{`failed at step "check_input"`, "parameters.csv row 3, column 3 (priority)", `"urgent" is not accepted`, "low, medium, high, critical", "nothing was saved"}},
		{"external id taken", "id,name\nREQ-1,Stop\nREQ-9,Clash\n", []string{"parameters.csv row 3, column 1 (id)", `"REQ-9" is already used`}},
		{"duplicate external id", "id,name\nREQ-1,Stop\nREQ-1,Again\n", []string{"parameters.csv row 3, column 1 (id)", "also on csv row 2"}},
		{"100,000 rows", big.String(), []string{"row 10002", "at most 10000"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runWorkflow(t, cs, "import_requirements", map[string]any{"document_id": doc, "csv": tc.csv}, nil)
			if !r.isError {
				t.Fatalf("no tool error: %v", r.data)
			}
			wantContains(t, "error", r.text, tc.want...)
			if n := count(t, cs, "requirement", map[string]any{"document_id": doc}); n != 1 {
				t.Fatalf("%d requirements after a refused import; want only the existing one", n)
			}
		})
	}

	// In continue mode a bad row fails alone; the good rows are saved.
	r := runWorkflow(t, cs, "import_requirements", map[string]any{"document_id": doc, "csv": "id,name,priority\nREQ-1,Stop,high\nREQ-2,Battery,urgent\nREQ-3,Lights,low\n"}, continueMode)
	if r.isError || r.data["status"] != "partial" {
		t.Fatalf("continue mode: error=%v %q %v", r.isError, r.text, r.data)
	}
	bad := stepNamed(t, r.data, "create_requirement csv row 3 (REQ-2)")
	if bad["status"] != "failed" || !strings.Contains(bad["error"].(string), "column 3 (priority)") {
		t.Fatalf("bad row step %v", bad)
	}
	if st := stepNamed(t, r.data, "create_requirement csv row 4 (REQ-3)"); st["status"] != "ok" {
		t.Fatalf("good row after the bad one: %v", st)
	}
	if n := count(t, cs, "requirement", map[string]any{"document_id": doc}); n != 3 {
		t.Fatalf("%d requirements; want the existing one and REQ-1, REQ-3", n)
	}
}

// A step that fails after others have written rolls them back in
// transaction mode: the third requirement names a block that does not
// exist, which only the write itself finds out.
func TestWorkflowImportRollsBackMidway(t *testing.T) {
	e := newEnv(t)
	cs := e.client(t, alice)
	_, _, doc := chain(t, cs, "Acme")
	params := map[string]any{"document_id": doc, "requirements": []any{
		map[string]any{"name": "One", "external_id": "A-1"},
		map[string]any{"name": "Two", "external_id": "A-2"},
		map[string]any{"name": "Three", "external_id": "A-3", "block_id": "0b8a4c57-0000-4000-8000-000000000000"},
		map[string]any{"name": "Four", "external_id": "A-4"},
	}}

	r := runWorkflow(t, cs, "import_requirements", params, nil)
	if !r.isError {
		t.Fatalf("no tool error: %v", r.data)
	}
	wantContains(t, "error", r.text, `failed at step "create_requirement requirements[2] (A-3)"`, "parameters.requirements[2]: block_id", "not found", "rolled back")
	want := map[string]string{
		"check_input": "rolled_back",
		"create_requirement requirements[0] (A-1)": "rolled_back",
		"create_requirement requirements[1] (A-2)": "rolled_back",
		"create_requirement requirements[2] (A-3)": "failed",
		"create_requirement requirements[3] (A-4)": "not_run",
	}
	if got := stepStatuses(t, r.data); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("steps %v; want %v", got, want)
	}
	if _, has := r.data["result"]; has {
		t.Errorf("a rolled-back run reports a result: %v", r.data["result"])
	}
	if n := count(t, cs, "requirement", nil); n != 0 {
		t.Fatalf("%d requirements after the roll-back; want 0", n)
	}
	// Nothing of it reached the audit log either.
	st := e.svc.Store()
	audit, err := st.ListAudit(context.Background(), store.AuditQuery{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range audit {
		if a.EntityType == "requirement" {
			t.Fatalf("audit entry of a rolled-back requirement: %+v", a)
		}
	}

	// Continue mode saves the others and reports the one that failed.
	r = runWorkflow(t, cs, "import_requirements", params, continueMode)
	if r.isError || r.data["status"] != "partial" {
		t.Fatalf("continue mode: error=%v %q", r.isError, r.text)
	}
	counts := r.data["step_counts"].(map[string]any)
	if counts["ok"] != float64(4) || counts["failed"] != float64(1) {
		t.Fatalf("step counts %v; want check_input and three rows ok, one failed", counts)
	}
	wantContains(t, "message", r.data["message"].(string), "4 steps saved", "1 failed")
	if res := r.data["result"].(map[string]any); res["imported"] != float64(3) || res["failed"] != float64(1) {
		t.Fatalf("result %v", res)
	}
	if n := count(t, cs, "requirement", nil); n != 3 {
		t.Fatalf("%d requirements; want 3", n)
	}
}

func TestWorkflowSetupTestMatrix(t *testing.T) {
	e := newEnv(t)
	cs := e.client(t, alice)
	_, proj, doc := chain(t, cs, "Acme")
	workflowOK(t, cs, "import_requirements", map[string]any{"document_id": doc, "markdown": "- REQ-1: Stop in time\n- REQ-2: Battery life\n- REQ-3: Lights\n"}, nil)
	// REQ-1 is covered already.
	ok(t, cs, "entity_tool", map[string]any{"entity_type": "test", "operation": "create", "data": map[string]any{"project_id": proj, "title": "Brake test"}})
	ok(t, cs, "relationship_tool", map[string]any{"operation": "link", "relationship_type": "requirement_test", "source": map[string]any{"type": "requirement", "id": "REQ-1"}, "target": map[string]any{"type": "test", "id": "Brake test"}})

	out := workflowOK(t, cs, "setup_test_matrix", map[string]any{"document_id": doc, "coverage": "partial"}, nil)
	res := out["result"].(map[string]any)
	if res["requirements"] != float64(3) || res["already_tested"] != float64(1) || res["tests_created"] != float64(2) {
		t.Fatalf("result %v", res)
	}
	for _, ext := range []string{"REQ-2", "REQ-3"} {
		links := ok(t, cs, "relationship_tool", map[string]any{"operation": "list", "relationship_type": "requirement_test", "source": map[string]any{"type": "requirement", "id": ext}})
		if links["count"] != float64(1) || links["items"].([]any)[0].(map[string]any)["coverage"] != "partial" {
			t.Fatalf("%s coverage links %v", ext, links)
		}
	}
	test := entity(t, ok(t, cs, "entity_tool", map[string]any{"entity_type": "test", "operation": "read", "entity_id": "Verify REQ-2: Battery life"}))
	if test["project_id"] != proj || test["status"] != "pending" {
		t.Fatalf("generated test %v", test)
	}

	// Run again: every requirement has a test, nothing is created.
	out = workflowOK(t, cs, "setup_test_matrix", map[string]any{"project_id": proj}, nil)
	if res := out["result"].(map[string]any); res["tests_created"] != float64(0) || out["status"] != "completed" {
		t.Fatalf("second run %v", out)
	}
	// A deleted test covers nothing: its requirement gets a new one.
	ok(t, cs, "entity_tool", map[string]any{"entity_type": "test", "operation": "delete", "entity_id": test["id"]})
	out = workflowOK(t, cs, "setup_test_matrix", map[string]any{"project_id": "Rover"}, nil)
	if res := out["result"].(map[string]any); res["tests_created"] != float64(1) {
		t.Fatalf("after deleting a test: %v", res)
	}
	if n := count(t, cs, "test", map[string]any{"project_id": proj}); n != 3 {
		t.Fatalf("%d live tests; want the brake test and two generated ones", n)
	}
}

func TestWorkflowBulkStatusUpdate(t *testing.T) {
	e := newEnv(t)
	cs := e.client(t, alice)
	_, _, doc := chain(t, cs, "Acme")
	workflowOK(t, cs, "import_requirements", map[string]any{"document_id": doc, "defaults": map[string]any{"status": "draft"},
		"markdown": "- REQ-1: Stop in time\n- REQ-2: Battery life\n- REQ-3: Lights\n"}, nil)
	statusOf := func(ref string) string {
		return entity(t, ok(t, cs, "entity_tool", map[string]any{"entity_type": "requirement", "operation": "read", "entity_id": ref}))["status"].(string)
	}

	// By ids and names; one is misspelt and still found.
	out := workflowOK(t, cs, "bulk_status_update", map[string]any{"entity_type": "requirement", "status": "approved", "entity_ids": []any{"REQ-1", "Battery lfie"}}, nil)
	if res := out["result"].(map[string]any); res["updated"] != float64(2) || statusOf("REQ-1") != "approved" || statusOf("REQ-2") != "approved" || statusOf("REQ-3") != "draft" {
		t.Fatalf("result %v", out["result"])
	}

	// By filters: every draft of the document (REQ-3 only).
	out = workflowOK(t, cs, "bulk_status_update", map[string]any{"entity_type": "requirement", "status": "active", "filters": map[string]any{"document_id": "Specs", "status": "draft"}}, nil)
	if res := out["result"].(map[string]any); res["matched"] != float64(1) || res["updated"] != float64(1) || statusOf("REQ-3") != "active" {
		t.Fatalf("filter result %v", out["result"])
	}

	// A reference that resolves to nothing rolls back the ones before it.
	r := runWorkflow(t, cs, "bulk_status_update", map[string]any{"entity_type": "requirement", "status": "rejected", "entity_ids": []any{"REQ-1", "REQ-2", "No such requirement"}}, nil)
	if !r.isError {
		t.Fatalf("no tool error: %v", r.data)
	}
	wantContains(t, "error", r.text, `failed at step "update_status[2] (No such requirement)"`, "parameters.entity_ids[2]", "not found", "rolled back")
	if statusOf("REQ-1") != "approved" || statusOf("REQ-2") != "approved" {
		t.Fatalf("statuses changed by a rolled-back workflow: %s, %s", statusOf("REQ-1"), statusOf("REQ-2"))
	}
	// Continue mode updates the two it can.
	r = runWorkflow(t, cs, "bulk_status_update", map[string]any{"entity_type": "requirement", "status": "rejected", "entity_ids": []any{"REQ-1", "No such requirement", "REQ-2"}}, continueMode)
	if r.isError || r.data["status"] != "partial" || statusOf("REQ-1") != "rejected" || statusOf("REQ-2") != "rejected" {
		t.Fatalf("continue mode: error=%v %q %v", r.isError, r.text, r.data)
	}
	if st := stepNamed(t, r.data, "update_status[1] (No such requirement)"); st["status"] != "failed" || !strings.Contains(st["error"].(string), "not found") {
		t.Fatalf("failed step %v", st)
	}

	// An ambiguous name fails its step with the candidates.
	workflowOK(t, cs, "import_requirements", map[string]any{"document_id": doc, "requirements": []any{"Battery thermal limits", "Battery thermal monitor"}}, nil)
	r = runWorkflow(t, cs, "bulk_status_update", map[string]any{"entity_type": "requirement", "status": "active", "entity_ids": []any{"Battery thermal"}}, continueMode)
	st := stepNamed(t, r.data, "update_status[0] (Battery thermal)")
	if st["status"] != "failed" || len(st["candidates"].([]any)) < 2 {
		t.Fatalf("ambiguous step %v", st)
	}
}

func TestWorkflowOrganizationOnboarding(t *testing.T) {
	e := newEnv(t)
	cs := e.client(t, alice)
	b := e.client(t, bob)
	ok(t, b, "workspace_tool", map[string]any{"operation": "get_context"}) // bob has signed in before
	carol := atoms.Caller{Issuer: "https://issuer.test", Subject: "carol", Email: "carol@example.com", EmailVerified: true, Name: "Carol"}

	out := workflowOK(t, cs, "organization_onboarding", map[string]any{
		"name":        "Orbital",
		"type":        "business",
		"invitations": []any{"BOB@example.com", map[string]any{"email": "carol@example.com", "role": "admin"}},
		"project":     map[string]any{"name": "First flight", "description": "Where it starts"},
	}, nil)
	res := out["result"].(map[string]any)
	org := res["organization"].(map[string]any)
	if org["name"] != "Orbital" || org["type"] != "business" || res["project"].(map[string]any)["name"] != "First flight" {
		t.Fatalf("result %v", res)
	}
	people := res["invitations"].([]any)
	if len(people) != 2 || people[0].(map[string]any)["status"] != "invited" || people[1].(map[string]any)["status"] != "invited" {
		t.Fatalf("invitations %v; want bob and carol invited alike (a known user joins only by accepting)", people)
	}
	if st := stepStatuses(t, out); st["invite[1] (carol@example.com as admin)"] != "ok" || st["set_context"] != "ok" {
		t.Fatalf("steps %v", st)
	}
	wctx := ok(t, cs, "workspace_tool", map[string]any{"operation": "get_context"})
	if wctx["project"].(map[string]any)["name"] != "First flight" {
		t.Fatalf("context %v", wctx)
	}
	invs := ok(t, cs, "relationship_tool", map[string]any{"operation": "list", "relationship_type": "invitation", "source": map[string]any{"type": "organization", "id": "Orbital"}})
	if !strings.Contains(fmt.Sprint(invs), "carol@example.com") {
		t.Fatalf("invitations %v", invs)
	}

	roleIn := func(cs *mcp.ClientSession, orgName string) string {
		for _, o := range ok(t, cs, "workspace_tool", map[string]any{"operation": "list_workspaces"})["organizations"].([]any) {
			if m := o.(map[string]any); m["name"] == orgName {
				return m["role"].(string)
			}
		}
		return ""
	}
	if role := roleIn(b, "Orbital"); role != "" {
		t.Fatalf("bob's role in Orbital = %q before accepting; want none", role)
	}
	acceptInvitations(t, b)
	if role := roleIn(b, "Orbital"); role != "member" {
		t.Fatalf("bob's role in Orbital = %q; want member after accepting", role)
	}
	// Carol signs in for the first time, then accepts.
	cc := e.client(t, carol)
	if role := roleIn(cc, "Orbital"); role != "" {
		t.Fatalf("carol joined at sign-in: role %q", role)
	}
	acceptInvitations(t, cc)
	if role := roleIn(cc, "Orbital"); role != "admin" {
		t.Fatalf("carol's role in Orbital = %q; want admin", role)
	}
}

func TestWorkflowBadInputNamesTheParameter(t *testing.T) {
	e := newEnv(t)
	cs := e.client(t, alice)
	_, _, doc := chain(t, cs, "Acme")
	orgsBefore := count(t, cs, "organization", nil)
	for _, tc := range []struct {
		name string
		args map[string]any
		want []string
	}{
		{"unknown workflow", map[string]any{"workflow": "explode"}, []string{"workflow", "explode"}},
		{"missing workflow", map[string]any{"parameters": map[string]any{}}, []string{"workflow"}},
		{"transaction_mode not a boolean", map[string]any{"workflow": "setup_project", "transaction_mode": "yes", "parameters": map[string]any{"name": "x"}}, []string{"transaction_mode"}},
		{"unknown parameter", map[string]any{"workflow": "setup_project", "parameters": map[string]any{"name": "x", "colour": "red"}}, []string{"parameters.colour", "accepted: organization_id, name, description, initial_documents, set_context"}},
		{"missing name", map[string]any{"workflow": "setup_project", "parameters": map[string]any{}}, []string{"parameters.name is required"}},
		{"wrong type", map[string]any{"workflow": "setup_project", "parameters": map[string]any{"name": 7}}, []string{"parameters.name must be a string"}},
		{"bad document field", map[string]any{"workflow": "setup_project", "parameters": map[string]any{"name": "x", "initial_documents": []any{map[string]any{"name": "d", "pages": 3}}}}, []string{"parameters.initial_documents[0].pages", "accepted: name, description, content, version"}},
		{"two import sources", map[string]any{"workflow": "import_requirements", "parameters": map[string]any{"document_id": doc, "csv": "name\nx\n", "markdown": "- x"}}, []string{"exactly one of parameters.requirements", "parameters.csv", "parameters.markdown"}},
		{"bad requirement field", map[string]any{"workflow": "import_requirements", "parameters": map[string]any{"document_id": doc, "requirements": []any{map[string]any{"name": "x", "document_id": doc}}}}, []string{"parameters.requirements[0].document_id", "parameters.document_id"}},
		{"markdown without a list", map[string]any{"workflow": "import_requirements", "parameters": map[string]any{"document_id": doc, "markdown": "just prose"}}, []string{"parameters.markdown", "- REQ-1: text"}},
		{"bad default", map[string]any{"workflow": "import_requirements", "parameters": map[string]any{"document_id": doc, "markdown": "- x", "defaults": map[string]any{"priority": "urgent"}}}, []string{"parameters.defaults.priority", "low, medium, high, critical"}},
		{"status of another type", map[string]any{"workflow": "bulk_status_update", "parameters": map[string]any{"entity_type": "test", "status": "approved", "entity_ids": []any{"x"}}}, []string{"parameters.status", "pending, passed, failed, blocked"}},
		{"type without status", map[string]any{"workflow": "bulk_status_update", "parameters": map[string]any{"entity_type": "document", "status": "active", "entity_ids": []any{"x"}}}, []string{"parameters.entity_type", "project, requirement, test"}},
		{"ids and filters", map[string]any{"workflow": "bulk_status_update", "parameters": map[string]any{"entity_type": "test", "status": "passed"}}, []string{"parameters.entity_ids", "parameters.filters"}},
		{"empty filters", map[string]any{"workflow": "bulk_status_update", "parameters": map[string]any{"entity_type": "test", "status": "passed", "filters": map[string]any{}}}, []string{"parameters.filters is empty"}},
		{"bad coverage", map[string]any{"workflow": "setup_test_matrix", "parameters": map[string]any{"document_id": doc, "coverage": "most"}}, []string{"parameters.coverage", "full, partial, none"}},
		{"bad invitation role", map[string]any{"workflow": "organization_onboarding", "parameters": map[string]any{"name": "Never", "invitations": []any{"bob@example.com", map[string]any{"email": "c@example.com", "role": "boss"}}}}, []string{"parameters.invitations[1].role", "owner, admin, member, viewer"}},
		{"bad email", map[string]any{"workflow": "organization_onboarding", "parameters": map[string]any{"name": "Never", "invitations": []any{"not-an-address"}}}, []string{"parameters.invitations[0].email", "not an email address"}},
		{"bad organization type", map[string]any{"workflow": "organization_onboarding", "parameters": map[string]any{"name": "Never", "type": "galactic"}}, []string{"parameters.type", "team, personal, business"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, cs, "workflow_tool", tc.args)
			if !r.isError {
				t.Fatalf("no tool error; result %v", r.data)
			}
			wantContains(t, "error", r.text, tc.want...)
			if strings.Contains(r.text, "goroutine") || strings.Contains(r.text, "sql") {
				t.Errorf("error leaks internals: %q", r.text)
			}
		})
	}
	if n := count(t, cs, "organization", nil); n != orgsBefore {
		t.Fatalf("%d organizations after refused calls; want %d", n, orgsBefore)
	}
}

func TestWorkflowViewerCannotRunWrites(t *testing.T) {
	e := newEnv(t)
	a := e.client(t, alice)
	org, _, doc := chain(t, a, "Team")
	aliceActor, err := e.svc.Actor(context.Background(), alice)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.InviteMember(context.Background(), aliceActor, org, "bob@example.com", "viewer"); err != nil {
		t.Fatal(err)
	}
	b := e.client(t, bob)
	acceptInvitations(t, b)
	r := runWorkflow(t, b, "import_requirements", map[string]any{"document_id": doc, "markdown": "- REQ-1: x"}, nil)
	if !r.isError || r.data["failed_step"] != "check_input" {
		t.Fatalf("viewer import: error=%v %v", r.isError, r.data)
	}
	wantContains(t, "error", r.text, "viewer")
	if n := count(t, a, "requirement", map[string]any{"document_id": doc}); n != 0 {
		t.Fatalf("viewer imported %d requirements", n)
	}
}

// A long run lists at most 100 steps, failures first, and counts them all.
func TestWorkflowResultListsFailuresOfLongRuns(t *testing.T) {
	e := newEnv(t)
	cs := e.client(t, alice)
	_, _, doc := chain(t, cs, "Acme")
	var b strings.Builder
	b.WriteString("id,name,priority\n")
	for i := 1; i <= 150; i++ {
		priority := "low"
		if i == 140 || i == 145 {
			priority = "someday"
		}
		fmt.Fprintf(&b, "R-%d,Requirement %d,%s\n", i, i, priority)
	}
	r := runWorkflow(t, cs, "import_requirements", map[string]any{"document_id": doc, "csv": b.String()}, continueMode)
	if r.isError || r.data["status"] != "partial" {
		t.Fatalf("error=%v %q", r.isError, r.text)
	}
	steps := r.data["steps"].([]any)
	if len(steps) != 100 || r.data["steps_omitted"] != float64(51) {
		t.Fatalf("%d steps listed, %v omitted; want 100 and 51 of 151", len(steps), r.data["steps_omitted"])
	}
	counts := r.data["step_counts"].(map[string]any)
	if counts["ok"] != float64(149) || counts["failed"] != float64(2) {
		t.Fatalf("counts %v", counts)
	}
	for _, name := range []string{"create_requirement csv row 141 (R-140)", "create_requirement csv row 146 (R-145)"} {
		if st := stepNamed(t, r.data, name); st["status"] != "failed" || !strings.Contains(st["error"].(string), `"someday" is not accepted`) {
			t.Errorf("%s: %v", name, st)
		}
	}
	if n := count(t, cs, "requirement", map[string]any{"document_id": doc}); n != 148 {
		t.Fatalf("%d requirements; want 148", n)
	}
}
