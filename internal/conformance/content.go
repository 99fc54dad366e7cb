package conformance

//lint:file-ignore SA1019 the fixture implements every feature the MCP conformance suite tests, logging and sampling (deprecated in 2026-07-28, still scored for 2025-11-25) included.

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// A 1x1 PNG and a silent WAV, the smallest valid files of their kinds.
const (
	pngBase64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
	wavBase64 = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA="
)

func mustDecode(s string) []byte {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

var (
	pngData = mustDecode(pngBase64)
	wavData = mustDecode(wavBase64)
)

func text(s string) *mcp.CallToolResult {
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: s}}}
}

// noArgs is the input of tools that take no arguments: an object schema
// with no properties.
type noArgs struct{}

// registerContentTools adds the tools whose scenarios check the content
// types of a tool result (tools-call-*).
func registerContentTools(s *mcp.Server) {
	mcp.AddTool(s, &mcp.Tool{Name: "test_simple_text", Description: "Returns one text content item"},
		func(context.Context, *mcp.CallToolRequest, noArgs) (*mcp.CallToolResult, any, error) {
			return text("This is a simple text response for testing."), nil, nil
		})

	mcp.AddTool(s, &mcp.Tool{Name: "test_image_content", Description: "Returns one image content item (a 1x1 PNG)"},
		func(context.Context, *mcp.CallToolRequest, noArgs) (*mcp.CallToolResult, any, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.ImageContent{Data: pngData, MIMEType: "image/png"}}}, nil, nil
		})

	mcp.AddTool(s, &mcp.Tool{Name: "test_audio_content", Description: "Returns one audio content item (a silent WAV)"},
		func(context.Context, *mcp.CallToolRequest, noArgs) (*mcp.CallToolResult, any, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.AudioContent{Data: wavData, MIMEType: "audio/wav"}}}, nil, nil
		})

	mcp.AddTool(s, &mcp.Tool{Name: "test_embedded_resource", Description: "Returns one embedded text resource"},
		func(context.Context, *mcp.CallToolRequest, noArgs) (*mcp.CallToolResult, any, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.EmbeddedResource{Resource: &mcp.ResourceContents{
				URI: "test://embedded-resource", MIMEType: "text/plain", Text: "This is an embedded resource content.",
			}}}}, nil, nil
		})

	mcp.AddTool(s, &mcp.Tool{Name: "test_multiple_content_types", Description: "Returns text, image and embedded resource content together"},
		func(context.Context, *mcp.CallToolRequest, noArgs) (*mcp.CallToolResult, any, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{
				&mcp.TextContent{Text: "Multiple content types test:"},
				&mcp.ImageContent{Data: pngData, MIMEType: "image/png"},
				&mcp.EmbeddedResource{Resource: &mcp.ResourceContents{
					URI: "test://mixed-content-resource", MIMEType: "application/json", Text: `{"test":"data","value":123}`,
				}},
			}}, nil, nil
		})

	mcp.AddTool(s, &mcp.Tool{Name: "test_error_handling", Description: "Always fails, as a tool error (isError: true)"},
		func(context.Context, *mcp.CallToolRequest, noArgs) (*mcp.CallToolResult, any, error) {
			// The SDK turns a handler's error into a result with isError set
			// and the message as its text, which is what models see.
			//lint:ignore ST1005 the conformance suite expects this exact text
			return nil, nil, errors.New("This tool intentionally returns an error for testing")
		})
}

// registerNotifyingTools adds the tools that talk back to the client while
// they run: log messages, progress, sampling and elicitation.
func registerNotifyingTools(s *mcp.Server) {
	mcp.AddTool(s, &mcp.Tool{Name: "test_tool_with_logging", Description: "Sends three info log messages while it runs"},
		func(ctx context.Context, req *mcp.CallToolRequest, _ noArgs) (*mcp.CallToolResult, any, error) {
			for i, msg := range []string{"Tool execution started", "Tool processing data", "Tool execution completed"} {
				if i > 0 {
					if err := sleep(ctx, 50*time.Millisecond); err != nil {
						return nil, nil, err
					}
				}
				if err := req.Session.Log(ctx, &mcp.LoggingMessageParams{Level: "info", Logger: "conformance", Data: msg}); err != nil {
					return nil, nil, err
				}
			}
			return text("Tool with logging executed successfully"), nil, nil
		})

	mcp.AddTool(s, &mcp.Tool{Name: "test_tool_with_progress", Description: "Reports progress 0, 50 and 100 of 100 when the call carries a progress token"},
		func(ctx context.Context, req *mcp.CallToolRequest, _ noArgs) (*mcp.CallToolResult, any, error) {
			token := req.Params.GetProgressToken()
			for i, p := range []float64{0, 50, 100} {
				if i > 0 {
					if err := sleep(ctx, 50*time.Millisecond); err != nil {
						return nil, nil, err
					}
				}
				if token == nil {
					continue
				}
				if err := req.Session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{
					ProgressToken: token, Progress: p, Total: 100, Message: fmt.Sprintf("%.0f of 100", p),
				}); err != nil {
					return nil, nil, err
				}
			}
			return text(fmt.Sprintf("Progress reported for token %v", token)), nil, nil
		})

	type samplingArgs struct {
		Prompt string `json:"prompt" jsonschema:"the prompt to send to the client's model"`
	}
	mcp.AddTool(s, &mcp.Tool{Name: "test_sampling", Description: "Asks the client's model to answer a prompt (sampling/createMessage)"},
		func(ctx context.Context, req *mcp.CallToolRequest, in samplingArgs) (*mcp.CallToolResult, any, error) {
			if caps := req.ClientCapabilities(); caps == nil || caps.Sampling == nil {
				return nil, nil, errors.New("the client did not declare the sampling capability")
			}
			res, err := req.Session.CreateMessage(ctx, &mcp.CreateMessageParams{
				Messages:  []*mcp.SamplingMessage{{Role: "user", Content: &mcp.TextContent{Text: in.Prompt}}},
				MaxTokens: 100,
			})
			if err != nil {
				return nil, nil, fmt.Errorf("sampling failed: %w", err)
			}
			answer := "(non-text response)"
			if t, ok := res.Content.(*mcp.TextContent); ok {
				answer = t.Text
			}
			return text("LLM response: " + answer), nil, nil
		})

	type elicitArgs struct {
		Message string `json:"message" jsonschema:"the message to show the user"`
	}
	mcp.AddTool(s, &mcp.Tool{Name: "test_elicitation", Description: "Asks the user for a username and an email address (elicitation/create)"},
		func(ctx context.Context, req *mcp.CallToolRequest, in elicitArgs) (*mcp.CallToolResult, any, error) {
			return elicit(ctx, req, "User response", &mcp.ElicitParams{
				Message: in.Message,
				RequestedSchema: map[string]any{
					"type": "object",
					"properties": map[string]any{
						"username": map[string]any{"type": "string", "description": "User's response"},
						"email":    map[string]any{"type": "string", "description": "User's email address"},
					},
					"required": []string{"username", "email"},
				},
			})
		})

	mcp.AddTool(s, &mcp.Tool{Name: "test_elicitation_sep1034_defaults", Description: "Elicits one field of each primitive type, each with a default (SEP-1034)"},
		func(ctx context.Context, req *mcp.CallToolRequest, _ noArgs) (*mcp.CallToolResult, any, error) {
			return elicit(ctx, req, "Elicitation completed", &mcp.ElicitParams{
				Message: "Please review the defaults",
				RequestedSchema: map[string]any{
					"type": "object",
					"properties": map[string]any{
						"name":     map[string]any{"type": "string", "description": "User name", "default": "John Doe"},
						"age":      map[string]any{"type": "integer", "description": "User age", "default": 30},
						"score":    map[string]any{"type": "number", "description": "User score", "default": 95.5},
						"status":   map[string]any{"type": "string", "description": "User status", "enum": []string{"active", "inactive", "pending"}, "default": "active"},
						"verified": map[string]any{"type": "boolean", "description": "Verification status", "default": true},
					},
				},
			})
		})

	titled := func(prefix string) []map[string]any {
		out := []map[string]any{}
		for i, t := range []string{"First", "Second", "Third"} {
			out = append(out, map[string]any{"const": fmt.Sprintf("value%d", i+1), "title": t + " " + prefix})
		}
		return out
	}
	mcp.AddTool(s, &mcp.Tool{Name: "test_elicitation_sep1330_enums", Description: "Elicits the five enum variants of SEP-1330"},
		func(ctx context.Context, req *mcp.CallToolRequest, _ noArgs) (*mcp.CallToolResult, any, error) {
			return elicit(ctx, req, "Elicitation completed", &mcp.ElicitParams{
				Message: "Please choose",
				RequestedSchema: map[string]any{
					"type": "object",
					"properties": map[string]any{
						"untitledSingle": map[string]any{"type": "string", "enum": []string{"option1", "option2", "option3"}},
						"titledSingle":   map[string]any{"type": "string", "oneOf": titled("Option")},
						"legacyEnum": map[string]any{"type": "string", "enum": []string{"opt1", "opt2", "opt3"},
							"enumNames": []string{"Option One", "Option Two", "Option Three"}},
						"untitledMulti": map[string]any{"type": "array", "minItems": 1, "maxItems": 3,
							"items": map[string]any{"type": "string", "enum": []string{"option1", "option2", "option3"}}},
						"titledMulti": map[string]any{"type": "array", "minItems": 1, "maxItems": 3,
							"items": map[string]any{"anyOf": titled("Choice")}},
					},
				},
			})
		})
}

// elicit asks the client for input and reports its answer as text.
func elicit(ctx context.Context, req *mcp.CallToolRequest, label string, p *mcp.ElicitParams) (*mcp.CallToolResult, any, error) {
	if caps := req.ClientCapabilities(); caps == nil || caps.Elicitation == nil {
		return nil, nil, errors.New("the client did not declare the elicitation capability")
	}
	res, err := req.Session.Elicit(ctx, p)
	if err != nil {
		return nil, nil, fmt.Errorf("elicitation failed: %w", err)
	}
	return text(fmt.Sprintf("%s: action=%s, content=%v", label, res.Action, res.Content)), nil, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
