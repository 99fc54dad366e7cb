package tools

import (
	"context"
	"fmt"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

const gettingStarted = `You are working in Atoms, a requirements-management workspace, through its MCP tools.

1. Orient yourself: workspace_tool {"operation": "list_workspaces"}, then set a current project with
   workspace_tool {"operation": "set_context", "context_type": "project", "entity_id": "<name or id>"}.
   Afterwards "auto" stands for the current organization, project or document in any *_id argument.
2. Learn the fields: workspace_tool {"operation": "get_defaults"} lists every entity type's fields, defaults and accepted values.
3. Create and change data with entity_tool: create, read, update, delete (soft; restore undoes it), list, search, batch_create (all or nothing).
   Ids may be given as names; when a name is ambiguous you get the candidates — ask the user which one they mean.
4. Connect things with relationship_tool: requirement_test links (coverage full/partial/none) show which tests verify a requirement;
   trace_link links (derives_from, refines, satisfies, verifies, relates_to …) show how requirements depend on each other.
5. Ask questions with query_tool: search (ranked, with highlights), aggregate (counts by status/priority/type),
   analyze (coverage: requirements without tests, tests without requirements, orphan links), relationships (the graph around an entity).
6. Multi-step jobs (set up a project, import requirements from CSV or Markdown, create a test per untested requirement) are workflow_tool workflows
   that run all-or-nothing.

Before changing many entities, say what you are about to do. Report ids back to the user with names.`

func registerPrompts(s *mcp.Server) {
	s.AddPrompt(&mcp.Prompt{
		Name:        "atoms_getting_started",
		Title:       "How to use the Atoms tools",
		Description: "A guide to the Atoms tools: workspace context, entities, relationships, queries and workflows.",
	}, func(ctx context.Context, req *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
		return &mcp.GetPromptResult{
			Description: "How to use the Atoms tools",
			Messages:    []*mcp.PromptMessage{{Role: "user", Content: &mcp.TextContent{Text: gettingStarted}}},
		}, nil
	})
	s.AddPrompt(&mcp.Prompt{
		Name:        "atoms_traceability_review",
		Title:       "Review a project's traceability",
		Description: "Find requirements without tests, tests without requirements and broken trace links in a project, and propose fixes.",
		Arguments:   []*mcp.PromptArgument{{Name: "project", Description: "the project's name or id", Required: true}},
	}, func(ctx context.Context, req *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
		project := req.Params.Arguments["project"]
		if project == "" {
			return nil, fmt.Errorf("the argument project is required: the project's name or id")
		}
		text := fmt.Sprintf(`Review the traceability of the Atoms project %q.
1. Run query_tool {"query_type": "analyze", "project_id": %q}.
2. For each requirement without tests, propose a concrete test (title and what it checks); for each test without requirements, say which requirement it most likely verifies (use query_tool search).
3. List orphan trace links and suggest whether to remove or re-point them.
4. Ask before creating anything; then use workflow_tool setup_test_matrix or entity_tool and relationship_tool to apply what the user accepts.`, project, project)
		return &mcp.GetPromptResult{
			Description: "Traceability review of " + project,
			Messages:    []*mcp.PromptMessage{{Role: "user", Content: &mcp.TextContent{Text: text}}},
		}, nil
	})
}
