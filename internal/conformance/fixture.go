package conformance

import (
	"log/slog"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/atomcp/atomcp/internal/atoms"
	"github.com/atomcp/atomcp/internal/httpserver"
	"github.com/atomcp/atomcp/internal/mcpserver"
)

// Register adds every fixture tool, resource and prompt to s. c receives
// the fixture's completers; states seals the requestState of the
// multi-round tools.
func Register(s *mcp.Server, c *mcpserver.Completions, states *mcpserver.RequestStates) {
	registerContentTools(s)
	registerNotifyingTools(s)
	registerDiagnosticTools(s)
	registerMultiRoundTools(s, states)
	registerResources(s, c)
	registerPrompts(s, c)
}

// Fixture is the server the conformance suite tests: the Atoms MCP server
// as mcpserver.New builds it for `atomcp serve` (Atoms tools included, the
// local user behind every call), with the fixtures added, behind the same
// HTTP front.
type Fixture struct {
	MCP  *mcp.Server
	HTTP *httpserver.Server
}

// New builds the fixture. front are the HTTP options `atomcp serve` would
// use; svc serves the Atoms tools.
func New(svc *atoms.Service, version string, logger *slog.Logger, front httpserver.Options) *Fixture {
	completions := mcpserver.NewCompletions()
	server := mcpserver.New(svc, mcpserver.Options{
		Version:     version,
		Logger:      logger,
		Caller:      mcpserver.LocalIdentity,
		Completions: completions,
	})
	Register(server, completions, mcpserver.NewRequestStates(nil))
	front.Logger = logger
	return &Fixture{MCP: server, HTTP: httpserver.New(server, front)}
}
