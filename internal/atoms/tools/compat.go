package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/atomcp/atomcp/internal/auth"
	"github.com/atomcp/atomcp/internal/domain"
)

// Compatibility with the clients of the Python Atoms server (the audit in
// docs/migration.md): before a tools/call reaches its tool's schema
// validation, one normalisation step per tool rewrites the old parameter
// names and values into atomcp's, so that the schemas in tools/list stay
// lean (no alias is advertised). Each tool's table is in its
// compat_<tool>.go file; what cannot be said in arguments (the old
// server's include_relations, a relationship list's offset …) travels to
// the handler in the context as compatExtras.

// compatTable is one tool's normalisation.
type compatTable struct {
	// args is the tool's argument struct, whose json names are the
	// accepted parameters and whose field types say how to coerce.
	args reflect.Type
	// renames maps an old parameter name to atomcp's; a rename never
	// overwrites a parameter the call also sets under the new name.
	renames map[string]string
	// ignored are old parameters that are accepted and have no effect
	// (each says why in the tool's table).
	ignored []string
	// rewrite applies the tool's structural rules (inference, value
	// mappings, moves between parameters) after the renames. It may
	// return another tool's name: the call is then that tool's,
	// normalised again by that tool's table.
	rewrite func(c *compatCall) error
}

// compatCall is a call being normalised.
type compatCall struct {
	tool   string
	args   map[string]any
	extras compatExtras
}

// compatExtras are old-client options with no atomcp argument, for the
// handlers.
type compatExtras struct {
	// includeRelations: entity_tool read/update adds counts and children.
	includeRelations bool
	// offset: relationship_tool list skips this many links.
	offset int
	// excludeID: query_tool leaves this entity out of the results.
	excludeID string
	// minScore: query_tool rag_search drops results scored below it.
	minScore *float64
	// conditions: query_tool search keeps only results whose entity has
	// these field values.
	conditions map[string]any
	// originalTool is the tool the client called (health_check, context_tool …).
	originalTool string
}

type compatKey struct{}

// decodedOutput is a tool's structured output as addRawTool validated it:
// the JSON it put in the result and the same value decoded, so that the
// envelope does not decode again what was decoded a moment before.
type decodedOutput struct {
	raw []byte
	obj map[string]any
}

type decodedKey struct{}

// keepDecoded hands the envelope the decoded output of a call, when the
// compat middleware asked for it.
func keepDecoded(ctx context.Context, raw []byte, v any) {
	if d, ok := ctx.Value(decodedKey{}).(*decodedOutput); ok {
		if obj, ok := v.(map[string]any); ok {
			d.raw, d.obj = raw, obj
		}
	}
}

// of returns the decoded form of raw if it is the JSON this holder saw
// (the same bytes, not merely equal ones: nothing changed it since).
func (d *decodedOutput) of(raw []byte) map[string]any {
	if d == nil || d.obj == nil || len(raw) == 0 || len(raw) != len(d.raw) || &raw[0] != &d.raw[0] {
		return nil
	}
	return d.obj
}

func compatOf(ctx context.Context) compatExtras {
	x, _ := ctx.Value(compatKey{}).(compatExtras)
	return x
}

// compatTables are the tools' tables, by tool name (read only).
var compatTables = map[string]*compatTable{
	"entity_tool":       entityCompat,
	"workspace_tool":    workspaceCompat,
	"relationship_tool": relationshipCompat,
	"query_tool":        queryCompat,
	"workflow_tool":     workflowCompat,
	"context_tool":      contextCompat,
	"workflow_execute":  workflowExecuteCompat,
	"health_check":      healthCompat,
}

// normaliseCall rewrites one call's arguments; it returns the tool to run
// (a renamed old tool, or an entity_tool query operation that is
// query_tool's) and its arguments.
func normaliseCall(tool string, raw json.RawMessage) (*compatCall, error) {
	c := &compatCall{tool: tool, args: map[string]any{}}
	c.extras.originalTool = tool
	if len(raw) > 0 && string(raw) != "null" {
		if err := json.Unmarshal(raw, &c.args); err != nil {
			return nil, fmt.Errorf("%w: arguments must be a JSON object: %v", domain.ErrInvalid, err)
		}
		if c.args == nil {
			c.args = map[string]any{}
		}
	}
	seen := map[string]bool{}
	for {
		t, ok := compatTables[c.tool]
		if !ok || seen[c.tool] {
			return c, nil // an unknown tool is go-sdk's to refuse
		}
		seen[c.tool] = true
		before := c.tool
		if err := t.apply(c); err != nil {
			return nil, err
		}
		if c.tool == before {
			return c, nil
		}
	}
}

func (t *compatTable) apply(c *compatCall) error {
	dropNulls(c.args)
	for old, repl := range t.renames {
		v, ok := c.args[old]
		if !ok {
			continue
		}
		delete(c.args, old)
		if _, set := c.args[repl]; !set {
			c.args[repl] = v
		}
	}
	if t.rewrite != nil {
		before := c.tool
		if err := t.rewrite(c); err != nil {
			return err
		}
		if c.tool != before {
			return nil // the next table judges the arguments
		}
	}
	for _, name := range t.ignored {
		delete(c.args, name)
	}
	dropNulls(c.args) // a rewrite may have cleared a value
	return t.check(c)
}

// dropNulls removes the parameters sent as explicit null: FastMCP
// advertised every optional parameter as anyOf [X, null], and null meant
// "not given". A required parameter sent as null is then missing, which
// the schema reports.
func dropNulls(args map[string]any) {
	for k, v := range args {
		if v == nil {
			delete(args, k)
		}
	}
}

// check refuses a parameter the tool does not know, naming it and the
// accepted ones, and coerces what pydantic coerced (a number or boolean in
// a string, an object or list sent as JSON text).
func (t *compatTable) check(c *compatCall) error {
	fields := jsonFields(t.args)
	var unknown []string
	for name, v := range c.args {
		ft, ok := fields[name]
		if !ok {
			unknown = append(unknown, name)
			continue
		}
		c.args[name] = coerceArg(ft, v)
	}
	if len(unknown) == 0 {
		return nil
	}
	slices.Sort(unknown)
	names := make([]string, 0, len(fields))
	for n := range fields {
		names = append(names, n)
	}
	slices.Sort(names)
	word := "parameter"
	if len(unknown) > 1 {
		word = "parameters"
	}
	return fmt.Errorf("%w: unknown %s %s of %s; accepted: %s", domain.ErrInvalid, word, quoteAll(unknown), c.tool, strings.Join(names, ", "))
}

func quoteAll(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}

// jsonFields maps the json names of a struct's fields to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	if t == nil {
		return out
	}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		out[name] = f.Type
	}
	return out
}

// coerceArg turns v into what a parameter of type t needs, where the old
// server's pydantic (lax mode) or FastMCP did: "5" → 5, "true" → true, and
// JSON text → the object or list it encodes. Anything else is left for
// schema validation to refuse.
func coerceArg(t reflect.Type, v any) any {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	s, isString := v.(string)
	switch t.Kind() {
	case reflect.Int, reflect.Int64:
		if isString {
			if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil {
				return float64(n)
			}
		}
		if f, ok := v.(float64); ok && f != float64(int64(f)) {
			return float64(int64(f)) // 10.0 is 10; pydantic truncated nothing else either
		}
	case reflect.Float64:
		if isString {
			if f, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
				return f
			}
		}
	case reflect.Bool:
		if isString {
			if b, err := strconv.ParseBool(strings.TrimSpace(s)); err == nil {
				return b
			}
		}
	case reflect.Map, reflect.Struct, reflect.Slice:
		if isString {
			var parsed any
			if json.Unmarshal([]byte(s), &parsed) == nil {
				switch parsed.(type) {
				case map[string]any, []any:
					return parsed
				}
			}
			if t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.String {
				return []any{s} // one entity type where a list is wanted
			}
		}
	}
	return v
}

// str returns args[name] as a string ("" when absent or not a string).
func str(args map[string]any, name string) string {
	s, _ := args[name].(string)
	return s
}

// has reports whether args sets name to something other than an empty
// value.
func has(args map[string]any, name string) bool {
	switch v := args[name].(type) {
	case nil:
		return false
	case string:
		return strings.TrimSpace(v) != ""
	case map[string]any:
		return len(v) > 0
	case []any:
		return len(v) > 0
	}
	return true
}

// mapValue replaces args[name] by table[value] when the value is in it.
func mapValue(args map[string]any, name string, table map[string]string) {
	if v, ok := args[name].(string); ok {
		if repl, found := table[v]; found {
			args[name] = repl
		}
	}
}

// compatMiddleware is the normalisation step (and, on the way back, the
// old envelope) around every tools/call.
func compatMiddleware(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		call, ok := req.(*mcp.CallToolRequest)
		if method != "tools/call" || !ok || call.Params == nil {
			return next(ctx, method, req)
		}
		c, err := normaliseCall(call.Params.Name, call.Params.Arguments)
		if err != nil {
			return failureResult(err.Error(), "validation_error"), nil
		}
		raw, err := json.Marshal(c.args)
		if err != nil {
			return failureResult(err.Error(), "validation_error"), nil
		}
		call.Params.Name, call.Params.Arguments = c.tool, raw
		decoded := new(decodedOutput)
		ctx = context.WithValue(context.WithValue(ctx, compatKey{}, c.extras), decodedKey{}, decoded)
		res, err := next(ctx, method, req)
		if r, ok := res.(*mcp.CallToolResult); ok && err == nil && r != nil {
			envelope(c.tool, r, decoded)
		}
		return res, err
	}
}

// CallAccess says what a tools/call does to data, from its tool and raw
// arguments, as internal/auth's scope check needs it before the call
// runs: the arguments are normalised as the call itself will be (an old
// entity_tool call without operation is inferred, an old operation name
// mapped), and Access then answers for the tool and operation that will
// run. Arguments that do not normalise are judged by their operation as
// sent (the tool will refuse them anyway).
func CallAccess(tool string, arguments json.RawMessage) auth.Access {
	c, err := normaliseCall(tool, arguments)
	if err != nil {
		var op struct {
			Operation any `json:"operation"`
		}
		_ = json.Unmarshal(arguments, &op)
		s, _ := op.Operation.(string)
		return Access(tool, s)
	}
	return Access(c.tool, str(c.args, operationArg))
}
