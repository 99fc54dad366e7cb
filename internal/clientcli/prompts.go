package clientcli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/spf13/cobra"
)

func newPromptsCmd(version string) *cobra.Command {
	f := &clientFlags{version: version}
	cmd := &cobra.Command{
		Use:   "prompts",
		Short: "List and get the prompts of a remote MCP server (logs in with OAuth when it asks)",
	}
	f.bind(cmd)
	var argPairs []string
	get := &cobra.Command{
		Use:   "get URL NAME",
		Short: "Get the prompt NAME of the MCP server at URL, with --arg key=value arguments",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			arguments := map[string]string{}
			for _, p := range argPairs {
				k, v, ok := strings.Cut(p, "=")
				if !ok || k == "" {
					return fmt.Errorf("--arg %q is not key=value", p)
				}
				arguments[k] = v
			}
			s, err := f.connect(cmd.Context(), cmd, args[0], false)
			if err != nil {
				return err
			}
			defer s.Close()
			res, err := s.GetPrompt(cmd.Context(), &mcp.GetPromptParams{Name: args[1], Arguments: arguments})
			if err != nil {
				return s.Describe(err)
			}
			out := cmd.OutOrStdout()
			if f.jsonOut {
				return printJSON(out, res)
			}
			if res.Description != "" {
				fmt.Fprintf(out, "# %s\n\n", res.Description)
			}
			for _, m := range res.Messages {
				fmt.Fprintf(out, "[%s]\n", m.Role)
				printContent(out, []mcp.Content{m.Content})
				fmt.Fprintln(out)
			}
			return nil
		},
	}
	get.Flags().StringArrayVar(&argPairs, "arg", nil, "prompt argument key=value (repeatable)")
	cmd.AddCommand(listCommand(f, listing[[]*mcp.Prompt]{
		short:   "List the prompts of the MCP server at URL",
		offered: func(c *mcp.ServerCapabilities) bool { return c.Prompts != nil },
		fetch: func(ctx context.Context, s *clientSession) ([]*mcp.Prompt, error) {
			return collect(s, s.Prompts(ctx, nil))
		},
		json: func(prompts []*mcp.Prompt) any { return map[string]any{"prompts": orEmpty(prompts)} },
		text: func(out io.Writer, prompts []*mcp.Prompt) {
			if len(prompts) == 0 {
				fmt.Fprintln(out, "The server offers no prompts.")
				return
			}
			for _, p := range prompts {
				fmt.Fprintf(out, "%s", p.Name)
				if d := firstLine(p.Description, 100); d != "" {
					fmt.Fprintf(out, " — %s", d)
				}
				fmt.Fprintln(out)
				var as []string
				for _, a := range p.Arguments {
					mark := ""
					if a.Required {
						mark = "*"
					}
					as = append(as, a.Name+mark)
				}
				if len(as) > 0 {
					fmt.Fprintf(out, "    arguments: %s\n", strings.Join(as, ", "))
				}
			}
		},
	}), get)
	return cmd
}
