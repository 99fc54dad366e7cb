package clientcli

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/spf13/cobra"
)

func newToolsCmd(version string) *cobra.Command {
	f := &clientFlags{version: version}
	cmd := &cobra.Command{
		Use:   "tools",
		Short: "List and call the tools of a remote MCP server (logs in with OAuth when it asks)",
	}
	f.bind(cmd)
	cmd.AddCommand(newToolsListCmd(f), newToolsCallCmd(f))
	return cmd
}

// newToolsListCmd lists whatever the server answers: unlike prompts and
// resources, tools are asked for even when the server does not declare
// them, so that its answer (an error) is shown.
func newToolsListCmd(f *clientFlags) *cobra.Command {
	return listCommand(f, listing[[]*mcp.Tool]{
		short: "List the tools of the MCP server at URL",
		fetch: listTools,
		json:  func(tools []*mcp.Tool) any { return map[string]any{"tools": tools} },
		text: func(out io.Writer, tools []*mcp.Tool) {
			if len(tools) == 0 {
				fmt.Fprintln(out, "The server offers no tools.")
				return
			}
			for _, t := range tools {
				fmt.Fprintf(out, "%s", t.Name)
				if d := firstLine(t.Description, 100); d != "" {
					fmt.Fprintf(out, " — %s", d)
				}
				fmt.Fprintln(out)
				if a := describeArguments(t.InputSchema); a != "" {
					fmt.Fprintf(out, "    arguments: %s\n", a)
				}
			}
		},
	})
}

func listTools(ctx context.Context, s *clientSession) ([]*mcp.Tool, error) {
	return collect(s, s.Tools(ctx, nil))
}

// schemaProps returns the properties (name → type) and required names of
// an input schema as the client received it.
func schemaProps(schema any) (map[string]string, []string) {
	raw, err := json.Marshal(schema)
	if err != nil {
		return nil, nil
	}
	var s struct {
		Properties map[string]struct {
			Type any `json:"type"`
		} `json:"properties"`
		Required []string `json:"required"`
	}
	if json.Unmarshal(raw, &s) != nil {
		return nil, nil
	}
	props := make(map[string]string, len(s.Properties))
	for name, p := range s.Properties {
		switch t := p.Type.(type) {
		case string:
			props[name] = t
		case []any:
			var parts []string
			for _, x := range t {
				if xs, ok := x.(string); ok && xs != "null" {
					parts = append(parts, xs)
				}
			}
			props[name] = strings.Join(parts, "|")
		default:
			props[name] = "any"
		}
	}
	return props, s.Required
}

// describeArguments is "a* (string), b (number)": required first, marked.
func describeArguments(schema any) string {
	props, required := schemaProps(schema)
	names := make([]string, 0, len(props))
	for n := range props {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		ri, rj := slices.Contains(required, names[i]), slices.Contains(required, names[j])
		if ri != rj {
			return ri
		}
		return names[i] < names[j]
	})
	parts := make([]string, 0, len(names))
	for _, n := range names {
		mark := ""
		if slices.Contains(required, n) {
			mark = "*"
		}
		parts = append(parts, fmt.Sprintf("%s%s (%s)", n, mark, props[n]))
	}
	return strings.Join(parts, ", ")
}

func newToolsCallCmd(f *clientFlags) *cobra.Command {
	var argPairs []string
	var jsonArgs string
	var asTask bool
	cmd := &cobra.Command{
		Use:   "call URL NAME",
		Short: "Call the tool NAME of the MCP server at URL",
		Long: `Call the tool NAME of the MCP server at URL.

Arguments come from a JSON object, given as --json '{…}' (or --input '{…}'),
and from --arg key=value (repeatable; it wins over the object). A --arg value is read as the type the tool's input
schema gives the argument: a number, true/false, or JSON for objects and
arrays; a string stays as written. Without a schema type, a value that is
valid JSON is read as JSON, anything else as a string.

--json alone prints the result as JSON; --json followed by an object gives
the arguments (add --input to give them and get JSON output). The exit
status is 1 when the tool reports an error (isError).

--task runs the call as a task (the MCP tasks extension) when the server
offers that for the tool: its status and progress are shown on stderr
while it runs, and its result is printed as above. Ctrl-C stops waiting
but leaves the task running, and says how to pick it up again with
atomcp tasks get URL ID --wait (or stop it with atomcp tasks cancel URL ID).
A server that answers the call at once has its answer printed.`,
		Args: cobra.RangeArgs(2, 3),
		RunE: func(cmd *cobra.Command, args []string) error {
			jsonOut := f.jsonOut
			if len(args) == 3 {
				// atomcp tools call URL NAME --json '{…}': the object is the
				// arguments (a bool --json does not take a value).
				if !f.jsonOut || !strings.HasPrefix(strings.TrimSpace(args[2]), "{") {
					return fmt.Errorf("unexpected argument %q: give tool arguments as --json '{…}' or --arg key=value", args[2])
				}
				if jsonArgs != "" {
					return fmt.Errorf("the arguments are given twice (--json and --input)")
				}
				jsonArgs, jsonOut = args[2], false
			}
			if asTask {
				return callAsTask(cmd, f, args[0], args[1], jsonArgs, argPairs, jsonOut)
			}
			s, err := f.connect(cmd.Context(), cmd, args[0], false)
			if err != nil {
				return err
			}
			defer s.Close()
			name := args[1]
			arguments, err := callArguments(cmd.Context(), s, args[0], name, jsonArgs, argPairs)
			if err != nil {
				return err
			}
			res, err := s.CallTool(cmd.Context(), &mcp.CallToolParams{Name: name, Arguments: arguments})
			if err != nil {
				return s.Describe(err)
			}
			return printToolResult(cmd.OutOrStdout(), name, res, jsonOut)
		},
	}
	cmd.Flags().StringArrayVar(&argPairs, "arg", nil, "argument key=value (repeatable)")
	cmd.Flags().StringVar(&jsonArgs, "input", "", "arguments as a JSON object, '{…}'")
	cmd.Flags().BoolVar(&asTask, "task", false, "run the call as a task (tasks extension): show its progress, print its result; Ctrl-C stops waiting, not the task")
	return cmd
}

// callArguments builds the arguments of a call of the tool name; --arg
// values are typed by the tool's input schema, which is asked for only
// when there are some.
func callArguments(ctx context.Context, s *clientSession, url, name, jsonArgs string, argPairs []string) (map[string]any, error) {
	var schema any
	if len(argPairs) > 0 {
		tools, err := listTools(ctx, s)
		if err != nil {
			return nil, err
		}
		i := slices.IndexFunc(tools, func(t *mcp.Tool) bool { return t.Name == name })
		if i < 0 {
			return nil, fmt.Errorf("the server at %s has no tool %q (atomcp tools list %s shows the tools)", url, name, url)
		}
		schema = tools[i].InputSchema
	}
	return toolArguments(jsonArgs, argPairs, schema)
}

// printToolResult prints the result of the tool name as JSON or for a
// person; a tool error (isError) is an error.
func printToolResult(out io.Writer, name string, res *mcp.CallToolResult, jsonOut bool) error {
	if jsonOut {
		if err := printJSON(out, res); err != nil {
			return err
		}
		if res.IsError {
			return fmt.Errorf("the tool %s reported an error", name)
		}
		return nil
	}
	if res.IsError {
		return fmt.Errorf("the tool %s reported an error: %s", name, strings.TrimSpace(contentText(res.Content)))
	}
	printContent(out, res.Content)
	if res.StructuredContent != nil && !hasText(res.Content) {
		return printJSON(out, res.StructuredContent)
	}
	return nil
}

// toolArguments merges --json (an object) and --arg pairs, typed by schema.
func toolArguments(jsonArgs string, pairs []string, schema any) (map[string]any, error) {
	args := map[string]any{}
	if strings.TrimSpace(jsonArgs) != "" {
		dec := json.NewDecoder(strings.NewReader(jsonArgs))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("the arguments %q are not valid JSON: %v", jsonArgs, err)
		}
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("the arguments must be a JSON object ({…}), not %s", jsonKind(v))
		}
		args = obj
	}
	props, _ := schemaProps(schema)
	for _, p := range pairs {
		key, value, ok := strings.Cut(p, "=")
		if !ok || key == "" {
			return nil, fmt.Errorf("--arg %q is not key=value", p)
		}
		v, err := typedValue(key, value, props[key])
		if err != nil {
			return nil, err
		}
		args[key] = v
	}
	return args, nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case []any:
		return "an array"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return "that"
}

// typedValue reads value as the schema type typ ("" when unknown).
func typedValue(key, value, typ string) (any, error) {
	types := strings.Split(typ, "|")
	has := func(t string) bool { return slices.Contains(types, t) }
	switch {
	case typ == "string":
		return value, nil
	case has("integer") && !has("string"):
		n, err := strconv.ParseInt(value, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("--arg %s=%s: the tool wants an integer", key, value)
		}
		return n, nil
	case has("number") && !has("string"):
		n, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return nil, fmt.Errorf("--arg %s=%s: the tool wants a number", key, value)
		}
		return n, nil
	case has("boolean") && !has("string"):
		b, err := strconv.ParseBool(value)
		if err != nil {
			return nil, fmt.Errorf("--arg %s=%s: the tool wants true or false", key, value)
		}
		return b, nil
	case (has("object") || has("array")) && !has("string"):
		var v any
		if err := json.Unmarshal([]byte(value), &v); err != nil {
			return nil, fmt.Errorf("--arg %s: the tool wants JSON (%s), and %q is not valid JSON", key, typ, value)
		}
		return v, nil
	case has("string"):
		return value, nil
	}
	var v any
	dec := json.NewDecoder(strings.NewReader(value))
	dec.UseNumber()
	if err := dec.Decode(&v); err == nil && !dec.More() {
		if _, err := dec.Token(); err == io.EOF {
			return v, nil
		}
	}
	return value, nil
}

// printContent prints a result's content for a person.
func printContent(w io.Writer, content []mcp.Content) {
	for _, c := range content {
		switch c := c.(type) {
		case *mcp.TextContent:
			fmt.Fprintln(w, c.Text)
		case *mcp.ImageContent:
			fmt.Fprintf(w, "[image %s, %d bytes]\n", c.MIMEType, len(c.Data))
		case *mcp.AudioContent:
			fmt.Fprintf(w, "[audio %s, %d bytes]\n", c.MIMEType, len(c.Data))
		case *mcp.ResourceLink:
			fmt.Fprintf(w, "[resource link %s %s]\n", c.URI, c.Name)
		case *mcp.EmbeddedResource:
			printResourceContents(w, c.Resource)
		default:
			b, _ := json.Marshal(c)
			fmt.Fprintln(w, string(b))
		}
	}
}

func printResourceContents(w io.Writer, rc *mcp.ResourceContents) {
	if rc == nil {
		return
	}
	if rc.Blob != nil {
		fmt.Fprintf(w, "[%s %s, %d bytes; base64: %s]\n", rc.URI, rc.MIMEType, len(rc.Blob), shorten(base64.StdEncoding.EncodeToString(rc.Blob), 60))
		return
	}
	fmt.Fprintln(w, rc.Text)
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func contentText(content []mcp.Content) string {
	var b strings.Builder
	for _, c := range content {
		if t, ok := c.(*mcp.TextContent); ok {
			b.WriteString(t.Text)
			b.WriteString("\n")
		}
	}
	return b.String()
}

func hasText(content []mcp.Content) bool {
	for _, c := range content {
		if _, ok := c.(*mcp.TextContent); ok {
			return true
		}
	}
	return false
}
