// Command atomcp-conformance serves the MCP conformance fixture: atomcp's
// HTTP front and MCP server, built as `atomcp serve` builds them with
// ATOMCP_AUTH=none, plus the tools, resources and prompts that the
// conformance suite's server scenarios call. scripts/test.sh runs the
// suite against it; see docs/conformance.md.
//
// It is a separate binary so that the fixture's test tools never ship in
// atomcp itself. It takes the flags and ATOMCP_* variables of `atomcp serve`
// (no .env file is read), except that the database defaults to a fresh
// file in a temporary directory. When it listens, it prints one line,
//
//	atomcp-conformance serving http://127.0.0.1:PORT/api/mcp
//
// on stdout; logs go to stderr.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/atomcp/atomcp/internal/atoms"
	"github.com/atomcp/atomcp/internal/config"
	"github.com/atomcp/atomcp/internal/conformance"
	"github.com/atomcp/atomcp/internal/httpserver"
	"github.com/atomcp/atomcp/internal/store/storeopen"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "atomcp-conformance:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("atomcp-conformance", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	config.BindFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(fs, os.Environ(), "")
	if err != nil {
		return err
	}
	if cfg.Auth != "none" {
		return fmt.Errorf("the conformance fixture serves without authentication; unset ATOMCP_AUTH or set it to none (got %q)", cfg.Auth)
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	for _, w := range cfg.Warnings {
		logger.Warn(w)
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	defer ln.Close()
	tcp, ok := ln.Addr().(*net.TCPAddr)
	if !ok || !tcp.IP.IsLoopback() {
		return fmt.Errorf("the conformance fixture has no authentication and listens on loopback only, not %s", ln.Addr())
	}
	if cfg.IsDefault(config.KeyBaseURL) {
		cfg.BaseURL = "http://" + tcp.String() // the real port, when the address asked for port 0
	}

	dbURL := cfg.DatabaseURL
	if cfg.IsDefault(config.KeyDatabaseURL) {
		dir, err := os.MkdirTemp("", "atomcp-conformance-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		dbURL = filepath.Join(dir, "atomcp.db")
	}
	st, err := storeopen.Open(ctx, dbURL)
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate the database: %w", err)
	}

	// The same front options as `atomcp serve` with ATOMCP_AUTH=none.
	fx := conformance.New(atoms.New(st, atoms.WithLogger(logger)), "conformance", logger, httpserver.Options{
		MCPPath:        cfg.MCPPath,
		BaseURL:        cfg.BaseURL,
		Stateless:      cfg.Stateless,
		MaxBodyBytes:   cfg.MaxBodyBytes,
		SessionTimeout: cfg.SessionTimeout,
		ListenLoopback: true,
		AllowedHosts:   cfg.AllowedHosts,
		AllowedOrigins: cfg.AllowedOrigins,
		RequireOrigin:  true,
		Ready:          st.Ping,
	}, st)
	if err := fx.Tasks.Start(ctx); err != nil {
		return err
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = fx.Tasks.Close(closeCtx)
	}()
	go conformance.NotifyWatched(ctx, fx.MCP, 3*time.Second)

	fmt.Fprintln(stdout, "atomcp-conformance serving", cfg.BaseURL+cfg.MCPPath)
	logger.Info("conformance fixture serving", "url", cfg.BaseURL+cfg.MCPPath, "stateless", cfg.Stateless)
	if err := fx.HTTP.Serve(ctx, ln, 2*time.Second); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}
