// Package mcpserver builds the atomcp MCP server: its identity, its
// instructions, the Atoms tools wired to the service layer, and the
// protocol capabilities tools, prompts and resources can use (logging,
// progress, completions, resource subscriptions, caching hints).
package mcpserver

//lint:file-ignore SA1019 logging is deprecated in 2026-07-28 but 2025-11-25 clients still use it (notifications/message, logging/setLevel).

import (
	"context"
	"log/slog"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/atomcp/atomcp/internal/atoms"
	"github.com/atomcp/atomcp/internal/atoms/tools"
	"github.com/atomcp/atomcp/internal/fastcall"
	"github.com/atomcp/atomcp/internal/tasks"
)

// Options configures the MCP server.
type Options struct {
	Version string
	Logger  *slog.Logger
	// Caller decides who is behind a tool call: LocalIdentity (the one
	// local user of stdio and ATOMCP_AUTH=none, the default) or
	// TokenIdentity.
	Caller tools.Identify
	// Completions answers completion/complete for prompt and resource
	// template arguments. New adds the Atoms completers (project names) to
	// it; nil means a set of its own.
	Completions *Completions
	// Tasks, when set, serves the tasks extension: the server advertises
	// it, answers tasks/get, tasks/update and tasks/cancel, and runs the
	// calls that rt's policies (and the Atoms tools' declarations) allow
	// as tasks. Build it with TaskOwner(Caller) as its Owner.
	Tasks *tasks.Runtime
	// RequestTimeout is the deadline of each tool call (deadline.go); 0
	// means none.
	RequestTimeout time.Duration
}

const instructions = `Atoms is a requirements-management workspace: organizations contain projects; projects contain documents and tests; documents contain blocks and requirements.
Start with workspace_tool (operation list_workspaces, then set_context) so that "auto" can stand for the current organization, project or document.
Use entity_tool to create, read, update, delete, restore, list and search entities; entity ids may be given as names.
workspace_tool get_defaults lists every field, default and accepted value.`

// New returns the MCP server with every Atoms tool registered.
//
// What handlers on this server can rely on:
//   - logging: req.Session.Log sends a notifications/message, which reaches
//     the client only at or above the level it set (logging/setLevel, or
//     the per-request log level of the 2026-07-28 protocol); nothing is
//     sent before a client asks for it;
//   - progress: req.Session.NotifyProgress with the request's progress
//     token (req.Params.GetProgressToken()), when the client sent one;
//   - resource subscriptions: resources/subscribe is accepted for any URI
//     and Server.ResourceUpdated notifies the subscribers (advertised once
//     the server has resources);
//   - completions: project arguments of the Atoms prompts and resource
//     template complete to the caller's project names; more completers can
//     be added to Options.Completions;
//   - caching hints (2026-07-28): list results are public, resource
//     contents private, since what a user may read depends on who they are.
func New(svc *atoms.Service, opts Options) *mcp.Server {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Caller == nil {
		opts.Caller = LocalIdentity
	}
	if opts.Version == "" {
		opts.Version = "dev"
	}
	so := &mcp.ServerOptions{
		Instructions: instructions,
		Logger:       opts.Logger,
		// Tools, prompts and resources are added to these as they are
		// registered; logging is always on offer.
		Capabilities:       &mcp.ServerCapabilities{Logging: &mcp.LoggingCapabilities{}},
		SubscribeHandler:   acceptSubscription,
		UnsubscribeHandler: acceptUnsubscription,
		SetCacheable:       cacheHints,
	}
	if opts.Completions == nil {
		opts.Completions = NewCompletions()
	}
	registerAtomsCompletions(opts.Completions, svc, opts.Caller)
	so.CompletionHandler = opts.Completions.handle
	if opts.Tasks != nil {
		tasks.Advertise(so.Capabilities)
	}
	s := mcp.NewServer(&mcp.Implementation{Name: "atomcp", Title: "Atoms MCP server", Version: opts.Version}, so)
	tools.Register(s, tools.Deps{Service: svc, Caller: opts.Caller, Logger: opts.Logger, RequestTimeout: opts.RequestTimeout})
	if opts.Tasks != nil {
		if err := opts.Tasks.Install(s); err != nil {
			panic(err) // only a name clash with a core method: a programming error
		}
		tools.DeclareTasks(opts.Tasks)
	}
	// Added last, so it runs first: the deadline covers the whole call.
	fastcall.Use(s, requestDeadline(opts.RequestTimeout))
	return s
}

// The SDK records subscriptions itself and Server.ResourceUpdated notifies
// the subscribed sessions; the handlers only have to say yes.
func acceptSubscription(context.Context, *mcp.SubscribeRequest) error     { return nil }
func acceptUnsubscription(context.Context, *mcp.UnsubscribeRequest) error { return nil }

// cacheHints sets the cacheScope of cacheable results a handler left
// unset. Lists of tools, prompts and templates are the same for every user
// (public, the protocol's default); resource lists and contents may depend
// on the user's memberships (private). ttlMs stays what the handler chose
// (0 by default: stale at once), since lists change at run time and
// announce it with list_changed.
func cacheHints(_ context.Context, req mcp.Request, c *mcp.Cacheable) {
	if c.CacheScope != "" {
		return
	}
	switch req.(type) {
	case *mcp.ReadResourceRequest, *mcp.ListResourcesRequest:
		c.CacheScope = "private"
	default:
		c.CacheScope = "public"
	}
}
