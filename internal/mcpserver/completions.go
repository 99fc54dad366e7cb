package mcpserver

import (
	"context"
	"strings"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// maxCompletionValues is the most values one completion/complete answer may
// carry (the MCP specification's limit).
const maxCompletionValues = 100

// CompleteFunc suggests values for one argument. req.Params.Argument.Value
// is what the user has typed so far; req.Params.Context, when present,
// holds the arguments already chosen; req.Session says who is asking.
type CompleteFunc func(ctx context.Context, req *mcp.CompleteRequest) ([]string, error)

// Completions answers completion/complete for the arguments of prompts and
// resource templates. A server built with a non-nil Completions advertises
// the completions capability; one built without it does not.
//
// It is safe for concurrent use: completers may be added while the server
// is serving.
type Completions struct {
	mu sync.RWMutex
	m  map[completionKey]CompleteFunc
}

type completionKey struct {
	refType  string // "ref/prompt" or "ref/resource"
	name     string // prompt name or URI template
	argument string
}

// NewCompletions returns an empty set of completers.
func NewCompletions() *Completions {
	return &Completions{m: make(map[completionKey]CompleteFunc)}
}

// Prompt registers f for argument arg of the prompt named name.
func (c *Completions) Prompt(name, arg string, f CompleteFunc) {
	c.add(completionKey{"ref/prompt", name, arg}, f)
}

// ResourceTemplate registers f for variable arg of the resource template
// whose URI template is uriTemplate.
func (c *Completions) ResourceTemplate(uriTemplate, arg string, f CompleteFunc) {
	c.add(completionKey{"ref/resource", uriTemplate, arg}, f)
}

func (c *Completions) add(k completionKey, f CompleteFunc) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[k] = f
}

// OneOf completes from a fixed list (an enum argument): the values that
// start with what was typed, ignoring case, in the list's order.
func OneOf(values ...string) CompleteFunc {
	return func(_ context.Context, req *mcp.CompleteRequest) ([]string, error) {
		typed := req.Params.Argument.Value
		out := []string{}
		for _, v := range values {
			if strings.HasPrefix(strings.ToLower(v), strings.ToLower(typed)) {
				out = append(out, v)
			}
		}
		return out, nil
	}
}

// handle is the server's CompletionHandler. An argument nobody registered
// a completer for gets an empty list: the specification allows a server to
// have no suggestions, and a client then lets the user type freely.
func (c *Completions) handle(ctx context.Context, req *mcp.CompleteRequest) (*mcp.CompleteResult, error) {
	p := req.Params
	k := completionKey{refType: p.Ref.Type, name: p.Ref.Name, argument: p.Argument.Name}
	if p.Ref.Type == "ref/resource" {
		k.name = p.Ref.URI
	}
	c.mu.RLock()
	f := c.m[k]
	c.mu.RUnlock()
	values := []string{}
	if f != nil {
		got, err := f(ctx, req)
		if err != nil {
			return nil, err
		}
		if got != nil {
			values = got
		}
	}
	res := &mcp.CompleteResult{Completion: mcp.CompletionResultDetails{Values: values, Total: len(values)}}
	if len(values) > maxCompletionValues {
		res.Completion.Values = values[:maxCompletionValues]
		res.Completion.HasMore = true
	}
	return res, nil
}
