package conformance

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/atomcp/atomcp/internal/mcpserver"
	"github.com/atomcp/atomcp/internal/tasks"
)

// registerTaskTools adds the tools of the tasks-extension scenarios
// (SEP-2663) and declares which of their calls run as tasks in rt.
func registerTaskTools(s *mcp.Server, rt *tasks.Runtime, states *mcpserver.RequestStates) {
	type greetArgs struct {
		Name string `json:"name"`
	}
	mcp.AddTool(s, &mcp.Tool{Name: "greet", Description: "Greets by name, synchronously (never a task)"},
		func(_ context.Context, _ *mcp.CallToolRequest, a greetArgs) (*mcp.CallToolResult, any, error) {
			return text("Hello, " + a.Name + "!"), nil, nil
		})

	type slowArgs struct {
		Seconds float64 `json:"seconds,omitempty"`
		Label   string  `json:"label,omitempty"`
	}
	mcp.AddTool(s, &mcp.Tool{Name: "slow_compute", Description: "Works for the given seconds, then answers; a task when the client declares the extension"},
		func(ctx context.Context, _ *mcp.CallToolRequest, a slowArgs) (*mcp.CallToolResult, any, error) {
			if err := sleep(ctx, time.Duration(a.Seconds*float64(time.Second))); err != nil {
				return nil, nil, err
			}
			return text(fmt.Sprintf("Computed %q in %gs", a.Label, a.Seconds)), nil, nil
		})
	rt.Declare("slow_compute", tasks.Always(tasks.Optional))

	mcp.AddTool(s, &mcp.Tool{Name: "failing_job", Description: "Runs only as a task and ends in a tool error (isError) after a second"},
		func(ctx context.Context, _ *mcp.CallToolRequest, _ noArgs) (*mcp.CallToolResult, any, error) {
			if err := sleep(ctx, time.Second); err != nil {
				return nil, nil, err
			}
			return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: "the job failed, as it always does"}}}, nil, nil
		})
	rt.Declare("failing_job", tasks.Always(tasks.Required))

	// A raw handler, so that its error is a protocol error (the task ends
	// failed with it) rather than the tool error mcp.AddTool makes of it.
	s.AddTool(&mcp.Tool{Name: "protocol_error_job", Description: "Ends in a JSON-RPC error, so its task fails", InputSchema: map[string]any{"type": "object"}},
		func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return nil, &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: "the job broke at the protocol level"}
		})
	rt.Declare("protocol_error_job", tasks.Always(tasks.Optional))

	type deleteArgs struct {
		Filename string `json:"filename"`
	}
	mcp.AddTool(s, &mcp.Tool{Name: "confirm_delete", Description: "Asks for confirmation before it deletes (nothing: it is a fixture); in a task, through input_required and tasks/update"},
		func(ctx context.Context, req *mcp.CallToolRequest, a deleteArgs) (*mcp.CallToolResult, any, error) {
			ask := mcp.InputRequestMap{"confirm": confirmBool("Delete " + a.Filename + "?")}
			var ok bool
			if tasks.InTask(ctx) {
				got, err := tasks.Ask(ctx, ask)
				if err != nil {
					return nil, nil, err
				}
				ok, _ = answer(got["confirm"])["confirm"].(bool)
			} else {
				if len(req.Params.InputResponses) == 0 {
					return &mcp.CallToolResult{InputRequests: ask}, nil, nil
				}
				ok, _ = accepted(req.Params.InputResponses, "confirm")["confirm"].(bool)
			}
			if !ok {
				return text("Kept " + a.Filename), nil, nil
			}
			return text("Deleted " + a.Filename), nil, nil
		})
	rt.Declare("confirm_delete", tasks.Always(tasks.Optional))

	mcp.AddTool(s, &mcp.Tool{Name: "multi_input", Description: "Runs only as a task and asks two questions at once"},
		func(ctx context.Context, _ *mcp.CallToolRequest, _ noArgs) (*mcp.CallToolResult, any, error) {
			got, err := tasks.Ask(ctx, mcp.InputRequestMap{
				"name":    askName("What is your name?"),
				"confirm": confirmBool("Shall I go on?"),
			})
			if err != nil {
				return nil, nil, err
			}
			name, _ := answer(got["name"])["name"].(string)
			return text(fmt.Sprintf("Hello, %s: both answers received", name)), nil, nil
		})
	rt.Declare("multi_input", tasks.Always(tasks.Required))

	// test_tool_with_task composes the two: the first round asks for a
	// name in-band and synchronously (multi-round, sealed requestState);
	// the retry that brings it becomes a task, and no requestState reaches
	// the task.
	mcp.AddTool(s, &mcp.Tool{Name: "test_tool_with_task", Description: "Asks for a name in-band, then greets as a task"},
		func(_ context.Context, req *mcp.CallToolRequest, _ noArgs) (*mcp.CallToolResult, any, error) {
			if name := namedRetry(states, req); name != "" {
				return text("Hello, " + name + "! (from a task)"), nil, nil
			}
			return &mcp.CallToolResult{
				InputRequests: mcp.InputRequestMap{"user_name": askName("What is your name?")},
				RequestState:  sealState(states, flowState{Step: "task"}),
			}, nil, nil
		})
	rt.Declare("test_tool_with_task", func(req *mcp.CallToolRequest) tasks.Support {
		if namedRetry(states, req) != "" {
			return tasks.Required
		}
		return tasks.None
	})
}

// namedRetry returns the accepted name of a retry of test_tool_with_task
// whose requestState is intact, or "".
func namedRetry(states *mcpserver.RequestStates, req *mcp.CallToolRequest) string {
	if req.Params.RequestState == "" {
		return ""
	}
	if st, err := openState(states, req.Params.RequestState); err != nil || st.Step != "task" {
		return ""
	}
	name, _ := accepted(req.Params.InputResponses, "user_name")["name"].(string)
	return name
}

// answer returns the content of an accepted elicitation answer a task got
// through tasks/update, or nil.
func answer(raw json.RawMessage) map[string]any {
	var r mcp.ElicitResult
	if json.Unmarshal(raw, &r) != nil || r.Action != "accept" {
		return nil
	}
	return r.Content
}

func confirmBool(message string) *mcp.ElicitParams {
	return &mcp.ElicitParams{Message: message, RequestedSchema: map[string]any{
		"type":       "object",
		"properties": map[string]any{"confirm": map[string]any{"type": "boolean"}},
		"required":   []string{"confirm"},
	}}
}
