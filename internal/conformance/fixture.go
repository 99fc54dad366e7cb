package conformance

import (
	"context"
	"log/slog"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/atomcp/atomcp/internal/atoms"
	"github.com/atomcp/atomcp/internal/httpserver"
	"github.com/atomcp/atomcp/internal/mcpserver"
	"github.com/atomcp/atomcp/internal/tasks"
)

// Register adds every fixture tool, resource and prompt to s. c receives
// the fixture's completers; states seals the requestState of the
// multi-round tools; rt runs the task tools' tasks.
func Register(s *mcp.Server, c *mcpserver.Completions, states *mcpserver.RequestStates, rt *tasks.Runtime) {
	registerContentTools(s)
	registerNotifyingTools(s)
	registerDiagnosticTools(s)
	registerMultiRoundTools(s, states)
	registerTaskTools(s, rt, states)
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
	// Tasks runs the tasks; the caller Starts it and Closes it.
	Tasks *tasks.Runtime
}

// New builds the fixture. front are the HTTP options `atomcp serve` would
// use; svc serves the Atoms tools; ts keeps the tasks (nil: in memory).
func New(svc *atoms.Service, version string, logger *slog.Logger, front httpserver.Options, ts tasks.Store) *Fixture {
	if ts == nil {
		ts = tasks.NewMemoryStore()
	}
	rt := tasks.New(tasks.Options{Store: ts, Owner: mcpserver.TaskOwner(mcpserver.LocalIdentity), Logger: logger})
	completions := mcpserver.NewCompletions()
	// A database-backed task store shares the requestState key with every
	// server on that database; otherwise the key is this process's own.
	states := mcpserver.NewRequestStates(nil)
	if ss, ok := ts.(mcpserver.SecretStore); ok {
		shared, err := mcpserver.LoadRequestStates(context.Background(), ss)
		if err == nil {
			states = shared
		} else if logger != nil {
			logger.Warn("requestState key not shared; using this process's own", "err", err)
		}
	}
	server := mcpserver.New(svc, mcpserver.Options{
		Version:     version,
		Logger:      logger,
		Caller:      mcpserver.LocalIdentity,
		Completions: completions,
		Tasks:       rt,
	})
	Register(server, completions, states, rt)
	front.Logger = logger
	return &Fixture{MCP: server, HTTP: httpserver.New(server, front), Tasks: rt}
}
