package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
)

// toolCall is one tools/call of a request body: the tool, its
// "operation" argument ("" when it has none, or it is not a string) and
// all its arguments, for the tools' own reading (ScopePolicy.Access).
type toolCall struct {
	tool, operation string
	arguments       json.RawMessage
}

func (c toolCall) String() string {
	if c.operation == "" {
		return c.tool
	}
	return c.tool + " " + c.operation
}

// mcpMessage is what the peek decodes of a JSON-RPC message.
type mcpMessage struct {
	Method string `json:"method"`
	Params struct {
		Name      string          `json:"name"`
		Arguments json.RawMessage `json:"arguments"`
	} `json:"params"`
}

// peekMCP is the stage after authentication that reads a POST body once
// (putting it back for the MCP handler) and records the tools/call
// requests in it, single or batched, in the request's verified state for
// requireToolScopes. A body that is not JSON-RPC is left to the MCP
// handler to refuse.
func (m *Middleware) peekMCP(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := verifiedOf(r.Context())
		if v != nil && r.Method == http.MethodPost && r.Body != nil {
			if e := m.readToolCalls(w, r, v); e != nil {
				m.refuse(w, r, e, v.info)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// readToolCalls reads r's body into v.calls.
func (m *Middleware) readToolCalls(w http.ResponseWriter, r *http.Request, v *verified) *Error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, m.o.MaxBodyBytes))
	r.Body = io.NopCloser(bytes.NewReader(body))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return &Error{Status: http.StatusRequestEntityTooLarge, Code: CodeInvalidRequest, Description: "the request body is larger than ATOMCP_MAX_BODY_BYTES"}
	}
	if err != nil {
		return &Error{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Description: "the request body could not be read"}
	}
	body = bytes.TrimSpace(body)
	if !bytes.HasPrefix(body, []byte("[")) {
		var one mcpMessage
		if json.Unmarshal(body, &one) == nil {
			v.calls = appendToolCall(v.one[:0], &one)
		}
		return nil
	}
	var batch []mcpMessage
	if json.Unmarshal(body, &batch) != nil {
		return nil
	}
	for i := range batch {
		v.calls = appendToolCall(v.calls, &batch[i])
	}
	return nil
}

func appendToolCall(calls []toolCall, msg *mcpMessage) []toolCall {
	if msg.Method != "tools/call" {
		return calls
	}
	var args struct {
		Operation any `json:"operation"`
	}
	_ = json.Unmarshal(msg.Params.Arguments, &args) // not an object: no operation
	op, _ := args.Operation.(string)
	return append(calls, toolCall{tool: msg.Params.Name, operation: op, arguments: msg.Params.Arguments})
}
