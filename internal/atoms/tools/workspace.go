package tools

import (
	"context"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/atomcp/atomcp/internal/auth"
	"github.com/atomcp/atomcp/internal/domain"
)

// WorkspaceArgs are the arguments of workspace_tool.
type WorkspaceArgs struct {
	Operation   string `json:"operation" jsonschema:"get_context: the current organization, project and document; set_context: make one current; list_workspaces: your organizations and their projects; get_defaults: the context plus every entity type's fields, defaults and accepted values"`
	ContextType string `json:"context_type,omitempty" jsonschema:"for set_context: which level to set"`
	EntityID    string `json:"entity_id,omitempty" jsonschema:"for set_context: the id or name of the organization, project or document"`
}

// workspaceOps are workspace_tool's operations. They all read: set_context
// writes only the caller's own workspace context, which is no change to
// shared data, so a read-only token may set it.
var workspaceOps = ops{
	{"get_context", auth.Read}, {"set_context", auth.Read}, {"list_workspaces", auth.Read}, {"get_defaults", auth.Read},
}

var workspaceOperations = workspaceOps.names()

func registerWorkspaceTool(s *mcp.Server, d Deps) {
	addTool(s, &mcp.Tool{
		Name:  "workspace_tool",
		Title: "Workspace context",
		Description: "Manage your workspace context: the current organization, project and document. " +
			"Other tools accept \"auto\" for organization_id, project_id or document_id to mean the current one. " +
			"The context is stored per user and survives restarts.",
		InputSchema: inputSchema[WorkspaceArgs](map[string][]string{
			"operation":    workspaceOperations,
			"context_type": {"organization", "project", "document"},
		}),
		Annotations: &mcp.ToolAnnotations{IdempotentHint: true, OpenWorldHint: ptr(false)},
	}, func(ctx context.Context, req *mcp.CallToolRequest, args WorkspaceArgs) (*mcp.CallToolResult, any, error) {
		out, err := d.workspace(ctx, req, args)
		if err != nil {
			return d.toolError(ctx, "workspace_tool", err)
		}
		return nil, out, nil
	})
}

func (d Deps) workspace(ctx context.Context, req *mcp.CallToolRequest, args WorkspaceArgs) (any, error) {
	if err := checkOneOf("operation", args.Operation, workspaceOperations); err != nil {
		return nil, err
	}
	a, err := d.actor(ctx, req)
	if err != nil {
		return nil, err
	}
	switch args.Operation {
	case "get_context":
		return d.Service.GetContext(ctx, a)
	case "set_context":
		if args.ContextType == "" || args.EntityID == "" {
			return nil, errInvalid("set_context needs context_type (organization, project or document) and entity_id (an id or a name)")
		}
		return d.Service.SetContext(ctx, a, domain.EntityType(args.ContextType), args.EntityID)
	case "list_workspaces":
		ws, err := d.Service.ListWorkspaces(ctx, a)
		if err != nil {
			return nil, err
		}
		return map[string]any{"organizations": ws}, nil
	case "get_defaults":
		return d.Service.GetDefaults(ctx, a)
	}
	return nil, unknownOperation(args.Operation, workspaceOperations)
}

func ptr[T any](v T) *T { return &v }
