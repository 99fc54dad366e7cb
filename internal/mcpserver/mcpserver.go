// Package mcpserver builds the atomcp MCP server: its identity, its
// instructions and the Atoms tools, wired to the service layer.
package mcpserver

import (
	"context"
	"log/slog"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/atomcp/atomcp/internal/atoms"
	"github.com/atomcp/atomcp/internal/atoms/tools"
)

// Options configures the MCP server.
type Options struct {
	Version string
	Logger  *slog.Logger
	// Caller decides who is behind a tool call. LocalCaller serves the one
	// local user (stdio, ATOMCP_AUTH=none).
	Caller func(ctx context.Context, req *mcp.CallToolRequest) (atoms.Caller, error)
}

// LocalCaller treats every call as the local user.
func LocalCaller(context.Context, *mcp.CallToolRequest) (atoms.Caller, error) {
	return atoms.LocalCaller, nil
}

const instructions = `Atoms is a requirements-management workspace: organizations contain projects; projects contain documents and tests; documents contain blocks and requirements.
Start with workspace_tool (operation list_workspaces, then set_context) so that "auto" can stand for the current organization, project or document.
Use entity_tool to create, read, update, delete, restore, list and search entities; entity ids may be given as names.
workspace_tool get_defaults lists every field, default and accepted value.`

// New returns the MCP server with every Atoms tool registered.
func New(svc *atoms.Service, opts Options) *mcp.Server {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Caller == nil {
		opts.Caller = LocalCaller
	}
	if opts.Version == "" {
		opts.Version = "dev"
	}
	s := mcp.NewServer(&mcp.Implementation{Name: "atomcp", Title: "Atoms MCP server", Version: opts.Version}, &mcp.ServerOptions{
		Instructions: instructions,
		Logger:       opts.Logger,
		// Tools only for now: advertising logging we do not emit would mislead.
		Capabilities: &mcp.ServerCapabilities{},
	})
	tools.Register(s, tools.Deps{Service: svc, Caller: opts.Caller, Logger: opts.Logger})
	return s
}
