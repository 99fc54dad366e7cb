// Package tools exposes the Atoms service as MCP tools: one file per tool,
// each turning validated arguments into service calls and service errors
// into tool errors a model can act on.
package tools

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/atomcp/atomcp/internal/atoms"
	"github.com/atomcp/atomcp/internal/auth"
	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/fastcall"
	"github.com/atomcp/atomcp/internal/tasks"
)

// Identify returns the verified identity behind a tool call (or a
// resource read or completion, made into a CallToolRequest).
type Identify func(ctx context.Context, req *mcp.CallToolRequest) (atoms.Caller, error)

// Deps is what the tools need from the server that hosts them.
type Deps struct {
	Service *atoms.Service
	// Caller identifies whoever is behind a tool call.
	Caller Identify
	Logger *slog.Logger
	// RequestTimeout is the tool calls' deadline, named in the error of a
	// call that reaches it.
	RequestTimeout time.Duration

	lengths *argLengths // the tools' length limits, set by Register
}

// Register adds every Atoms tool, prompt and resource to the server.
func Register(s *mcp.Server, d Deps) {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	d.lengths = &argLengths{schemas: map[string]*jsonschema.Schema{}}
	registerWorkspaceTool(s, d)
	registerEntityTool(s, d)
	registerRelationshipTool(s, d)
	registerQueryTool(s, d)
	registerWorkflowTool(s, d)
	registerCompatTools(s, d)
	registerPrompts(s)
	registerResources(s, d)
	fastcall.Use(s, d.lengths.middleware)
	// Added last, so it runs first (go-sdk wraps the handler in each
	// middleware as it is added): the length limits see the call as the
	// tool will run it, and every result gets the old envelope.
	fastcall.Use(s, compatMiddleware)
	// Reads may take internal/httpserver's fast path; writes notify
	// subscribers and log, and go through go-sdk's transport.
	fastcall.SetEligible(s, func(tool string, arguments []byte) bool {
		return CallAccess(tool, arguments) == auth.Read
	})
}

// actor resolves the caller of a tool call to a user with memberships.
func (d Deps) actor(ctx context.Context, req *mcp.CallToolRequest) (*atoms.Actor, error) {
	c, err := d.Caller(ctx, req)
	if err != nil {
		return nil, err
	}
	return d.Service.Actor(ctx, c)
}

// toolError turns a service error into the tool result a model sees. Errors
// the caller can fix keep their message; anything else is logged with a
// reference and reported without internals. The text is the old Atoms
// server's JSON failure ({"success": false, "error", "error_type"}),
// which its clients parse; isError stays true, as MCP wants.
func (d Deps) toolError(ctx context.Context, tool string, err error) (*mcp.CallToolResult, any, error) {
	var amb *atoms.AmbiguousError
	var nomatch *atoms.NoMatchError
	switch {
	case errors.As(err, &amb):
		out := failure(err.Error(), errorValidation)
		out["error"], out["message"], out["candidates"], out["suggestions"] = "ambiguous", err.Error(), amb.Candidates, amb.Candidates
		return failureWith(out), out, nil
	case errors.As(err, &nomatch) && len(nomatch.Suggestions) > 0:
		out := failure(err.Error(), errorNotFound)
		out["suggestions"] = nomatch.Suggestions
		out["hint"] = "did you mean one of the suggestions? pass its id or exact name"
		return failureWith(out), nil, nil
	case errors.Is(err, domain.ErrInvalid), errors.Is(err, domain.ErrConflict):
		return failureResult(err.Error(), errorValidation), nil, nil
	case errors.Is(err, domain.ErrNotFound):
		return failureResult(err.Error(), errorNotFound), nil, nil
	case errors.Is(err, domain.ErrForbidden):
		return failureResult(err.Error(), errorPermission), nil, nil
	case errors.Is(err, domain.ErrUnavailable) && ctx.Err() == nil:
		ref := newRef()
		d.Logger.WarnContext(ctx, "tool failed: database unavailable", "tool", tool, "ref", ref, "err", err)
		out := failure(unavailableMessage(ref), errorServer)
		out["retryable"] = true
		return failureWith(out), nil, nil
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return failureResult(fmt.Sprintf("the call took longer than the server allows (ATOMCP_REQUEST_TIMEOUT, %v) and was stopped; "+
			"nothing after that point was done: narrow it (a smaller scope, page or import) and try again", d.RequestTimeout), errorServer), nil, nil
	}
	if ctx.Err() != nil {
		return failureResult("the request was cancelled before it finished; nothing after that point was done", errorServer), nil, nil
	}
	ref := newRef()
	d.Logger.ErrorContext(ctx, "tool failed", "tool", tool, "ref", ref, "err", err)
	return failureResult(fmt.Sprintf("internal error (reference %s): the operation was not completed; the server log has the details", ref), errorServer), nil, nil
}

// unavailableMessage is what a caller is told when the database could not
// be reached or did not answer: that it may retry, and that a write may
// have been done all the same (the answer was lost, not necessarily the
// commit), so a retried create may find its record already there.
func unavailableMessage(ref string) string {
	return fmt.Sprintf("the database is unavailable (reference %s): retry in a few seconds. "+
		"The operation was not completed, or it was and its confirmation was lost: read before retrying a create", ref)
}

func newRef() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// inputSchema infers the schema of T and then sets enums and descriptions
// that Go types cannot express.
func inputSchema[T any](enums map[string][]string) *jsonschema.Schema {
	s, err := jsonschema.For[T](nil)
	if err != nil {
		panic(fmt.Sprintf("schema of %T: %v", *new(T), err)) // a programming error, caught by every test
	}
	for name, values := range enums {
		p, ok := s.Properties[name]
		if !ok {
			panic(fmt.Sprintf("schema of %T has no property %q", *new(T), name))
		}
		p.Enum = make([]any, len(values))
		for i, v := range values {
			p.Enum[i] = v
		}
	}
	return s
}

// withProgress makes the service's progress reports into MCP progress
// notifications when the client asked for them (a progressToken), at most
// about twenty per operation plus the last one.
//
// In a task there is no stream to notify on (the request that started it
// has been answered): progress becomes the task's status message, which
// tasks/get shows.
func withProgress(ctx context.Context, req *mcp.CallToolRequest, message string) context.Context {
	if tasks.InTask(ctx) {
		return atoms.WithProgress(ctx, func(done, total int) {
			tasks.Report(ctx, fmt.Sprintf("%s: %d of %d", message, done, total))
		})
	}
	token := req.Params.GetProgressToken()
	if token == nil || req.Session == nil {
		return ctx
	}
	return atoms.WithProgress(ctx, func(done, total int) {
		step := max(1, total/20)
		if done%step != 0 && done != total {
			return
		}
		// A client that went away must not fail the operation.
		_ = req.Session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{
			ProgressToken: token, Progress: float64(done), Total: float64(total),
			Message: fmt.Sprintf("%s: %d of %d", message, done, total),
		})
	})
}

// unknownOperation is the error for an operation outside the tool's enum
// (only reachable when schema validation is bypassed, e.g. by an empty value).
func unknownOperation(op string, accepted []string) error {
	return fmt.Errorf("%w: operation %q; accepted: %v", domain.ErrInvalid, op, accepted)
}

func checkOneOf(arg, value string, accepted []string) error {
	if slices.Contains(accepted, value) {
		return nil
	}
	return fmt.Errorf("%w: %s %q; accepted: %v", domain.ErrInvalid, arg, value, accepted)
}
