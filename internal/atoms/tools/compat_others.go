package tools

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/atomcp/atomcp/internal/atoms"
	"github.com/atomcp/atomcp/internal/domain"
)

// formatOnly accepts the old format_type on a tool whose results have one
// shape: the old envelope (success, data) is always added, so detailed,
// summary and raw all mean "the result".
func formatOnly(a map[string]any) error {
	f, ok := a["format_type"]
	if !ok {
		return nil
	}
	delete(a, "format_type")
	switch f {
	case atoms.FormatDetailed, atoms.FormatSummary, atoms.FormatRaw:
		return nil
	}
	return fmt.Errorf("%w: format_type %v; accepted: detailed, summary, raw", domain.ErrInvalid, f)
}

// workspaceCompat is workspace_tool's table.
var workspaceCompat = &compatTable{
	args: reflect.TypeFor[WorkspaceArgs](),
	renames: map[string]string{
		"type": "context_type", // PY-5 back-compat aliases (server/tools.py:46,77)
		"id":   "entity_id",
	},
	// list_workspaces returns every organization, so the page of the old
	// list is the whole list (its paging keys are in the envelope); the
	// deployment's get_context extras are what get_context returns anyway.
	ignored: []string{"limit", "offset", "include_hierarchy", "include_members", "include_recent_activity", "workspace_id"},
	rewrite: func(c *compatCall) error {
		a := c.args
		mapValue(a, "context_type", map[string]string{"workspace": "organization"})
		// set_context with only organization_id or project_id set that level
		// (the deployment, server.py:676-683); atomcp derives the parents.
		if str(a, "operation") == "set_context" && !has(a, "context_type") && !has(a, "entity_id") {
			for _, level := range []string{"document", "project", "organization"} {
				if id := str(a, level+"_id"); id != "" {
					a["context_type"], a["entity_id"] = level, id
					break
				}
			}
		}
		for _, level := range []string{"organization", "project", "document"} {
			delete(a, level+"_id")
		}
		return formatOnly(a)
	},
}

// contextCompat is the deployment's context_tool, which is workspace_tool
// with context_id for entity_id.
var contextCompat = &compatTable{
	args: reflect.TypeFor[ContextArgs](),
	rewrite: func(c *compatCall) error {
		a := c.args
		op := str(a, "operation")
		switch op {
		case "set_context", "set_workspace":
			ctype := str(a, "context_type")
			id := str(a, "context_id")
			if op == "set_workspace" {
				ctype, id = "organization", str(a, "workspace_id")
			}
			if ctype == "workspace" {
				ctype = "organization"
			}
			switch ctype {
			case "organization", "project", "document":
			default:
				return fmt.Errorf("%w: context_tool set_context: context_type %q; accepted: workspace, organization, project, document (entity_type and parent contexts are not kept by atomcp: pass entity_type and ids to each call)", domain.ErrInvalid, ctype)
			}
			c.args = map[string]any{"operation": "set_context", "context_type": ctype, "entity_id": id}
		case "get_context", "get_workspace", "get_session_state", "":
			c.args = map[string]any{"operation": "get_context"}
		default:
			return fmt.Errorf("%w: context_tool operation %q; accepted: set_context, set_workspace, get_context, get_workspace, get_session_state (atomcp keeps no clearable session context: set another one instead)", domain.ErrInvalid, op)
		}
		c.tool = "workspace_tool"
		return nil
	},
}

// ContextArgs are the arguments of context_tool (the deployment's session
// context; atomcp keeps it as the workspace context). The normalisation
// also accepts set_workspace with workspace_id, get_workspace and
// get_session_state; they are not advertised.
type ContextArgs struct {
	Operation   string `json:"operation"`
	ContextType string `json:"context_type,omitempty"`
	ContextID   string `json:"context_id,omitempty"`
}

// relationshipCompat is relationship_tool's table.
var relationshipCompat = &compatTable{
	args: reflect.TypeFor[RelationshipArgs](),
	// source_context named the organization of a project membership,
	// which atomcp reads from the project; format_type and workspace_id
	// do not change a relationship result.
	ignored: []string{"source_context", "workspace_id"},
	rewrite: relationshipRewrite,
}

// oldLinkTypes maps the old trace-link enum to atomcp's; parent_of is
// child_of with the ends swapped (see relationshipRewrite).
var oldLinkTypes = map[string]string{"is_related_to": "relates_to", "child_of": "derives_from", "parent_of": "derives_from"}

// oldRoles maps the old organization roles to atomcp's.
var oldRoles = map[string]string{"super_admin": "owner"}

func relationshipRewrite(c *compatCall) error {
	a := c.args
	rt := str(a, "relationship_type")
	// metadata carried each link's attributes (relationship.py:33-81).
	if md, ok := a["metadata"].(map[string]any); ok {
		for _, k := range []string{"link_type", "role", "coverage_level"} {
			if v, set := md[k]; set && !has(a, "link_type") {
				a["link_type"] = v
			}
		}
		for _, k := range []string{"status", "description"} {
			if v, set := md[k]; set && !has(a, k) {
				a[k] = v
			}
		}
	}
	delete(a, "metadata")
	if f, ok := a["filters"].(map[string]any); ok {
		for k, v := range f {
			switch k {
			case "link_type", "role", "coverage_level":
				if !has(a, "link_type") {
					a["link_type"] = v
				}
			default:
				return fmt.Errorf("%w: relationship_tool filters.%s: a list filters by link_type (or role) only", domain.ErrInvalid, k)
			}
		}
	}
	delete(a, "filters")
	if lt := str(a, "link_type"); lt == "parent_of" && rt == "trace_link" {
		a["source"], a["target"] = a["target"], a["source"]
	}
	if rt == "trace_link" {
		mapValue(a, "link_type", oldLinkTypes)
	}
	if rt == atoms.RelMember || rt == atoms.RelInvitation {
		mapValue(a, "link_type", oldRoles)
	}
	// Ends: extra keys (name, context_project_id) were ignored; an email
	// end was typed "email" or "user" — atomcp needs no type there.
	for _, end := range []string{"source", "target"} {
		r, ok := a[end].(map[string]any)
		if !ok {
			continue
		}
		for k := range r {
			if k != "type" && k != "id" {
				delete(r, k)
			}
		}
		if t := str(r, "type"); t == "email" || (t == "user" && rt != string(domain.Assignment)) {
			delete(r, "type")
		}
	}
	// unlink always removes in atomcp; a soft unlink of a trace link kept a
	// hidden row that nothing read but a restore atomcp does not have.
	delete(a, "soft_delete")
	if v, ok := a["offset"]; ok {
		if n, isNum := coerceArg(reflect.TypeFor[int](), v).(float64); isNum && n > 0 {
			c.extras.offset = int(n)
		}
		delete(a, "offset")
	}
	return formatOnly(a)
}

// queryCompat is query_tool's table.
var queryCompat = &compatTable{
	args: reflect.TypeFor[QueryArgs](),
	renames: map[string]string{
		"entity_types": "entities", // the deployment (a991efd0) aliases
		"filters":      "conditions",
	},
	// projections were accepted and unused (query.py _aggregate_query);
	// the hybrid weights, boolean operator and exclude_terms of the
	// deployment are not atomcp's ranking (reciprocal rank fusion).
	ignored: []string{"projections", "keyword_weight", "semantic_weight", "aggregate_type", "operator", "exclude_terms", "workspace_id"},
	rewrite: queryRewrite,
}

// queryTypeModes are the deployment's query types that are rag_search in
// a mode.
var queryTypeModes = map[string]string{"semantic_search": "semantic", "keyword_search": "keyword", "hybrid_search": "hybrid"}

func queryRewrite(c *compatCall) error {
	a := c.args
	qt := str(a, "query_type")
	if mode, ok := queryTypeModes[qt]; ok {
		a["query_type"], qt = "rag_search", "rag_search"
		if !has(a, "rag_mode") {
			a["rag_mode"] = mode
		}
	}
	if terms, ok := a["search_terms"].([]any); ok && !has(a, "search_term") {
		words := make([]string, 0, len(terms))
		for _, t := range terms {
			if s, isStr := t.(string); isStr {
				words = append(words, s)
			}
		}
		a["search_term"] = strings.Join(words, " ")
	}
	delete(a, "search_terms")
	// content is the free text of similarity and of the deployment's
	// rag_search; atomcp's similarity compares with an existing entity,
	// so a text is a semantic rag_search.
	if content := str(a, "content"); content != "" {
		switch qt {
		case "similarity":
			if !has(a, "entity_id") {
				a["query_type"] = "rag_search"
				if !has(a, "rag_mode") {
					a["rag_mode"] = "semantic"
				}
				if t := str(a, "entity_type"); t != "" && !has(a, "entities") {
					a["entities"] = []any{t}
				}
				delete(a, "entity_type")
			}
		}
		if !has(a, "search_term") {
			a["search_term"] = content
		}
	}
	delete(a, "content")
	if s := str(a, "entity_type"); s != "" && !has(a, "entities") && qt != "relationships" && qt != "similarity" {
		a["entities"] = []any{s} // the target type of the old search and similarity
		delete(a, "entity_type")
	}
	if v, ok := a["similarity_threshold"]; ok {
		if f, isNum := coerceArg(reflect.TypeFor[float64](), v).(float64); isNum {
			c.extras.minScore = &f
		}
		delete(a, "similarity_threshold")
	}
	if id := str(a, "exclude_id"); id != "" {
		c.extras.excludeID = id
	}
	delete(a, "exclude_id")
	// conditions: the scope ids are query_tool's own arguments; the other
	// fields filter the results.
	if cond, ok := a["conditions"].(map[string]any); ok {
		rest := map[string]any{}
		for k, v := range cond {
			switch k {
			case "organization_id", "project_id", "document_id":
				if s, isStr := v.(string); isStr && !has(a, k) {
					a[k] = s
					continue
				}
			case "is_deleted":
				if v == false {
					continue
				}
			}
			rest[k] = v
		}
		if len(rest) > 0 {
			c.extras.conditions = rest
		}
	}
	delete(a, "conditions")
	if f, ok := a["format_type"]; ok && f == atoms.FormatRaw {
		a["format_type"] = atoms.FormatDetailed
	}
	clampLimit(a, atoms.MaxPageSize)
	return nil
}

// workflowCompat is workflow_tool's table.
var workflowCompat = &compatTable{
	args:    reflect.TypeFor[WorkflowArgs](),
	ignored: []string{"workspace_id"},
	rewrite: func(c *compatCall) error {
		if err := workflowParams(c.args); err != nil {
			return err
		}
		return formatOnly(c.args)
	},
}

// workflowAliases are the deployment's workflow names (workflow_execute).
var workflowAliases = map[string]string{
	"setup_new_project":             "setup_project",
	"bulk_update_status":            "bulk_status_update",
	"create_organization_structure": "organization_onboarding",
}

// workflowParamRenames are the old parameter names inside parameters, per
// workflow.
var workflowParamRenames = map[string]map[string]string{
	"setup_project":      {"project_name": "name"},
	"bulk_status_update": {"new_status": "status", "entities": "entity_ids"},
	"organization_onboarding": {
		"organization_name": "name",
	},
}

// workflowParamsIgnored are old parameters with no atomcp effect, per
// workflow: add_creator_as_admin (the creator is always the project's
// lead), matrix_name (atomcp has no matrix view entity; the matrix is the
// resource atoms://projects/{id}/traceability-matrix), slug (generated
// from the name).
var workflowParamsIgnored = map[string][]string{
	"setup_project":           {"add_creator_as_admin"},
	"setup_test_matrix":       {"matrix_name"},
	"organization_onboarding": {"slug"},
}

func workflowParams(a map[string]any) error {
	mapValue(a, "workflow", workflowAliases)
	w := str(a, "workflow")
	p, _ := a["parameters"].(map[string]any)
	if p == nil {
		return nil
	}
	for old, repl := range workflowParamRenames[w] {
		if v, ok := p[old]; ok {
			delete(p, old)
			if _, set := p[repl]; !set {
				p[repl] = v
			}
		}
	}
	for _, k := range workflowParamsIgnored[w] {
		delete(p, k)
	}
	dropNulls(p)
	// create_starter_project (default true in PY-5) made a "Getting
	// Started" project; atomcp makes one only when asked, with project.
	if v, ok := p["create_starter_project"]; ok {
		if v == true && !has(p, "project") {
			p["project"] = "Getting Started"
		}
		delete(p, "create_starter_project")
	}
	return nil
}

// workflowExecuteCompat is the deployment's workflow_execute: workflow_tool
// with workflow_name for workflow.
var workflowExecuteCompat = &compatTable{
	args:    reflect.TypeFor[WorkflowExecuteArgs](),
	renames: map[string]string{"workflow_name": "workflow"},
	rewrite: func(c *compatCall) error {
		c.tool = "workflow_tool"
		return nil
	},
}

// WorkflowExecuteArgs are the arguments of workflow_execute.
type WorkflowExecuteArgs struct {
	WorkflowName    string         `json:"workflow_name"`
	Parameters      map[string]any `json:"parameters,omitempty"`
	TransactionMode *bool          `json:"transaction_mode,omitempty"`
}

// healthCompat is health_check's table: no arguments (format_type was
// accepted).
var healthCompat = &compatTable{
	args: reflect.TypeFor[struct{}](),
	rewrite: func(c *compatCall) error {
		return formatOnly(c.args)
	},
}
