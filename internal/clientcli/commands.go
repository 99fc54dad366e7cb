// Package clientcli is the `atomcp tools|tasks|resources|prompts|login|logout`
// client commands: an MCP client, with OAuth, for any remote MCP server.
package clientcli

import (
	"context"
	"encoding/json"
	"io"
	"iter"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/spf13/cobra"
)

// Commands returns the client commands. version is atomcp's version, which
// the client reports to the servers it talks to. The commands print to the
// command's OutOrStdout and ErrOrStderr.
func Commands(version string) []*cobra.Command {
	return []*cobra.Command{
		newLoginCmd(version), newLogoutCmd(),
		newToolsCmd(version), newTasksCmd(version), newResourcesCmd(version), newPromptsCmd(version),
	}
}

// listing is what a list subcommand lists: T is everything it fetches.
type listing[T any] struct {
	short string // of `list URL`
	// offered reports whether the server's capabilities include what is
	// listed; a server that does not offer it has nothing to list, so it is
	// not asked. nil: always ask.
	offered func(*mcp.ServerCapabilities) bool
	fetch   func(ctx context.Context, s *clientSession) (T, error)
	// json is what --json prints; text prints for a person.
	json func(v T) any
	text func(w io.Writer, v T)
}

// listCommand is the `list URL` subcommand of a listing: connect, check
// the capability, fetch, and print JSON or text.
func listCommand[T any](f *clientFlags, l listing[T]) *cobra.Command {
	return &cobra.Command{
		Use:   "list URL",
		Short: l.short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := f.connect(cmd.Context(), cmd, args[0], false)
			if err != nil {
				return err
			}
			defer s.Close()
			var v T
			ir := s.InitializeResult()
			if l.offered == nil || ir == nil || ir.Capabilities == nil || l.offered(ir.Capabilities) {
				if v, err = l.fetch(cmd.Context(), s); err != nil {
					return err
				}
			}
			out := cmd.OutOrStdout()
			if f.jsonOut {
				return printJSON(out, l.json(v))
			}
			l.text(out, v)
			return nil
		},
	}
}

// collect gathers the items of a paginated list, describing a failure in
// one sentence.
func collect[T any](s *clientSession, items iter.Seq2[T, error]) ([]T, error) {
	var out []T
	for it, err := range items {
		if err != nil {
			return nil, s.Describe(err)
		}
		out = append(out, it)
	}
	return out, nil
}

// orEmpty turns a nil slice into an empty one, so that JSON shows [] and
// not null.
func orEmpty[T any](v []T) []T {
	if v == nil {
		return []T{}
	}
	return v
}

// printJSON writes v as indented JSON.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// firstLine is the first line of s, cut at n runes.
func firstLine(s string, n int) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = strings.TrimSpace(s[:i])
	}
	r := []rune(s)
	if len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
