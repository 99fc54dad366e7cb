package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/atomcp/atomcp/internal/atoms"
	"github.com/atomcp/atomcp/internal/atoms/semantic"
	"github.com/atomcp/atomcp/internal/auth"
	"github.com/atomcp/atomcp/internal/domain"
)

// The tools of the Python server's November-2025 deployment that atomcp
// serves for its clients: context_tool and workflow_execute are
// workspace_tool and workflow_tool under their old names and parameters
// (the normalisation renames the call, see compat_others.go), and
// health_check answers as the old one did. Their schemas are small: a
// model should use the atomcp tools, and tools/list is read on every
// connection.

var (
	// contextOps all read, as workspace_tool's do.
	contextOps = every([]string{"set_context", "get_context"}, auth.Read)
	// workflowExecuteOps are the workflows under the names workflow_execute
	// used; workflow_tool's names are accepted too (not advertised).
	workflowExecuteOps = every([]string{"setup_new_project", "bulk_update_status", "create_organization_structure"}, auth.Write)
	// healthOps: health_check has no arguments, and reads.
	healthOps = ops{{"", auth.Read}}
)

func registerCompatTools(s *mcp.Server, d Deps) {
	addTool(s, d, &mcp.Tool{
		Name:        "context_tool",
		Description: "Old name of workspace_tool (context_id is entity_id).",
		InputSchema: inputSchema[ContextArgs](map[string][]string{"operation": contextOps.names()}),
		Annotations: &mcp.ToolAnnotations{IdempotentHint: true, OpenWorldHint: ptr(false)},
	}, func(ctx context.Context, req *mcp.CallToolRequest, args ContextArgs) (*mcp.CallToolResult, any, error) {
		// Reached only when the normalisation did not run (it renames the
		// call to workspace_tool); do what it does.
		var w WorkspaceArgs
		if err := renormalise("context_tool", args, &w); err != nil {
			return d.toolError(ctx, "context_tool", err)
		}
		out, err := d.workspace(ctx, req, w)
		if err != nil {
			return d.toolError(ctx, "context_tool", err)
		}
		return nil, out, nil
	})
	addTool(s, d, &mcp.Tool{
		Name:        "workflow_execute",
		Description: "Old name of workflow_tool.",
		InputSchema: inputSchema[WorkflowExecuteArgs](map[string][]string{"workflow_name": workflowExecuteOps.names()}),
		Annotations: &mcp.ToolAnnotations{DestructiveHint: ptr(true), OpenWorldHint: ptr(false)},
	}, func(ctx context.Context, req *mcp.CallToolRequest, args WorkflowExecuteArgs) (*mcp.CallToolResult, any, error) {
		var w WorkflowArgs
		if err := renormalise("workflow_execute", args, &w); err != nil {
			return d.toolError(ctx, "workflow_execute", err)
		}
		return d.workflow(ctx, req, w)
	})
	addTool(s, d, &mcp.Tool{
		Name:        "health_check",
		Description: "Whether the server and its database answer.",
		InputSchema: &jsonschema.Schema{Type: "object"},
		Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true, OpenWorldHint: ptr(false)},
	}, func(ctx context.Context, req *mcp.CallToolRequest, _ map[string]any) (*mcp.CallToolResult, any, error) {
		return nil, d.health(ctx), nil
	})
}

// renormalise runs the normalisation of tool on args (already validated
// by the old tool's schema) into the arguments of the tool it becomes.
func renormalise(tool string, args, into any) error {
	raw, err := json.Marshal(args)
	if err != nil {
		return fmt.Errorf("arguments: %w", err)
	}
	c, err := normaliseCall(tool, raw)
	if err != nil {
		return err
	}
	b, err := json.Marshal(c.args)
	if err != nil {
		return fmt.Errorf("arguments: %w", err)
	}
	return json.Unmarshal(b, into)
}

// health is health_check's answer, in the old shape: success, status and
// the components (the database is the only one atomcp depends on).
func (d Deps) health(ctx context.Context) map[string]any {
	start := time.Now()
	db := map[string]any{"status": "healthy"}
	status := "healthy"
	if err := d.Service.Store().Ping(ctx); err != nil {
		status = "unhealthy"
		db = map[string]any{"status": "unhealthy", "error": "the database does not answer"}
		d.Logger.WarnContext(ctx, "health_check: database ping failed", "err", err)
	}
	db["response_time_ms"] = time.Since(start).Milliseconds()
	return map[string]any{
		"success":    status == "healthy",
		"status":     status,
		"timestamp":  time.Now().UTC().Format(time.RFC3339),
		"components": map[string]any{"database": db},
	}
}

// withRelations adds what the old include_relations added to a read or
// updated entity (entity.py:581-636): an organization's member_count and
// recent_projects, a project's document_count and members, a document's
// requirement_count and blocks.
func (d Deps) withRelations(ctx context.Context, a *atoms.Actor, t domain.EntityType, e map[string]any) error {
	id, _ := e["id"].(string)
	count := func(child domain.EntityType, parent string) (int, error) {
		page, err := d.Service.ListEntities(ctx, a, child, atoms.ListParams{Filters: map[string]any{parent: id}, Limit: 1})
		return page.Total, err
	}
	names := func(child domain.EntityType, parent string, limit int) ([]map[string]any, error) {
		page, err := d.Service.ListEntities(ctx, a, child, atoms.ListParams{Filters: map[string]any{parent: id}, Limit: limit, Desc: true})
		if err != nil {
			return nil, err
		}
		out := make([]map[string]any, len(page.Items))
		for i, x := range page.Items {
			out[i] = atoms.Format(x, atoms.FormatSummary)
		}
		return out, nil
	}
	switch t {
	case domain.Organization:
		ms, err := d.Service.ListMembers(ctx, a, atoms.EntityRef{Type: domain.Organization, ID: id})
		if err != nil {
			return err
		}
		recent, err := names(domain.Project, "organization_id", 5)
		if err != nil {
			return err
		}
		e["member_count"], e["members"], e["recent_projects"] = len(ms), ms, recent
	case domain.Project:
		n, err := count(domain.Document, "project_id")
		if err != nil {
			return err
		}
		ms, err := d.Service.ListProjectMembers(ctx, a, atoms.EntityRef{Type: domain.Project, ID: id})
		if err != nil {
			return err
		}
		e["document_count"], e["members"], e["member_count"] = n, ms, len(ms)
	case domain.Document:
		n, err := count(domain.Requirement, "document_id")
		if err != nil {
			return err
		}
		blocks, err := names(domain.Block, "document_id", 50)
		if err != nil {
			return err
		}
		e["requirement_count"], e["blocks"] = n, blocks
	}
	return nil
}

// compatQuery applies the old query options that have no atomcp argument
// to a query_tool result: exclude_id, similarity_threshold and the
// conditions on fields other than the scope.
func (d Deps) compatQuery(ctx context.Context, a *atoms.Actor, out map[string]any) error {
	x := compatOf(ctx)
	if x.excludeID == "" && x.minScore == nil && len(x.conditions) == 0 {
		return nil
	}
	keep := func(t domain.EntityType, id string, score *float64) (bool, error) {
		if id == x.excludeID || (x.minScore != nil && score != nil && *score < *x.minScore) {
			return false, nil
		}
		if len(x.conditions) == 0 {
			return true, nil
		}
		e, err := d.Service.GetEntity(ctx, a, t, id, false)
		if err != nil {
			return false, err
		}
		f := atoms.Format(e, atoms.FormatRaw)
		for k, want := range x.conditions {
			if fmt.Sprint(f[k]) != fmt.Sprint(want) {
				return false, nil
			}
		}
		return true, nil
	}
	if results, ok := out["results"].([]map[string]any); ok {
		kept := results[:0]
		for _, r := range results {
			t, _ := r["entity_type"].(string)
			id, _ := r["id"].(string)
			// A search score is a rank, not a similarity: the threshold
			// applies to semantic results only.
			ok, err := keep(domain.EntityType(t), id, nil)
			if err != nil {
				return err
			}
			if ok {
				kept = append(kept, r)
			}
		}
		out["results"], out["total"], out["has_more"] = kept, len(kept), false
	}
	if res, ok := out["rag"].(*semantic.Result); ok && res != nil {
		var ferr error
		semanticScores := res.Mode == "semantic" // hybrid and keyword scores are ranks
		res.Filter(func(t domain.EntityType, id string, score float64) bool {
			var sc *float64
			if semanticScores {
				sc = &score
			}
			ok, err := keep(t, id, sc)
			if err != nil {
				ferr = err
			}
			return ok
		})
		return ferr
	}
	return nil
}
