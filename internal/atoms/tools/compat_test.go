package tools_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/atomcp/atomcp/internal/atoms"
	"github.com/atomcp/atomcp/internal/atoms/tools"
	"github.com/atomcp/atomcp/internal/auth"
	"github.com/atomcp/atomcp/internal/demo"
	"github.com/atomcp/atomcp/internal/domain"
)

// TestPythonClientReplay replays testdata/compat/python_calls.txt: the
// calls an old client of the Python Atoms server made (the audit in
// docs/migration.md), against the demo data of `atomcp seed --demo`, and
// checks what each result means (not only that it is not an error).
//
// The file: ">>> tool {arguments}" is a call, where {{NAME}} is a value
// (the demo's ORG, PRJ, SYS_DOC, SAF_DOC, REQ (SAF-008), REQ2 (SYS-002),
// TEST, ME, or one saved before); the lines under it check the result:
//
//	ok | error          the result is (not) a tool error
//	PATH == JSON        the value at PATH equals JSON
//	PATH != JSON        … does not
//	PATH len N          the list or object at PATH has N entries
//	PATH has JSON       the list at PATH contains JSON
//	PATH lacks JSON     … does not
//	PATH all JSON       every entry of the list at PATH equals JSON
//	PATH contains TEXT  the string at PATH contains TEXT
//	PATH exists | PATH missing
//	save NAME PATH      remember the value at PATH as {{NAME}}
//
// PATH is dotted (data.items.0.name); "*" maps over a list (data.*.name).
// The result object is the structured content of a success and the
// parsed JSON text of a failure.
func TestPythonClientReplay(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a, err := e.svc.Actor(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Seed(ctx, e.svc, a); err != nil {
		t.Fatal(err)
	}
	vars := demoVars(t, e, a)
	cs := e.client(t, alice)

	f, err := os.Open(filepath.Join("testdata", "compat", "python_calls.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		res   map[string]any
		where string
		calls int
		tools = map[string]bool{}
	)
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		if rest, isCall := strings.CutPrefix(text, ">>> "); isCall {
			tool, args, _ := strings.Cut(rest, " ")
			args = expand(t, args, vars)
			where = fmt.Sprintf("python_calls.txt:%d %s %s", line, tool, args)
			res = replayCall(t, cs, where, tool, args)
			calls++
			tools[tool] = true
			continue
		}
		if res == nil {
			t.Fatalf("python_calls.txt:%d: a check before any call", line)
		}
		check(t, where, fmt.Sprintf("line %d", line), res, text, vars)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if calls < 60 {
		t.Errorf("only %d calls replayed; the audit's table needs at least 60", calls)
	}
	for _, tool := range []string{"workspace_tool", "entity_tool", "relationship_tool", "query_tool", "workflow_tool", "context_tool", "workflow_execute", "health_check"} {
		if !tools[tool] {
			t.Errorf("no call of %s", tool)
		}
	}
}

// demoVars are the ids of the demo data the audit's placeholders name.
func demoVars(t *testing.T, e *env, a *atoms.Actor) map[string]any {
	t.Helper()
	ctx := context.Background()
	find := func(typ domain.EntityType, field, value string) string {
		page, err := e.svc.ListEntities(ctx, a, typ, atoms.ListParams{Filters: map[string]any{field: value}, Limit: 1})
		if err != nil || len(page.Items) != 1 {
			t.Fatalf("demo %s %s=%q: %v", typ, field, value, err)
		}
		return page.Items[0].ID
	}
	return map[string]any{
		"ORG":     find(domain.Organization, "name", demo.OrganizationName),
		"PRJ":     find(domain.Project, "name", "Delivery Drone"),
		"SYS_DOC": find(domain.Document, "name", "System Requirements"),
		"SAF_DOC": find(domain.Document, "name", "Safety Requirements"),
		"REQ":     find(domain.Requirement, "external_id", "SAF-008"),
		"REQ2":    find(domain.Requirement, "external_id", "SYS-002"),
		"TEST":    find(domain.Test, "title", "Endurance flight at full payload"),
		"ME":      a.User.ID,
	}
}

func expand(t *testing.T, s string, vars map[string]any) string {
	t.Helper()
	for {
		i := strings.Index(s, "{{")
		if i < 0 {
			return s
		}
		j := strings.Index(s[i:], "}}")
		if j < 0 {
			t.Fatalf("unclosed {{ in %s", s)
		}
		name := s[i+2 : i+j]
		v, ok := vars[name]
		if !ok {
			t.Fatalf("no value {{%s}}", name)
		}
		str, isStr := v.(string)
		if !isStr {
			b, _ := json.Marshal(v)
			str = string(b)
		}
		s = s[:i] + str + s[i+j+2:]
	}
}

// replayCall makes one call; the result is the structured content of a
// success (which must be the text too) or the JSON text of a failure,
// with "isError" added.
func replayCall(t *testing.T, cs *mcp.ClientSession, where, tool, args string) map[string]any {
	t.Helper()
	var params mcp.CallToolParams
	params.Name = tool
	if err := json.Unmarshal([]byte(args), &params.Arguments); err != nil {
		t.Fatalf("%s: arguments: %v", where, err)
	}
	r, err := cs.CallTool(context.Background(), &params)
	if err != nil {
		t.Fatalf("%s: protocol error: %v", where, err)
	}
	text := ""
	for _, c := range r.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			text += tc.Text
		}
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(text), &out); err != nil {
		t.Fatalf("%s: the text is not a JSON object (old clients parse it): %q", where, text)
	}
	if r.StructuredContent != nil && !r.IsError {
		b, _ := json.Marshal(r.StructuredContent)
		var sc map[string]any
		_ = json.Unmarshal(b, &sc)
		if !reflect.DeepEqual(sc, out) {
			t.Errorf("%s: structured content and text differ:\n%s\n%s", where, b, text)
		}
	}
	out["isError"] = r.IsError
	return out
}

func check(t *testing.T, where, line string, res map[string]any, text string, vars map[string]any) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		b, _ := json.Marshal(res)
		s := string(b)
		if len(s) > 1500 {
			s = s[:1500] + "…"
		}
		t.Errorf("%s\n  %s: %s: %s\n  result: %s", where, line, text, fmt.Sprintf(format, args...), s)
	}
	switch text {
	case "ok", "error":
		if isErr := res["isError"] == true; isErr != (text == "error") {
			fail("isError is %v", isErr)
		}
		return
	}
	fields := strings.SplitN(text, " ", 3)
	if fields[0] == "save" && len(fields) == 3 {
		v, ok := lookup(res, fields[2])
		if !ok {
			fail("nothing at %s", fields[2])
			return
		}
		vars[fields[1]] = v
		return
	}
	if len(fields) < 2 {
		fail("not a check")
		return
	}
	path, op := fields[0], fields[1]
	arg := ""
	if len(fields) == 3 {
		arg = expand(t, fields[2], vars)
	}
	got, found := lookup(res, path)
	want := func() any {
		var v any
		if err := json.Unmarshal([]byte(arg), &v); err != nil {
			t.Fatalf("%s %s: %q is not JSON: %v", where, line, arg, err)
		}
		return v
	}
	switch op {
	case "exists":
		if !found {
			fail("missing")
		}
		return
	case "missing":
		if found {
			fail("present: %v", got)
		}
		return
	}
	if !found {
		fail("nothing at %s", path)
		return
	}
	switch op {
	case "==":
		if w := want(); !reflect.DeepEqual(got, w) {
			fail("got %v", got)
		}
	case "!=":
		if w := want(); reflect.DeepEqual(got, w) {
			fail("got %v", got)
		}
	case "len":
		n, _ := strconv.Atoi(arg)
		if l := length(got); l != n {
			fail("len %d", l)
		}
	case ">=":
		n, _ := strconv.ParseFloat(arg, 64)
		if f, ok := got.(float64); !ok || f < n {
			if l := length(got); l < int(n) || ok {
				fail("got %v", got)
			}
		}
	case "has", "lacks":
		list, _ := got.([]any)
		w := want()
		in := false
		for _, x := range list {
			if reflect.DeepEqual(x, w) {
				in = true
			}
		}
		if in != (op == "has") {
			fail("%s %v", op, list)
		}
	case "all":
		list, _ := got.([]any)
		w := want()
		if len(list) == 0 {
			fail("empty list")
		}
		for _, x := range list {
			if !reflect.DeepEqual(x, w) {
				fail("an entry is %v", x)
				break
			}
		}
	case "contains":
		s, _ := got.(string)
		if !strings.Contains(s, arg) {
			fail("got %q", s)
		}
	default:
		fail("unknown check %q", op)
	}
}

func length(v any) int {
	switch x := v.(type) {
	case []any:
		return len(x)
	case map[string]any:
		return len(x)
	}
	return -1
}

// lookup follows a dotted path; "*" maps the rest over a list.
func lookup(v any, path string) (any, bool) {
	if path == "." {
		return v, true
	}
	parts := strings.Split(path, ".")
	for i, p := range parts {
		switch x := v.(type) {
		case map[string]any:
			next, ok := x[p]
			if !ok {
				return nil, false
			}
			v = next
		case []any:
			if p == "*" {
				rest := strings.Join(parts[i+1:], ".")
				out := make([]any, 0, len(x))
				for _, el := range x {
					if rest == "" {
						out = append(out, el)
						continue
					}
					if got, ok := lookup(el, rest); ok {
						out = append(out, got)
					}
				}
				return out, true
			}
			n, err := strconv.Atoi(p)
			if err != nil || n < 0 || n >= len(x) {
				return nil, false
			}
			v = x[n]
		default:
			return nil, false
		}
	}
	return v, true
}

// TestCallAccessNormalises: the scope check's reading of a call is the
// call as it will run (one table for both).
func TestCallAccessNormalises(t *testing.T) {
	for _, tc := range []struct {
		tool, args string
		want       auth.Access
	}{
		{"entity_tool", `{"entity_type":"project"}`, auth.Read},
		{"entity_tool", `{"entity_type":"project","entity_id":"x"}`, auth.Read},
		{"entity_tool", `{"entity_type":"project","search_term":"x"}`, auth.Read},
		{"entity_tool", `{"entity_type":"project","operation":"search","filters":{"status":"active"}}`, auth.Read},
		{"entity_tool", `{"entity_type":"project","data":{"name":"x"}}`, auth.Write},
		{"entity_tool", `{"entity_type":"project","entity_id":"x","data":{"name":"y"}}`, auth.Write},
		{"entity_tool", `{"entity_type":"project","batch":[{"name":"y"}]}`, auth.Write},
		{"entity_tool", `{"entity_type":"project","operation":"archive","entity_id":"x"}`, auth.Write},
		{"entity_tool", `{"entity_type":"requirement","operation":"similarity","content":"x"}`, auth.Read},
		{"entity_tool", `{"entity_type":"project","operation":null}`, auth.Read},
		{"entity_tool", `{"entity_type":"project","operation":"read","colour":"red"}`, auth.Read}, // refused by the tool; read as sent
		{"entity_tool", `{"entity_type":"project","operation":"create","colour":"red"}`, auth.Write},
		{"context_tool", `{"operation":"set_context","context_type":"project","context_id":"x"}`, auth.Read},
		{"workflow_execute", `{"workflow_name":"setup_new_project"}`, auth.Write},
		{"health_check", ``, auth.Read},
		{"relationship_tool", `{"operation":"list","relationship_type":"trace_link","offset":5}`, auth.Read},
		{"nope_tool", `{}`, auth.Write},
	} {
		if got := tools.CallAccess(tc.tool, json.RawMessage(tc.args)); got != tc.want {
			t.Errorf("CallAccess(%s, %s) = %v; want %v", tc.tool, tc.args, got, tc.want)
		}
	}
}

// TestOldNamesMeetTheLengthLimits: the normalisation runs before the
// argument length limits, so an old name (workspace_tool's id) is held to
// the limit of the parameter it becomes.
func TestOldNamesMeetTheLengthLimits(t *testing.T) {
	cs := newEnv(t).client(t, alice)
	r := call(t, cs, "workspace_tool", map[string]any{"operation": "set_context", "type": "project", "id": strings.Repeat("x", 5000)})
	if !r.isError || !strings.Contains(r.text, "entity_id") {
		t.Fatalf("a 5000-character id: %v %q", r.isError, r.text)
	}
}
