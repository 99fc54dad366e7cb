package tools

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// The old Atoms server's envelope: every result also carries success and
// data (tools/base.py _format_result), and a failure is the JSON
// {"success": false, "error": "…", "error_type": "…"}. atomcp keeps its
// own keys beside them and keeps failures isError (right for MCP: a model
// must not go on as if the call had worked).

// The old error_type values.
const (
	errorValidation = "validation_error"
	errorPermission = "permission_denied"
	errorNotFound   = "not_found"
	errorServer     = "server_error"
)

func failure(msg, errorType string) map[string]any {
	return map[string]any{"success": false, "error": msg, "error_type": errorType}
}

func failureWith(out map[string]any) *mcp.CallToolResult {
	b, _ := json.Marshal(out) // maps of strings and candidates always encode
	return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: string(b)}}}
}

// failureResult is a tool error in the old JSON shape.
func failureResult(msg, errorType string) *mcp.CallToolResult {
	return failureWith(failure(msg, errorType))
}

// envelope adds the old keys to a result of tool.
func envelope(tool string, r *mcp.CallToolResult, decoded *decodedOutput) {
	text, ti := textOf(r)
	if r.IsError {
		envelopeError(r, text, ti)
		return
	}
	raw := structuredJSON(r)
	if raw == nil {
		return
	}
	obj := decoded.of(raw)
	if obj == nil && (json.Unmarshal(raw, &obj) != nil || obj == nil) {
		return
	}
	if _, done := obj["success"]; done {
		return // health_check answers in the old shape itself
	}
	data, extra := oldData(tool, obj)
	dataJSON, err := json.Marshal(data)
	if err != nil {
		return
	}
	var b bytes.Buffer
	b.WriteString(`{"success":true,"data":`)
	b.Write(dataJSON)
	rest := bytes.TrimSpace(raw)[1:] // after the opening brace
	if len(bytes.TrimSpace(rest)) > 1 {
		b.WriteByte(',')
	}
	rest = bytes.TrimSuffix(bytes.TrimSpace(rest), []byte("}"))
	b.Write(rest)
	for _, kv := range extra {
		v, _ := json.Marshal(kv.v)
		b.WriteString(`,"` + kv.k + `":`)
		b.Write(v)
	}
	b.WriteByte('}')
	out := json.RawMessage(b.Bytes())
	// The text is the structured result's JSON when go-sdk put it there
	// (every atomcp tool); keep the two the same.
	if ti >= 0 && jsonEqual([]byte(text), raw) {
		r.Content[ti] = &mcp.TextContent{Text: string(out)}
	}
	r.StructuredContent = out
}

func envelopeError(r *mcp.CallToolResult, text string, ti int) {
	var obj map[string]any
	if json.Unmarshal([]byte(text), &obj) == nil {
		if _, done := obj["success"]; done {
			return // toolError wrote it
		}
	}
	errorType := errorServer
	switch {
	case strings.HasPrefix(text, "validating"), strings.Contains(text, "invalid input"), strings.HasPrefix(text, "unmarshaling"), strings.Contains(text, "unknown parameter"):
		errorType = errorValidation
	}
	out := failure(text, errorType)
	if raw := structuredJSON(r); raw != nil {
		// A failed workflow's report: its keys stay, with the old ones.
		var s map[string]any
		if json.Unmarshal(raw, &s) == nil {
			for k, v := range s {
				if k == "error" {
					out["step_error"] = v
					continue
				}
				out[k] = v
			}
			out["error_type"] = errorValidation
			r.StructuredContent = out
		}
	}
	b, _ := json.Marshal(out)
	if ti >= 0 {
		r.Content[ti] = &mcp.TextContent{Text: string(b)}
	} else {
		r.Content = append(r.Content, &mcp.TextContent{Text: string(b)})
	}
}

func textOf(r *mcp.CallToolResult) (string, int) {
	for i, c := range r.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			return tc.Text, i
		}
	}
	return "", -1
}

func structuredJSON(r *mcp.CallToolResult) []byte {
	switch v := r.StructuredContent.(type) {
	case nil:
		return nil
	case json.RawMessage:
		return v
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return nil
		}
		return b
	}
}

func jsonEqual(a, b []byte) bool {
	if bytes.Equal(a, b) {
		return true
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	ca, _ := json.Marshal(x)
	cb, _ := json.Marshal(y)
	return bytes.Equal(ca, cb)
}

type keyValue struct {
	k string
	v any
}

// oldData is what the old server put in data for a result of tool, and
// the old keys added after atomcp's (the old pagination keys).
func oldData(tool string, obj map[string]any) (any, []keyValue) {
	items, hasItems := obj["items"].([]any)
	listKeys := func() []keyValue {
		kv := []keyValue{{"count", len(items)}}
		if t, ok := obj["total"]; ok {
			kv = append(kv, keyValue{"total_count", t})
		}
		return kv
	}
	switch tool {
	case "entity_tool":
		if e, ok := obj["entity"]; ok {
			return e, nil
		}
		if hasItems {
			return items, listKeys()
		}
	case "relationship_tool":
		for _, k := range []string{"link", "member", "invitation"} {
			if v, ok := obj[k]; ok {
				return v, nil
			}
		}
		if hasItems {
			return items, listKeys()
		}
	case "workspace_tool":
		if orgs, ok := obj["organizations"].([]any); ok {
			return map[string]any{"organizations": orgs, "total": len(orgs), "limit": len(orgs), "offset": 0, "has_more": false}, nil
		}
		ctx := obj
		if c, ok := obj["context"].(map[string]any); ok {
			ctx = c
		}
		data := map[string]any{}
		for _, level := range []string{"organization", "project", "document"} {
			var id any
			if m, ok := ctx[level].(map[string]any); ok {
				id = m["id"]
			}
			data["active_"+level], data[level+"_id"] = id, id
		}
		return data, nil
	case "query_tool":
		if v, ok := obj["results"]; ok {
			return v, nil
		}
		if rag, ok := obj["rag"].(map[string]any); ok {
			return rag["results"], nil
		}
	case "workflow_tool":
		if v, ok := obj["result"]; ok {
			return v, nil
		}
	}
	return obj, nil
}
