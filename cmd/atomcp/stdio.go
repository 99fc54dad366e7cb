package main

import (
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/spf13/cobra"

	"github.com/atomcp/atomcp/internal/config"
	"github.com/atomcp/atomcp/internal/mcpserver"
)

func newStdioCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "stdio",
		Short: "Serve the same tools over stdio for a local client, as the local user",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			cfg, logger, err := loadConfig(cmd) // logs go to stderr: stdout is the protocol
			if err != nil {
				return err
			}
			_, svc, closeAll, err := openService(ctx, cfg, logger, nil)
			if err != nil {
				return err
			}
			defer closeAll()
			server := mcpserver.New(svc, mcpserver.Options{Version: version, Logger: logger, Caller: mcpserver.LocalIdentity})
			err = server.Run(ctx, &mcp.StdioTransport{})
			if ctx.Err() != nil {
				return nil // interrupted: a normal way to stop
			}
			return err
		},
	}
	// No listener, no tokens: only the database and the log.
	config.BindFlagsFor(cmd.Flags(), storeSettings...)
	return cmd
}
