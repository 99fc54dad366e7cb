package tools

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/atomcp/atomcp/internal/atoms"
	"github.com/atomcp/atomcp/internal/domain"
)

// entityCompat is entity_tool's table (the Python server's entity_tool,
// PY-5 and the November-2025 deployment).
var entityCompat = &compatTable{
	args: reflect.TypeFor[EntityArgs](),
	renames: map[string]string{
		"conditions": "filters", // the deployment's query-style alias
	},
	// workspace_id scoped the deployment's calls to a workspace, which
	// atomcp derives from the entity ids; projections and aggregate_type
	// were accepted and never used there.
	ignored: []string{"workspace_id", "projections", "aggregate_type"},
	rewrite: entityRewrite,
}

// entityOperationAliases are the deployment's operation names that are an
// atomcp entity operation.
var entityOperationAliases = map[string]string{
	"bulk_create":     "batch_create",
	"archive":         "delete", // archive was a soft delete
	"advanced_search": "search",
}

// entityQueryOperations are the deployment's query operations inside
// entity_tool: they are query_tool's query types.
var entityQueryOperations = map[string]bool{"aggregate": true, "analyze": true, "rag_search": true, "similarity": true}

func entityRewrite(c *compatCall) error {
	a := c.args
	// The deployment's alias entities, for entity_type.
	if !has(a, "entity_type") {
		switch v := a["entities"].(type) {
		case string:
			a["entity_type"] = v
		case []any:
			if len(v) == 1 {
				a["entity_type"] = v[0]
			}
		}
	}
	op := str(a, "operation")
	mapValue(a, "operation", entityOperationAliases)
	if op != "" && entityQueryOperations[op] {
		return entityToQuery(c, op)
	}
	delete(a, "entities")
	if op == "archive" {
		a["soft_delete"] = true
	}
	if op == "" {
		// Inferred as server/tools.py:151-164 did, batch first (the
		// deployment's batch_create with batch).
		switch {
		case has(a, "batch"):
			a["operation"] = "batch_create"
		case has(a, "entity_id") && has(a, "data"):
			a["operation"] = "update"
		case has(a, "entity_id"):
			a["operation"] = "read"
		case has(a, "data"):
			a["operation"] = "create"
		case has(a, "search_term"):
			a["operation"] = "search"
		default:
			a["operation"] = "list"
		}
	}
	op = str(a, "operation")
	// A list in data is the batch (the deployment, server.py:827-831).
	if list, ok := a["data"].([]any); ok && (op == "create" || op == "batch_create") {
		if !has(a, "batch") {
			a["batch"] = list
		}
		delete(a, "data")
	}
	// create with batch created the batch's items, and not data
	// (PY-5 entity.py:702-735); atomcp creates them all or none.
	if op == "create" && has(a, "batch") {
		a["operation"], op = "batch_create", "batch_create"
		delete(a, "data")
	}
	// Filter-only search: PY-5's list ignored filters, so its callers
	// filtered with search and no search_term.
	if op == "search" && !has(a, "search_term") {
		a["operation"] = "list"
	}
	oldDataFields(str(a, "entity_type"), a["data"])
	if batch, ok := a["batch"].([]any); ok {
		for _, item := range batch {
			oldDataFields(str(a, "entity_type"), item)
		}
	}
	if err := parentFilter(a); err != nil {
		return err
	}
	if err := deletedFilter(a); err != nil {
		return err
	}
	if p, ok := a["pagination"].(map[string]any); ok {
		for _, k := range []string{"limit", "offset"} {
			if v, set := p[k]; set && !has(a, k) {
				a[k] = v
			}
		}
	}
	delete(a, "pagination")
	if v, ok := a["include_archived"]; ok {
		if b, _ := v.(bool); b {
			a["include_deleted"] = true
		}
		delete(a, "include_archived")
	}
	if v, ok := a["include_relations"]; ok {
		c.extras.includeRelations = v == true || v == "true"
		delete(a, "include_relations")
	}
	if err := orderBy(a); err != nil {
		return err
	}
	clampLimit(a, atoms.MaxPageSize)
	return nil
}

// entityToQuery makes a deployment entity_tool query operation into the
// query_tool call it is.
func entityToQuery(c *compatCall, op string) error {
	a := c.args
	q := map[string]any{"query_type": op}
	if t := str(a, "entity_type"); t != "" {
		q["entities"] = []any{t}
		if op == "similarity" {
			q["entity_type"] = t // the centre entity's type, with entity_id
		}
	}
	for _, k := range []string{"search_term", "content", "rag_mode", "similarity_threshold", "limit", "entity_id", "group_by", "filters", "conditions", "exclude_id"} {
		if v, ok := a[k]; ok {
			q[k] = v
		}
	}
	if f, ok := q["filters"]; ok {
		q["conditions"] = f
		delete(q, "filters")
	}
	if p := str(a, "parent_id"); p != "" && str(a, "parent_type") != "" {
		q[str(a, "parent_type")+"_id"] = p
	}
	c.tool, c.args = "query_tool", q
	return nil
}

// parentFilter makes PY-5's parent_type/parent_id into the filter it was:
// <parent_type>_id = parent_id.
func parentFilter(a map[string]any) error {
	pt, pid := str(a, "parent_type"), a["parent_id"]
	delete(a, "parent_type")
	delete(a, "parent_id")
	if pt == "" && pid == nil {
		return nil
	}
	if pt == "" || pid == nil {
		return fmt.Errorf("%w: parent_type and parent_id go together (e.g. parent_type \"project\" and its id)", domain.ErrInvalid)
	}
	filters, _ := a["filters"].(map[string]any)
	if filters == nil {
		filters = map[string]any{}
	}
	key := pt + "_id"
	if _, set := filters[key]; !set {
		filters[key] = pid
	}
	a["filters"] = filters
	return nil
}

// deletedFilter: the old filters could say is_deleted explicitly; false is
// atomcp's default, true asks for the soft-deleted ones as well.
func deletedFilter(a map[string]any) error {
	filters, _ := a["filters"].(map[string]any)
	v, ok := filters["is_deleted"]
	if !ok {
		return nil
	}
	delete(filters, "is_deleted")
	if len(filters) == 0 {
		delete(a, "filters")
	}
	switch v {
	case false, "false":
	case true, "true":
		a["include_deleted"] = true
	default:
		return fmt.Errorf("%w: filters.is_deleted must be true or false", domain.ErrInvalid)
	}
	return nil
}

// orderBy accepts the old sort forms: "field:desc", "field:asc",
// "-field", "field DESC" and comma lists (the first key sorts; atomcp
// sorts by one field, then by id).
func orderBy(a map[string]any) error {
	s, ok := a["order_by"].(string)
	if !ok {
		return nil
	}
	s = strings.TrimSpace(s)
	if first, _, found := strings.Cut(s, ","); found {
		s = strings.TrimSpace(first)
	}
	desc := false
	switch {
	case strings.HasPrefix(s, "-"):
		s, desc = s[1:], true
	case strings.Contains(s, ":"):
		field, dir, _ := strings.Cut(s, ":")
		s = field
		switch strings.ToLower(strings.TrimSpace(dir)) {
		case "desc":
			desc = true
		case "asc", "":
		default:
			return fmt.Errorf("%w: order_by %q: the direction is asc or desc", domain.ErrInvalid, a["order_by"])
		}
	default:
		if field, dir, found := strings.Cut(s, " "); found {
			switch strings.ToLower(strings.TrimSpace(dir)) {
			case "desc":
				s, desc = field, true
			case "asc":
				s = field
			}
		}
	}
	a["order_by"] = strings.TrimSpace(s)
	if desc {
		a["order_desc"] = true
	}
	return nil
}

// clampLimit makes a page size over the maximum the maximum: the old
// server clamped (at 100) where atomcp refused; atomcp clamps at its own
// maximum, so a page is never smaller than atomcp would give.
func clampLimit(a map[string]any, maxLimit int) {
	switch v := a["limit"].(type) {
	case float64:
		if v > float64(maxLimit) {
			a["limit"] = float64(maxLimit)
		}
	case string:
		if n := coerceArg(reflect.TypeFor[int](), v); n != nil {
			if f, ok := n.(float64); ok && f > float64(maxLimit) {
				a["limit"] = float64(maxLimit)
			}
		}
	}
}

// oldStatuses maps the old statuses atomcp has no separate state for:
// deleted was a status in the old tables and is archived here (a soft
// delete is the delete operation).
var oldStatuses = map[string]map[string]string{
	"requirement": {"deleted": "archived"},
	"project":     {"deleted": "archived"},
}

// oldFieldNames are the old column names of the data fields.
var oldFieldNames = map[string]string{
	"enchanced_requirement": "enhanced_requirement", // the Supabase column's spelling
}

// oldDataFields rewrites one data object of entity type t: old field names and
// status values, and a block's JSON content (an object or list in the
// old tables), kept as its JSON text.
func oldDataFields(t string, v any) {
	data, ok := v.(map[string]any)
	if !ok {
		return
	}
	for old, repl := range oldFieldNames {
		if x, set := data[old]; set {
			delete(data, old)
			if _, has := data[repl]; !has {
				data[repl] = x
			}
		}
	}
	if m, found := oldStatuses[t]; found {
		mapValue(data, "status", m)
	}
	if t == "block" {
		switch c := data["content"].(type) {
		case map[string]any, []any:
			if b, err := json.Marshal(c); err == nil {
				data["content"] = string(b)
			}
		}
	}
}
