package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/atomcp/atomcp/internal/atoms"
)

// Length limits of free-text arguments, in characters (Unicode code
// points, as JSON Schema's maxLength counts). They are far above what a
// person types and bound the work one call can cause: each is stated in
// the tool's input schema (maxLength) and checked before anything else
// runs, with an error that names the argument, its length and the limit.
const (
	// MaxSearchChars bounds search terms and questions.
	MaxSearchChars = 1000
	// MaxNameChars bounds ids, names and other short arguments.
	MaxNameChars = 500
)

// maxLengthOf is the limit of a string property by name; names not listed
// get MaxNameChars. Entity fields (under data and batch) have their
// limits set from their kind by fieldSchema.
var maxLengthOf = map[string]int{
	"search_term": MaxSearchChars,
	"description": atoms.MaxTextChars,
	"content":     atoms.MaxTextChars,
}

// limitLengths sets maxLength on every string property of s (recursively)
// that has neither a limit nor an enum.
func limitLengths(name string, s *jsonschema.Schema) {
	if s == nil {
		return
	}
	if s.MaxLength == nil && len(s.Enum) == 0 && (s.Type == "string" || containsString(s.Types, "string")) {
		n, ok := maxLengthOf[name]
		if !ok {
			n = MaxNameChars
		}
		s.MaxLength = &n
	}
	for pname, p := range s.Properties {
		limitLengths(pname, p)
	}
	limitLengths(name, s.Items)
	limitLengths(name, s.AdditionalProperties)
}

func containsString(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// argLengths checks the lengths of a tools/call's arguments against the
// maxLength of its tool's schema before go-sdk validates them: go-sdk's
// own message quotes the whole value (a 1 MB search term comes back in
// the error), where this one says which argument, how long and the limit.
type argLengths struct {
	schemas map[string]*jsonschema.Schema // by tool name; written only during Register
}

// addTool adds a tool whose string arguments have length limits, with its
// input schema made portable (after the limits: limitLengths reads type
// arrays), through addRawTool (go-sdk's low-level registration, arguments
// decoded once).
func addTool[In any](s *mcp.Server, d Deps, t *mcp.Tool, h mcp.ToolHandlerFor[In, any]) {
	if schema, ok := t.InputSchema.(*jsonschema.Schema); ok {
		limitLengths("", schema)
		portable(schema)
		if d.lengths != nil {
			d.lengths.schemas[t.Name] = schema
		}
	}
	addRawTool(s, t, h)
}

// middleware answers a tools/call with an argument over its limit with a
// tool error (as go-sdk answers other invalid arguments, so that a model
// can correct its call) without running the tool.
func (l *argLengths) middleware(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		if call, ok := req.(*mcp.CallToolRequest); ok && call.Params != nil {
			if schema := l.schemas[call.Params.Name]; schema != nil {
				if err := checkLengths("", schema, call.Params.Arguments); err != nil {
					return failureResult(err.Error(), errorValidation), nil
				}
			}
		}
		return next(ctx, method, req)
	}
}

// LengthError is an argument longer than its limit.
type LengthError struct {
	Arg    string // path of the argument: search_term, data.name, batch[2].description
	Length int    // characters
	Limit  int
}

func (e *LengthError) Error() string {
	return fmt.Sprintf("%s is %d characters long; the limit is %d characters", e.Arg, e.Length, e.Limit)
}

// checkLengths walks raw along s and returns the first string longer than
// its maxLength. Values that do not match the schema's shape are left to
// the schema validation that follows.
func checkLengths(path string, s *jsonschema.Schema, raw json.RawMessage) error {
	if s == nil || len(raw) == 0 {
		return nil
	}
	// A nullable argument's type and keywords are in anyOf branches (portable).
	for _, b := range s.AnyOf {
		if err := checkLengths(path, b, raw); err != nil {
			return err
		}
	}
	switch raw[0] {
	case '"':
		if s.MaxLength == nil || len(raw)-2 <= *s.MaxLength {
			// Never more characters than bytes: no need to decode.
			return nil
		}
		var str string
		if json.Unmarshal(raw, &str) != nil {
			return nil
		}
		if n := utf8.RuneCountInString(str); n > *s.MaxLength {
			if path == "" {
				path = "the argument"
			}
			return &LengthError{Arg: path, Length: n, Limit: *s.MaxLength}
		}
	case '{':
		if s.Properties == nil && s.AdditionalProperties == nil {
			return nil
		}
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) != nil {
			return nil
		}
		for k, v := range m {
			p := s.Properties[k]
			if p == nil {
				p = s.AdditionalProperties
			}
			if err := checkLengths(join(path, k), p, v); err != nil {
				return err
			}
		}
	case '[':
		if s.Items == nil {
			return nil
		}
		var l []json.RawMessage
		if json.Unmarshal(raw, &l) != nil {
			return nil
		}
		for i, v := range l {
			if err := checkLengths(fmt.Sprintf("%s[%d]", path, i), s.Items, v); err != nil {
				return err
			}
		}
	}
	return nil
}

func join(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}
