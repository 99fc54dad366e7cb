package tools

// addRawTool is mcp.AddTool for the Atoms tools, registered through go-sdk's
// low-level Server.AddTool. It does what go-sdk's typed wrapper
// (toolForErr in go-sdk v1.8 mcp/server.go) does, in the same order and
// with the same error texts: validate the arguments against the input
// schema (defaults applied), decode them into In, call the handler,
// marshal its output, validate that against the output schema and put it
// into structuredContent and, when there is no other content, a text
// block. What differs is the decoding: go-sdk's internal/json.Unmarshal
// builds a segmentio Decoder with a 32 KiB read buffer for every value,
// three per call (arguments into a map, into In, the output into a map
// again); here the same segmentio parser (same flags, same depth limit,
// so the same results and errors) runs on the slice, which allocates only
// what it decodes. The schemas are resolved once, at registration, as
// go-sdk does; the tool clients list is the *mcp.Tool given, unchanged.

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/atomcp/atomcp/internal/fastcall"
	segjson "github.com/segmentio/encoding/json"
)

func addRawTool[In any](s *mcp.Server, t *mcp.Tool, h mcp.ToolHandlerFor[In, any]) {
	in, ok := t.InputSchema.(*jsonschema.Schema)
	if !ok {
		panic(fmt.Sprintf("AddTool: tool %q: the input schema must be a *jsonschema.Schema", t.Name))
	}
	inResolved, err := in.Resolve(&jsonschema.ResolveOptions{ValidateDefaults: true})
	if err != nil {
		panic(fmt.Sprintf("AddTool: tool %q: input schema: %v", t.Name, err))
	}
	var outResolved *jsonschema.Resolved
	if t.OutputSchema != nil {
		out, ok := t.OutputSchema.(*jsonschema.Schema)
		if !ok {
			panic(fmt.Sprintf("AddTool: tool %q: the output schema must be a *jsonschema.Schema", t.Name))
		}
		if outResolved, err = out.Resolve(&jsonschema.ResolveOptions{ValidateDefaults: true}); err != nil {
			panic(fmt.Sprintf("AddTool: tool %q: output schema: %v", t.Name, err))
		}
	}
	// Without defaults in the input schema, the validated map is the
	// arguments as sent, and In is decoded from the bytes the client sent
	// rather than from a re-marshalled map.
	inDefaults := hasDefaults(in)
	fastcall.AddTool(s, t, func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		input, err := applyInputSchema(req.Params.Arguments, inResolved, inDefaults)
		if err != nil {
			var errRes mcp.CallToolResult
			errRes.SetError(fmt.Errorf("validating \"arguments\": %v", err))
			return &errRes, nil
		}
		var args In
		if input != nil {
			if err := unmarshal(input, &args); err != nil {
				var errRes mcp.CallToolResult
				errRes.SetError(err)
				return &errRes, nil
			}
		}
		res, out, err := h(ctx, req, args)
		if err != nil {
			if wireErr, ok := err.(*jsonrpc.Error); ok {
				return nil, wireErr
			}
			var errRes mcp.CallToolResult
			errRes.SetError(err)
			return &errRes, nil
		}
		if res == nil {
			res = &mcp.CallToolResult{}
		}
		if res.InputRequests != nil || out == nil {
			return res, nil
		}
		outJSON, err := json.Marshal(out)
		if err != nil {
			return nil, fmt.Errorf("marshaling output: %w", err)
		}
		if outResolved != nil {
			var decoded any
			if outJSON, decoded, err = applyOutputSchema(outJSON, outResolved); err != nil {
				return nil, fmt.Errorf("validating tool output: %w", err)
			}
			keepDecoded(ctx, outJSON, decoded)
		}
		res.StructuredContent = json.RawMessage(outJSON)
		if res.Content == nil {
			res.Content = []mcp.Content{&mcp.TextContent{Text: string(outJSON)}}
		} else if !isObjectJSON(outJSON) {
			res.Content = append(res.Content, &mcp.TextContent{Text: string(outJSON)})
		}
		return res, nil
	})
}

// applyInputSchema is go-sdk's applySchema for input: the arguments
// decoded into a map (so that no arguments are {}), defaults applied,
// validated; the result is what In is decoded from.
func applyInputSchema(data json.RawMessage, resolved *jsonschema.Resolved, defaults bool) (json.RawMessage, error) {
	v := make(map[string]any)
	if len(data) > 0 {
		if err := unmarshal(data, &v); err != nil {
			return nil, fmt.Errorf("unmarshaling arguments: %w", err)
		}
	}
	var m any = v
	if err := resolved.ApplyDefaults(&m); err != nil {
		return nil, fmt.Errorf("applying schema defaults:\n%w", err)
	}
	if err := resolved.Validate(&m); err != nil {
		return nil, err
	}
	if !defaults && len(data) > 0 {
		return data, nil
	}
	out, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("marshalling with defaults: %v", err)
	}
	return out, nil
}

// applyOutputSchema is go-sdk's applySchema for output. The value goes
// through a map and is marshalled again, as go-sdk does, because clients
// (and the transcripts) see go-sdk's bytes: keys in sorted order. It also
// returns the decoded value, for the compat envelope (keepDecoded).
func applyOutputSchema(data []byte, resolved *jsonschema.Resolved) ([]byte, any, error) {
	var v any
	if len(data) > 0 {
		if err := unmarshal(data, &v); err != nil {
			return nil, nil, fmt.Errorf("unmarshaling output: %w", err)
		}
	}
	applied := false
	if _, ok := v.(map[string]any); ok {
		if err := resolved.ApplyDefaults(&v); err != nil {
			return nil, nil, fmt.Errorf("applying schema defaults:\n%w", err)
		}
		applied = true
	} else if v == nil && resolved.Schema().Type == "object" {
		v = make(map[string]any)
		if err := resolved.ApplyDefaults(&v); err != nil {
			return nil, nil, fmt.Errorf("applying schema defaults:\n%w", err)
		}
		applied = true
	}
	if err := resolved.Validate(&v); err != nil {
		return nil, nil, err
	}
	if !applied {
		return data, v, nil
	}
	out, err := json.Marshal(v)
	if err != nil {
		return nil, nil, fmt.Errorf("marshalling with defaults: %v", err)
	}
	return out, v, nil
}

// maxJSONDepth and errMaxDepth are go-sdk's internal/json limit.
const maxJSONDepth = 1000

var errMaxDepth = fmt.Errorf("json: exceeded maximum nesting depth of %d", maxJSONDepth)

// unmarshal is go-sdk's internal/json.Unmarshal of one JSON value,
// without its Decoder: the depth check, then segmentio's parser with
// case-sensitive field names.
func unmarshal(data []byte, v any) error {
	if err := checkDepth(data); err != nil {
		return err
	}
	_, err := segjson.Parse(data, v, segjson.DontMatchCaseInsensitiveStructFields)
	return err
}

func checkDepth(data []byte) error {
	depth := 0
	inString, escaped := false, false
	for _, b := range data {
		if inString {
			switch {
			case escaped:
				escaped = false
			case b == '\\':
				escaped = true
			case b == '"':
				inString = false
			}
			continue
		}
		switch b {
		case '"':
			inString = true
		case '{', '[':
			depth++
			if depth > maxJSONDepth {
				return errMaxDepth
			}
		case '}', ']':
			if depth > 0 {
				depth--
			}
		}
	}
	return nil
}

func isObjectJSON(data []byte) bool {
	for _, b := range data {
		switch b {
		case ' ', '\t', '\n', '\r':
			continue
		case '{':
			return true
		default:
			return false
		}
	}
	return false
}

// hasDefaults reports whether s or any schema under it has a default.
func hasDefaults(s *jsonschema.Schema) bool {
	if s == nil {
		return false
	}
	if s.Default != nil {
		return true
	}
	for _, p := range s.Properties {
		if hasDefaults(p) {
			return true
		}
	}
	for _, sub := range append([]*jsonschema.Schema{s.Items, s.AdditionalProperties, s.Not}, append(append(s.AllOf, s.AnyOf...), s.OneOf...)...) {
		if hasDefaults(sub) {
			return true
		}
	}
	for _, p := range s.PrefixItems {
		if hasDefaults(p) {
			return true
		}
	}
	return false
}
