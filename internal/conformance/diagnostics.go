package conformance

//lint:file-ignore SA1019 the fixture implements every feature the MCP conformance suite tests, logging and sampling (deprecated in 2026-07-28, still scored for 2025-11-25) included.

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// registerDiagnosticTools adds the probes of the server-stateless,
// json-schema-2020-12 and http-custom-header-server-validation scenarios.
func registerDiagnosticTools(s *mcp.Server) {
	mcp.AddTool(s, &mcp.Tool{Name: "test_missing_capability", Description: "Needs the client's sampling capability; without it the call fails with -32021 (SEP-2575)"},
		func(_ context.Context, req *mcp.CallToolRequest, _ noArgs) (*mcp.CallToolResult, any, error) {
			if caps := req.ClientCapabilities(); caps != nil && caps.Sampling != nil {
				return text("The client declared sampling"), nil, nil
			}
			data, err := json.Marshal(mcp.MissingRequiredClientCapabilityData{
				RequiredCapabilities: &mcp.ClientCapabilities{Sampling: &mcp.SamplingCapabilities{}},
			})
			if err != nil {
				return nil, nil, err
			}
			return nil, nil, &jsonrpc.Error{Code: mcp.CodeMissingRequiredClientCapabilities,
				Message: "this tool needs the sampling capability, which the client did not declare", Data: data}
		})

	// The scenario declares no elicitation capability and checks that the
	// response stream carries no server-to-client request: a plain result.
	mcp.AddTool(s, &mcp.Tool{Name: "test_streaming_elicitation", Description: "Answers on the response stream without any server-to-client request (SEP-2575)"},
		func(context.Context, *mcp.CallToolRequest, noArgs) (*mcp.CallToolResult, any, error) {
			return text("Only the result was sent on this stream"), nil, nil
		})

	mcp.AddTool(s, &mcp.Tool{Name: "test_logging_tool", Description: "Tries to log; nothing may reach a client that set no log level (SEP-2575)"},
		func(ctx context.Context, req *mcp.CallToolRequest, _ noArgs) (*mcp.CallToolResult, any, error) {
			if err := req.Session.Log(ctx, &mcp.LoggingMessageParams{Level: "info", Logger: "conformance", Data: "test_logging_tool ran"}); err != nil {
				return nil, nil, err
			}
			return text("Logged at info; sent only if the client asked for that level"), nil, nil
		})

	// The trigger tools change the tool and prompt lists, which makes the
	// server announce list_changed to every listening client.
	var mu sync.Mutex
	toolPresent, promptPresent := false, false
	mcp.AddTool(s, &mcp.Tool{Name: "test_trigger_tool_change", Description: "Adds or removes a tool, to make the server announce tools list_changed"},
		func(context.Context, *mcp.CallToolRequest, noArgs) (*mcp.CallToolResult, any, error) {
			mu.Lock()
			defer mu.Unlock()
			const name = "test_transient_tool"
			if toolPresent {
				s.RemoveTools(name)
			} else {
				mcp.AddTool(s, &mcp.Tool{Name: name, Description: "Exists between two calls of test_trigger_tool_change"},
					func(context.Context, *mcp.CallToolRequest, noArgs) (*mcp.CallToolResult, any, error) {
						return text("transient"), nil, nil
					})
			}
			toolPresent = !toolPresent
			return text("tool list changed"), nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "test_trigger_prompt_change", Description: "Adds or removes a prompt, to make the server announce prompts list_changed"},
		func(context.Context, *mcp.CallToolRequest, noArgs) (*mcp.CallToolResult, any, error) {
			mu.Lock()
			defer mu.Unlock()
			const name = "test_transient_prompt"
			if promptPresent {
				s.RemovePrompts(name)
			} else {
				s.AddPrompt(&mcp.Prompt{Name: name, Description: "Exists between two calls of test_trigger_prompt_change"},
					func(context.Context, *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
						return &mcp.GetPromptResult{Messages: []*mcp.PromptMessage{{Role: "user", Content: &mcp.TextContent{Text: "transient"}}}}, nil
					})
			}
			promptPresent = !promptPresent
			return text("prompt list changed"), nil, nil
		})

	// SEP-1699: the server closes the response stream mid-call and the
	// client reconnects (GET with Last-Event-ID) to receive the result.
	mcp.AddTool(s, &mcp.Tool{Name: "test_reconnection", Description: "Closes its response stream mid-call; the result arrives after the client reconnects (SEP-1699)"},
		func(ctx context.Context, req *mcp.CallToolRequest, _ noArgs) (*mcp.CallToolResult, any, error) {
			if req.Extra != nil && req.Extra.CloseSSEStream != nil {
				req.Extra.CloseSSEStream(mcp.CloseSSEStreamArgs{RetryAfter: 10 * time.Millisecond})
			}
			if err := sleep(ctx, 100*time.Millisecond); err != nil {
				return nil, nil, err
			}
			return text("Reconnection test completed: the result arrived after the stream was closed"), nil, nil
		})

	// The schema must reach tools/list exactly as written (SEP-1613,
	// SEP-2106), so it is given as raw JSON rather than inferred.
	s.AddTool(&mcp.Tool{Name: "json_schema_2020_12_tool", Description: "Tool whose input schema uses JSON Schema 2020-12 keywords",
		InputSchema: json.RawMessage(jsonSchema202012)},
		func(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return text("called with " + string(req.Params.Arguments)), nil
		})

	// A tool argument mirrored into an HTTP header (SEP-2243): clients send
	// Mcp-Param-Region, and the server checks it against the body.
	s.AddTool(&mcp.Tool{Name: "test_x_mcp_header", Description: "Mirrors its region argument into the Mcp-Param-Region header (SEP-2243)",
		InputSchema: json.RawMessage(`{"type":"object","properties":{` +
			`"region":{"type":"string","description":"mirrored into Mcp-Param-Region","x-mcp-header":"Region"},` +
			`"level":{"type":"integer","description":"not mirrored"}}}`)},
		func(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			var in struct {
				Region string `json:"region"`
			}
			_ = json.Unmarshal(req.Params.Arguments, &in)
			return text("region=" + in.Region), nil
		})
}

const jsonSchema202012 = `{
	"$schema": "https://json-schema.org/draft/2020-12/schema",
	"type": "object",
	"$defs": {
		"address": {
			"$anchor": "addressDef",
			"type": "object",
			"properties": {"street": {"type": "string"}, "city": {"type": "string"}}
		}
	},
	"properties": {
		"name": {"type": "string"},
		"address": {"$ref": "#/$defs/address"},
		"contactMethod": {"type": "string", "enum": ["phone", "email"]},
		"phone": {"type": "string"},
		"email": {"type": "string"}
	},
	"allOf": [{"anyOf": [{"required": ["phone"]}, {"required": ["email"]}]}],
	"if": {"properties": {"contactMethod": {"const": "phone"}}, "required": ["contactMethod"]},
	"then": {"required": ["phone"]},
	"else": {"required": ["email"]},
	"additionalProperties": false
}`
