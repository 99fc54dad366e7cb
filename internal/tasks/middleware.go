package tasks

import (
	"context"
	"fmt"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// middleware turns a task-augmented tools/call into a task, and gates the
// tasks/* methods: the routing header first, then the capability, then
// the caller's identity, which the handlers key every lookup by.
func (rt *Runtime) middleware(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		switch method {
		case "tools/call":
			if call, ok := req.(*mcp.CallToolRequest); ok && call.Params != nil {
				return rt.toolsCall(ctx, next, call)
			}
		case MethodGet, MethodCancel:
			id := ""
			if r, ok := req.(*mcp.ServerRequest[*TaskParams]); ok && r.Params != nil {
				id = r.Params.TaskID
			}
			return rt.gated(ctx, next, method, req, id)
		case MethodUpdate:
			id := ""
			if r, ok := req.(*mcp.ServerRequest[*UpdateParams]); ok && r.Params != nil {
				id = r.Params.TaskID
			}
			return rt.gated(ctx, next, method, req, id)
		}
		return next(ctx, method, req)
	}
}

func (rt *Runtime) gated(ctx context.Context, next mcp.MethodHandler, method string, req mcp.Request, id string) (mcp.Result, error) {
	if err := checkNameHeader(req, id); err != nil {
		return nil, err
	}
	if !negotiated(req) {
		return nil, missingCapability(method + " needs the tasks extension (" + ExtensionID + ") in the request's client capabilities")
	}
	owner, err := rt.opts.Owner(ctx, req)
	if err != nil {
		return nil, err
	}
	return next(context.WithValue(ctx, ownerKey{}, owner), method, req)
}

// checkNameHeader applies the routing-header rule of the extension: on
// Streamable HTTP a tasks/* request names its task in Mcp-Name, and a
// header that disagrees with params.taskId is refused, so that a router
// that routed by the header cannot have sent it to the wrong place. go-sdk
// checks Mcp-Name only for the core methods. A missing header is accepted:
// clients whose SDK does not know tasks/* do not send it.
func checkNameHeader(req mcp.Request, id string) error {
	extra := req.GetExtra()
	if extra == nil || extra.Header == nil || !atLeast2026(req) {
		return nil
	}
	if v := extra.Header.Values("Mcp-Name"); len(v) > 0 && (len(v) > 1 || v[0] != id) {
		return &jsonrpc.Error{Code: codeHeaderMismatch, Message: fmt.Sprintf("Mcp-Name header %q does not match params.taskId %q", v[0], id)}
	}
	return nil
}

type perRequest interface {
	ProtocolVersion() string
	ClientCapabilities() *mcp.ClientCapabilities
}

func atLeast2026(req mcp.Request) bool {
	r, ok := req.(perRequest)
	return ok && r.ProtocolVersion() >= minProtocolVersion
}

// negotiated reports whether the request declares the extension. The
// extension is per request: a client declares it in each request's
// clientCapabilities, and an earlier declaration does not count.
func negotiated(req mcp.Request) bool {
	r, ok := req.(perRequest)
	if !ok || r.ProtocolVersion() < minProtocolVersion {
		return false
	}
	caps := r.ClientCapabilities()
	if caps == nil {
		return false
	}
	_, ok = caps.Extensions[ExtensionID]
	return ok
}

// missingCapability is the -32021 error, whose data names the capability
// the request lacked.
func missingCapability(msg string) error {
	return &jsonrpc.Error{
		Code:    codeMissingCapability,
		Message: msg,
		Data:    []byte(`{"requiredCapabilities":{"extensions":{"` + ExtensionID + `":{}}}}`),
	}
}

func (rt *Runtime) toolsCall(ctx context.Context, next mcp.MethodHandler, req *mcp.CallToolRequest) (mcp.Result, error) {
	p := rt.policy(req.Params.Name)
	if p == nil {
		return next(ctx, "tools/call", req)
	}
	support := p(req)
	if support == None {
		return next(ctx, "tools/call", req)
	}
	if !negotiated(req) {
		if support == Required {
			return nil, missingCapability(fmt.Sprintf("tool %q runs only as a task: declare the tasks extension (%s) in the request's client capabilities", req.Params.Name, ExtensionID))
		}
		return next(ctx, "tools/call", req)
	}
	owner, err := rt.opts.Owner(ctx, req)
	if err != nil {
		return nil, err
	}
	t, err := rt.start(ctx, next, req, owner)
	if err != nil {
		return nil, err
	}
	return &CreateTaskResult{ResultType: resultTypeTask, Wire: wireOf(t)}, nil
}
