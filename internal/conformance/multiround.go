package conformance

//lint:file-ignore SA1019 the fixture implements every feature the MCP conformance suite tests, roots and sampling (deprecated in 2026-07-28, still scored for 2025-11-25) included.

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/atomcp/atomcp/internal/mcpserver"
)

// registerMultiRoundTools adds the tools and the prompt of the
// input-required-result scenarios (SEP-2322, protocol 2026-07-28): instead
// of calling back into the client, a handler returns the input it needs
// (inputRequests) and the client retries with inputResponses. Every
// requestState is sealed with states, so a changed one is refused.
func registerMultiRoundTools(s *mcp.Server, states *mcpserver.RequestStates) {
	mcp.AddTool(s, &mcp.Tool{Name: "test_input_required_result_elicitation", Description: "Asks for the caller's name with an in-band elicitation, then greets them"},
		func(_ context.Context, req *mcp.CallToolRequest, _ noArgs) (*mcp.CallToolResult, any, error) {
			if name, _ := accepted(req.Params.InputResponses, "user_name")["name"].(string); name != "" {
				return text("Hello, " + name + "!"), nil, nil
			}
			// Missing, declined, wrong-keyed or malformed answers: ask again.
			return &mcp.CallToolResult{InputRequests: mcp.InputRequestMap{"user_name": askName("What is your name?")}}, nil, nil
		})

	mcp.AddTool(s, &mcp.Tool{Name: "test_input_required_result_sampling", Description: "Asks the client's model a question with an in-band sampling request"},
		func(_ context.Context, req *mcp.CallToolRequest, _ noArgs) (*mcp.CallToolResult, any, error) {
			if answer, ok := sampled(req.Params.InputResponses, "capital_question"); ok {
				return text("Sampling response: " + answer), nil, nil
			}
			return &mcp.CallToolResult{InputRequests: mcp.InputRequestMap{
				"capital_question": sample("What is the capital of France?", 100),
			}}, nil, nil
		})

	mcp.AddTool(s, &mcp.Tool{Name: "test_input_required_result_list_roots", Description: "Asks for the client's roots with an in-band roots/list request"},
		func(_ context.Context, req *mcp.CallToolRequest, _ noArgs) (*mcp.CallToolResult, any, error) {
			if roots, ok := req.Params.InputResponses["client_roots"].(*mcp.ListRootsResult); ok && roots != nil {
				return text("Client roots: " + rootURIs(roots)), nil, nil
			}
			return &mcp.CallToolResult{InputRequests: mcp.InputRequestMap{"client_roots": &mcp.ListRootsParams{}}}, nil, nil
		})

	mcp.AddTool(s, &mcp.Tool{Name: "test_input_required_result_request_state", Description: "Round-trips a sealed requestState next to an elicitation"},
		func(_ context.Context, req *mcp.CallToolRequest, _ noArgs) (*mcp.CallToolResult, any, error) {
			if req.Params.RequestState != "" {
				st, err := openState(states, req.Params.RequestState)
				if err != nil {
					return nil, nil, err
				}
				if st.Step == "confirm" && accepted(req.Params.InputResponses, "confirm") != nil {
					return text("state-ok: requestState verified and confirmation received"), nil, nil
				}
			}
			return &mcp.CallToolResult{
				InputRequests: mcp.InputRequestMap{"confirm": confirm()},
				RequestState:  sealState(states, flowState{Step: "confirm"}),
			}, nil, nil
		})

	mcp.AddTool(s, &mcp.Tool{Name: "test_input_required_result_multiple_inputs", Description: "Asks for elicitation, sampling and roots input in one round"},
		func(_ context.Context, req *mcp.CallToolRequest, _ noArgs) (*mcp.CallToolResult, any, error) {
			in := req.Params.InputResponses
			name, _ := accepted(in, "user_name")["name"].(string)
			greeting, sampledOK := sampled(in, "greeting")
			roots, rootsOK := in["client_roots"].(*mcp.ListRootsResult)
			if req.Params.RequestState != "" {
				if _, err := openState(states, req.Params.RequestState); err != nil {
					return nil, nil, err
				}
				if name != "" && sampledOK && rootsOK && roots != nil {
					return text(fmt.Sprintf("%s, %s (roots: %s)", greeting, name, rootURIs(roots))), nil, nil
				}
			}
			return &mcp.CallToolResult{
				InputRequests: mcp.InputRequestMap{
					"user_name":    askName("What is your name?"),
					"greeting":     sample("Generate a greeting", 50),
					"client_roots": &mcp.ListRootsParams{},
				},
				RequestState: sealState(states, flowState{Step: "multiple"}),
			}, nil, nil
		})

	mcp.AddTool(s, &mcp.Tool{Name: "test_input_required_result_multi_round", Description: "Two elicitation rounds, the state carrying what the first one learned"},
		func(_ context.Context, req *mcp.CallToolRequest, _ noArgs) (*mcp.CallToolResult, any, error) {
			var st flowState
			if req.Params.RequestState != "" {
				var err error
				if st, err = openState(states, req.Params.RequestState); err != nil {
					return nil, nil, err
				}
			}
			switch st.Step {
			case "step1":
				if name, _ := accepted(req.Params.InputResponses, "step1")["name"].(string); name != "" {
					return &mcp.CallToolResult{
						InputRequests: mcp.InputRequestMap{"step2": askString("Step 2: What is your favorite color?", "color")},
						RequestState:  sealState(states, flowState{Step: "step2", Name: name}),
					}, nil, nil
				}
			case "step2":
				if color, _ := accepted(req.Params.InputResponses, "step2")["color"].(string); color != "" {
					return text(fmt.Sprintf("Multi-round complete: %s likes %s", st.Name, color)), nil, nil
				}
				return &mcp.CallToolResult{
					InputRequests: mcp.InputRequestMap{"step2": askString("Step 2: What is your favorite color?", "color")},
					RequestState:  req.Params.RequestState,
				}, nil, nil
			}
			return &mcp.CallToolResult{
				InputRequests: mcp.InputRequestMap{"step1": askName("Step 1: What is your name?")},
				RequestState:  sealState(states, flowState{Step: "step1"}),
			}, nil, nil
		})

	mcp.AddTool(s, &mcp.Tool{Name: "test_input_required_result_tampered_state", Description: "Refuses a retry whose requestState fails its integrity check"},
		func(_ context.Context, req *mcp.CallToolRequest, _ noArgs) (*mcp.CallToolResult, any, error) {
			if req.Params.RequestState != "" {
				if _, err := openState(states, req.Params.RequestState); err != nil {
					return nil, nil, err
				}
				if accepted(req.Params.InputResponses, "confirm") != nil {
					return text("state-ok: requestState verified and confirmation received"), nil, nil
				}
			}
			return &mcp.CallToolResult{
				InputRequests: mcp.InputRequestMap{"confirm": confirm()},
				RequestState:  sealState(states, flowState{Step: "confirm"}),
			}, nil, nil
		})

	mcp.AddTool(s, &mcp.Tool{Name: "test_input_required_result_capabilities", Description: "Asks only for the kinds of input the client declared it can give"},
		func(_ context.Context, req *mcp.CallToolRequest, _ noArgs) (*mcp.CallToolResult, any, error) {
			if len(req.Params.InputResponses) > 0 {
				return text("Received the input the client's capabilities allow"), nil, nil
			}
			caps := req.ClientCapabilities()
			if caps == nil {
				caps = &mcp.ClientCapabilities{}
			}
			ask := mcp.InputRequestMap{}
			if caps.Elicitation != nil {
				ask["user_name"] = askName("What is your name?")
			}
			if caps.Sampling != nil {
				ask["greeting"] = sample("Generate a short greeting", 50)
			}
			if caps.RootsV2 != nil || caps.Roots.ListChanged {
				ask["client_roots"] = &mcp.ListRootsParams{}
			}
			if len(ask) == 0 {
				return text("The client declared no capability that can answer an input request"), nil, nil
			}
			return &mcp.CallToolResult{InputRequests: ask}, nil, nil
		})

	s.AddPrompt(&mcp.Prompt{Name: "test_input_required_result_prompt", Description: "Asks for context with an in-band elicitation before it renders"},
		func(_ context.Context, req *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
			if c, _ := accepted(req.Params.InputResponses, "user_context")["context"].(string); c != "" {
				return &mcp.GetPromptResult{
					Description: "A prompt rendered with elicited context",
					Messages:    []*mcp.PromptMessage{{Role: "user", Content: &mcp.TextContent{Text: "Context: " + c}}},
				}, nil
			}
			return &mcp.GetPromptResult{InputRequests: mcp.InputRequestMap{
				"user_context": askString("What context should the prompt use?", "context"),
			}}, nil
		})
}

// flowState is what a multi-round tool keeps between rounds, inside the
// sealed requestState.
type flowState struct {
	Step string `json:"step"`
	Name string `json:"name,omitempty"`
}

func sealState(states *mcpserver.RequestStates, st flowState) string {
	b, err := json.Marshal(st)
	if err != nil {
		panic(err) // two strings always marshal
	}
	return states.Seal(b)
}

// openState returns the state of a retry, or the invalid-params error a
// client gets for a state that was changed on the way.
func openState(states *mcpserver.RequestStates, sealed string) (flowState, error) {
	var st flowState
	b, err := states.Open(sealed)
	if err == nil {
		err = json.Unmarshal(b, &st)
	}
	if err != nil {
		return flowState{}, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: "invalid requestState: " + mcpserver.ErrBadRequestState.Error()}
	}
	return st, nil
}

// accepted returns the content of an elicitation answer the user accepted,
// or nil.
func accepted(in mcp.InputResponseMap, key string) map[string]any {
	r, ok := in[key].(*mcp.ElicitResult)
	if !ok || r == nil || r.Action != "accept" {
		return nil
	}
	return r.Content
}

// sampled returns the text of a sampling answer.
func sampled(in mcp.InputResponseMap, key string) (string, bool) {
	r, ok := in[key].(*mcp.CreateMessageWithToolsResult)
	if !ok || r == nil {
		return "", false
	}
	for _, c := range r.Content {
		if t, ok := c.(*mcp.TextContent); ok {
			return t.Text, true
		}
	}
	return "(non-text answer)", true
}

func rootURIs(r *mcp.ListRootsResult) string {
	uris := []string{}
	for _, root := range r.Roots {
		uris = append(uris, root.URI)
	}
	if len(uris) == 0 {
		return "none"
	}
	return strings.Join(uris, ", ")
}

func askName(message string) *mcp.ElicitParams { return askString(message, "name") }

func askString(message, field string) *mcp.ElicitParams {
	return &mcp.ElicitParams{Message: message, RequestedSchema: map[string]any{
		"type":       "object",
		"properties": map[string]any{field: map[string]any{"type": "string"}},
		"required":   []string{field},
	}}
}

func confirm() *mcp.ElicitParams {
	return &mcp.ElicitParams{Message: "Please confirm", RequestedSchema: map[string]any{
		"type":       "object",
		"properties": map[string]any{"ok": map[string]any{"type": "boolean"}},
		"required":   []string{"ok"},
	}}
}

func sample(prompt string, maxTokens int64) *mcp.CreateMessageParams {
	return &mcp.CreateMessageParams{
		Messages:  []*mcp.SamplingMessage{{Role: "user", Content: &mcp.TextContent{Text: prompt}}},
		MaxTokens: maxTokens,
	}
}
