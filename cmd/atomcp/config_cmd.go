package main

import (
	"encoding/json"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/atomcp/atomcp/internal/config"
)

func newConfigCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Inspect the configuration atomcp serve would run with",
		Args:  cobra.NoArgs,
	}
	var asJSON bool
	show := &cobra.Command{
		Use:   "show",
		Short: "Print every setting: its effective value and where it came from (flag, variable, .env or default); secrets as set/unset",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(cmd.Flags(), os.Environ(), ".env")
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(cfg)
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SETTING\tVALUE\tSOURCE")
			for _, a := range cfg.LogAttrs() {
				var value, source string
				for _, g := range a.Value.Group() {
					switch g.Key {
					case "value":
						value = g.Value.String()
					case "source":
						source = g.Value.String()
					}
				}
				if value == "" {
					value = "-"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\n", a.Key, value, source)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			for _, w := range cfg.Warnings {
				fmt.Fprintln(out, "warning:", w)
			}
			return nil
		},
	}
	config.BindFlags(show.Flags())
	show.Flags().BoolVar(&asJSON, "json", false, "print JSON: {setting: {value, source}}")
	cmd.AddCommand(show)
	return cmd
}
