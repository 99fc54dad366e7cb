package clientcli

import (
	"context"
	"fmt"
	"io"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/spf13/cobra"
)

func newResourcesCmd(version string) *cobra.Command {
	f := &clientFlags{version: version}
	cmd := &cobra.Command{
		Use:   "resources",
		Short: "List and read the resources of a remote MCP server (logs in with OAuth when it asks)",
	}
	f.bind(cmd)
	cmd.AddCommand(listCommand(f, listing[resourceList]{
		short:   "List the resources and resource templates of the MCP server at URL",
		offered: func(c *mcp.ServerCapabilities) bool { return c.Resources != nil },
		fetch:   listResources,
		json: func(l resourceList) any {
			return map[string]any{"resources": orEmpty(l.resources), "resourceTemplates": orEmpty(l.templates)}
		},
		text: printResourceList,
	}), &cobra.Command{
		Use:   "read URL RESOURCE_URI",
		Short: "Read the resource RESOURCE_URI of the MCP server at URL",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := f.connect(cmd.Context(), cmd, args[0], false)
			if err != nil {
				return err
			}
			defer s.Close()
			res, err := s.ReadResource(cmd.Context(), &mcp.ReadResourceParams{URI: args[1]})
			if err != nil {
				return s.Describe(err)
			}
			out := cmd.OutOrStdout()
			if f.jsonOut {
				return printJSON(out, res)
			}
			for _, c := range res.Contents {
				printResourceContents(out, c)
			}
			return nil
		},
	})
	return cmd
}

// resourceList is what `resources list` lists.
type resourceList struct {
	resources []*mcp.Resource
	templates []*mcp.ResourceTemplate
}

func listResources(ctx context.Context, s *clientSession) (resourceList, error) {
	var l resourceList
	var err error
	if l.resources, err = collect(s, s.Resources(ctx, nil)); err != nil {
		return l, err
	}
	l.templates, err = collect(s, s.ResourceTemplates(ctx, nil))
	return l, err
}

func printResourceList(out io.Writer, l resourceList) {
	if len(l.resources) == 0 && len(l.templates) == 0 {
		fmt.Fprintln(out, "The server offers no resources.")
		return
	}
	for _, r := range l.resources {
		fmt.Fprintf(out, "%s", r.URI)
		if r.Name != "" {
			fmt.Fprintf(out, " — %s", r.Name)
		}
		if r.MIMEType != "" {
			fmt.Fprintf(out, " (%s)", r.MIMEType)
		}
		fmt.Fprintln(out)
		if d := firstLine(r.Description, 100); d != "" {
			fmt.Fprintf(out, "    %s\n", d)
		}
	}
	if len(l.templates) > 0 {
		if len(l.resources) > 0 {
			fmt.Fprintln(out)
		}
		fmt.Fprintln(out, "Templates:")
		for _, t := range l.templates {
			fmt.Fprintf(out, "%s", t.URITemplate)
			if t.Name != "" {
				fmt.Fprintf(out, " — %s", t.Name)
			}
			fmt.Fprintln(out)
			if d := firstLine(t.Description, 100); d != "" {
				fmt.Fprintf(out, "    %s\n", d)
			}
		}
	}
}
