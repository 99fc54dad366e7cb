// Command atomcp is the Atoms MCP server and its companion tools.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/atomcp/atomcp/internal/clientcli"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRootCmd().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "atomcp:", err)
		os.Exit(1)
	}
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "atomcp",
		Short:         "The Atoms MCP server: requirements management for AI clients, with OAuth done right",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newServeCmd(), newStdioCmd(), newMigrateCmd(), newSeedCmd(), newVersionCmd(), newUsersCmd(), newClientsCmd(), newKeysCmd())
	root.AddCommand(clientcli.Commands(version)...)
	root.AddCommand(newDoctorCmd())
	root.AddCommand(newTokensCmd())
	root.AddCommand(newDBCmd())
	root.AddCommand(newConfigCmd())
	root.AddCommand(newImportCmd())
	root.AddCommand(newOrgsCmd(), newProjectsCmd(), newAuditCmd())
	// cobra's completion command (bash, zsh, fish, powershell), added now
	// rather than at Execute so that it gets its examples too.
	root.InitDefaultCompletionCmd()
	addExamples(root)
	return root
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintln(cmd.OutOrStdout(), "atomcp", version)
		},
	}
}
