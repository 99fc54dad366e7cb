package main

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"time"

	"github.com/spf13/cobra"

	"github.com/atomcp/atomcp/internal/atoms"
	"github.com/atomcp/atomcp/internal/auth"
	"github.com/atomcp/atomcp/internal/authserver"
	"github.com/atomcp/atomcp/internal/config"
	"github.com/atomcp/atomcp/internal/fanout"
	"github.com/atomcp/atomcp/internal/httpserver"
	"github.com/atomcp/atomcp/internal/mcpserver"
	"github.com/atomcp/atomcp/internal/netaddr"
	"github.com/atomcp/atomcp/internal/store"
	"github.com/atomcp/atomcp/internal/store/postgres"
	"github.com/atomcp/atomcp/internal/tasks"
)

func newServeCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve MCP over Streamable HTTP (default http://127.0.0.1:8000/api/mcp)",
		Args:  cobra.NoArgs,
		RunE:  runServe,
	}
	config.BindFlags(cmd.Flags())
	return cmd
}

func runServe(cmd *cobra.Command, _ []string) error {
	ctx := cmd.Context()
	cfg, logger, err := loadConfig(cmd)
	if err != nil {
		return err
	}
	applyMemorySettings(cfg, logger)
	// A person at a terminal gets a short summary; logs read by machines
	// (JSON, not a terminal) keep every start-up line at info.
	human := cfg.LogFormat != config.LogFormatJSON && isTerminal(cmd.ErrOrStderr())
	if human {
		ctx = withStartupLevel(ctx, slog.LevelDebug)
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s (ATOMCP_ADDR): %w", cfg.Addr, err)
	}
	defer ln.Close()
	loopback := listensOnLoopback(ln.Addr())
	if cfg.IsDefault(config.KeyBaseURL) {
		// The default base URL names the configured address; with port 0 the
		// real port is only known now.
		cfg.BaseURL = "http://" + loopbackDisplay(ln.Addr())
	}
	if cfg.Auth == config.AuthNone && !loopback {
		if !cfg.AllowUnauthenticatedRemote {
			return fmt.Errorf("refusing to serve without authentication on %s, which other machines can reach; "+
				"listen on 127.0.0.1, or pass --allow-unauthenticated-remote (ATOMCP_ALLOW_UNAUTHENTICATED_REMOTE=true) if something in front of atomcp authenticates", ln.Addr())
		}
		logger.Warn("serving WITHOUT authentication on a non-loopback address: anyone who can reach it acts as the local user", "addr", ln.Addr().String())
	}

	obs, logger, err := newObservability(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer func() {
		c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := obs.tracing.Shutdown(c); err != nil {
			logger.Warn("traces not exported at shutdown", "err", err)
		}
	}()
	st, svc, closeAll, err := openService(ctx, cfg, logger, obs)
	if err != nil {
		return err
	}
	defer closeAll()
	// The authorization server's storage is measured too; st itself stays
	// unmeasured for /readyz and the scrape-time gauges.
	measured := obs.wrapStore(st)
	caller := mcpserver.LocalIdentity
	var authn *auth.Provider
	var embedded *authserver.Server
	if cfg.Auth == config.AuthEmbedded {
		if embedded, err = newEmbeddedAuthServer(ctx, cfg, measured, svc, cmd.ErrOrStderr(), logger, obs); err != nil {
			return err
		}
	}
	if cfg.Auth != config.AuthNone {
		if authn, err = newAuthProvider(ctx, cfg, logger, embedded, obs); err != nil {
			return err
		}
		if cfg.Auth == config.AuthAuthKit {
			warnAuthKitRegistration(ctx, cfg, cmd.ErrOrStderr(), logger)
		}
		caller = mcpserver.TokenIdentity
	} else if cfg.InternalToken.IsSet() || len(cfg.StaticTokens) > 0 {
		logger.Warn("internal/static tokens are ignored because auth is none: every request acts as the local user")
	}
	// Tasks (the MCP tasks extension, docs/tasks.md) are rows in the
	// database: they outlive a restart and any replica answers for them.
	rt := tasks.New(tasks.Options{Store: measured, Owner: mcpserver.TaskOwner(caller), TTL: cfg.TaskTTL, Logger: logger})
	if err := rt.Start(ctx); err != nil {
		return err
	}
	defer func() {
		// Before the database closes (closeAll): a task still running is
		// recorded as failed, which it is once this process is gone.
		stop, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout+time.Second)
		defer cancel()
		if err := rt.Close(stop); err != nil {
			logger.Warn("tasks at shutdown", "err", err)
		}
	}()
	if stop, err := startFanout(ctx, cfg, st, svc, logger); err != nil {
		return err
	} else if stop != nil {
		defer stop()
	}
	server := mcpserver.New(svc, mcpserver.Options{Version: version, Logger: logger, Caller: caller, Tasks: rt, RequestTimeout: cfg.RequestTimeout})
	// The probe lists the same tools (without the tasks runtime, whose
	// Install must happen once).
	probe := mcpserver.New(svc, mcpserver.Options{Version: version, Caller: caller})
	obs.instrument(ctx, server, probe, st, authn, logger)
	if cfg.MetricsEnabled() && !cfg.MetricsOnMain() {
		stopMetrics, err := serveMetrics(ctx, cfg.MetricsAddr, obs.metrics, logger)
		if err != nil {
			return err
		}
		defer stopMetrics()
	}
	opts := httpserver.Options{
		MCPPath:        cfg.MCPPath,
		BaseURL:        cfg.BaseURL,
		Stateless:      cfg.Stateless,
		MaxBodyBytes:   cfg.MaxBodyBytes,
		SessionTimeout: cfg.SessionTimeout,
		ListenLoopback: loopback,
		AllowedHosts:   cfg.AllowedHosts,
		AllowedOrigins: cfg.AllowedOrigins,
		RequireOrigin:  true, // no credentials with ATOMCP_AUTH=none
		Ready:          st.Ping,
		Checks:         readyChecks(st, embedded, authn),
		Metrics:        obs.metrics,
		Tracing:        obs.tracing,
		Logger:         logger,
		TrustedProxies: cfg.TrustedProxies,
		Limits: httpserver.Limits{
			ReadHeaderTimeout: cfg.ReadHeaderTimeout,
			ReadBodyTimeout:   cfg.ReadBodyTimeout,
			MinBodyRate:       cfg.MinBodyRate,
			IdleTimeout:       cfg.IdleTimeout,
			MaxConnsPerClient: cfg.MaxConnsPerClient,
			Tools:             httpserver.ToolLimits{Rate: cfg.ToolRate, Burst: cfg.ToolBurst, Concurrency: cfg.ToolConcurrency},
		},
	}
	// ATOMCP_EVENT_STORE_BYTES=0 keeps no events; httpserver's 0 is its default.
	opts.EventStoreBytes = cmp.Or(cfg.EventStoreBytes, -1)
	if cfg.MetricsOnMain() {
		opts.MetricsPath = "/metrics"
	}
	if authn != nil {
		// A bearer token, not a cookie, is the credential: any origin may
		// call unless ATOMCP_CORS_ORIGINS narrows it.
		opts.RequireOrigin = len(cfg.AllowedOrigins) > 0 && cfg.AllowedOrigins[0] != "*"
		opts.Auth = authn.Middleware.Wrap
		opts.Routes = authRoutes(authn)
		if embedded != nil {
			maps.Copy(opts.Routes, embedded.Routes())
		}
	}
	front := httpserver.New(server, opts)

	attrs := []any{"version", version, "listen", ln.Addr().String(), "mcp_url", cfg.MCPURL(), "auth", cfg.Auth, "stateless", cfg.Stateless}
	level := startupLevel(ctx)
	logger.Log(ctx, level, "atomcp serving", attrs...)
	logger.Log(ctx, level, "configuration", cfg.LogAttrsAny()...)
	if human {
		writeSummary(cmd.ErrOrStderr(), summarize(ctx, cfg, st, embedded, authn, obs))
	}
	if err := front.Serve(ctx, ln, cfg.ShutdownTimeout); err != nil {
		return err
	}
	logger.Info("stopped")
	return nil
}

// loopbackDisplay is the address clients on this machine use: 127.0.0.1
// for a wildcard bind.
func loopbackDisplay(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok || tcp.IP.IsUnspecified() {
		_, port, _ := net.SplitHostPort(addr.String())
		return net.JoinHostPort("127.0.0.1", port)
	}
	return tcp.String()
}

// listensOnLoopback reports whether a bound listener is reachable from
// this machine only. It looks at the address actually bound, so a name in
// ATOMCP_ADDR has been resolved already.
func listensOnLoopback(addr net.Addr) bool {
	tcp, ok := addr.(*net.TCPAddr)
	return ok && netaddr.IsLoopbackHost(tcp.IP.String())
}

// startFanout makes the replicas on one PostgreSQL database tell each
// other of the changes they commit, so that a client subscribed to a
// resource on one replica hears of a change made on another. Stateless
// replicas keep no subscriptions, and SQLite has one process: neither
// needs it (stop is nil then).
func startFanout(ctx context.Context, cfg *config.Config, st store.Store, svc *atoms.Service, logger *slog.Logger) (stop func(), err error) {
	pg, ok := st.(*postgres.Store)
	if !ok || cfg.Stateless {
		return nil, nil
	}
	f, err := fanout.Start(ctx, pg.Pool(), svc, logger)
	if err != nil {
		return nil, err
	}
	return f.Stop, nil
}
