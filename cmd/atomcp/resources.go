package main

import (
	"fmt"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/spf13/cobra"
)

func newResourcesCmd() *cobra.Command {
	f := &clientFlags{}
	cmd := &cobra.Command{
		Use:   "resources",
		Short: "List and read the resources of a remote MCP server (logs in with OAuth when it asks)",
	}
	f.bind(cmd)
	cmd.AddCommand(&cobra.Command{
		Use:   "list URL",
		Short: "List the resources and resource templates of the MCP server at URL",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := f.connect(cmd.Context(), cmd, args[0], false)
			if err != nil {
				return err
			}
			defer s.Close()
			var resources []*mcp.Resource
			var templates []*mcp.ResourceTemplate
			caps := s.InitializeResult()
			if caps == nil || caps.Capabilities == nil || caps.Capabilities.Resources != nil {
				for r, err := range s.Resources(cmd.Context(), nil) {
					if err != nil {
						return s.Describe(err)
					}
					resources = append(resources, r)
				}
				for t, err := range s.ResourceTemplates(cmd.Context(), nil) {
					if err != nil {
						return s.Describe(err)
					}
					templates = append(templates, t)
				}
			}
			out := cmd.OutOrStdout()
			if f.jsonOut {
				if resources == nil {
					resources = []*mcp.Resource{}
				}
				if templates == nil {
					templates = []*mcp.ResourceTemplate{}
				}
				return printJSON(out, map[string]any{"resources": resources, "resourceTemplates": templates})
			}
			if len(resources) == 0 && len(templates) == 0 {
				fmt.Fprintln(out, "The server offers no resources.")
				return nil
			}
			for _, r := range resources {
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
			if len(templates) > 0 {
				if len(resources) > 0 {
					fmt.Fprintln(out)
				}
				fmt.Fprintln(out, "Templates:")
				for _, t := range templates {
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
			return nil
		},
	}, &cobra.Command{
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
