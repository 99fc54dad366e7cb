package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/atomcp/atomcp/internal/atoms"
	"github.com/atomcp/atomcp/internal/authserver"
	"github.com/atomcp/atomcp/internal/authserver/connector"
	"github.com/atomcp/atomcp/internal/config"
	"github.com/atomcp/atomcp/internal/netaddr"
	"github.com/atomcp/atomcp/internal/store"
	"github.com/atomcp/atomcp/internal/telemetry"
)

// newEmbeddedAuthServer builds the embedded authorization server
// (ATOMCP_AUTH=embedded): issuer = the public base URL, audience = the MCP
// URL. stderr is where start-up messages go; the one-time setup link goes
// only to a terminal.
func newEmbeddedAuthServer(ctx context.Context, cfg *config.Config, st store.Store, svc *atoms.Service, stderr io.Writer, logger *slog.Logger, obs *observability) (*authserver.Server, error) {
	kek, _, err := loadSecretKey(cfg, logger)
	if err != nil {
		return nil, err
	}
	as, err := authserver.New(ctx, authserver.Options{
		SecretKey:        kek,
		Issuer:           cfg.BaseURL,
		Resource:         cfg.MCPURL(),
		ResourceOK:       resourceMatcher(cfg),
		Store:            st,
		Atoms:            svc,
		Logger:           logger,
		AccessTokenTTL:   cfg.AccessTokenTTL,
		RefreshTokenTTL:  cfg.RefreshTokenTTL,
		AllowPrivateCIMD: cfg.CIMDAllowPrivate,
		SetupOutput:      terminalOnly(stderr),
		Connectors:       connector.FromConfig(cfg),
		NoPassword:       !cfg.SigninPassword,
		SigninRules:      authserver.SigninRules{AllowedDomains: cfg.SigninAllowedDomains, NoAutoCreate: !cfg.SigninAutoCreate},
		Event:            obs.metrics.ASEvent,
		CIMDTransport: func(rt http.RoundTripper) http.RoundTripper {
			return telemetry.Transport(obs.metrics, obs.tracing, telemetry.TargetCIMD, rt)
		},
	})
	if err != nil {
		return nil, err
	}
	if cfg.CIMDAllowPrivate {
		logger.Warn("ATOMCP_CIMD_ALLOW_PRIVATE is on: client metadata documents are fetched from private addresses too (for tests only)")
	}
	logSigninMethods(ctx, as, stderr, logger)
	if err := as.PrintSetupLinkIfNeeded(ctx); err != nil {
		return nil, err
	}
	go as.Maintain(ctx, time.Hour)
	return as, nil
}

// resourceMatcher accepts the MCP URL as configured and, when the base URL
// is the default loopback one, the same endpoint on any loopback host name
// (clients configured with localhost and with 127.0.0.1 are both this
// server; the resource server's audience check accepts both as well).
func resourceMatcher(cfg *config.Config) func(string) bool {
	want := strings.TrimSuffix(cfg.MCPURL(), "/")
	loopbackAliases := cfg.IsDefault(config.KeyBaseURL)
	wu, _ := url.Parse(want)
	return func(r string) bool {
		r = strings.TrimSuffix(r, "/")
		if r == want {
			return true
		}
		if !loopbackAliases || wu == nil {
			return false
		}
		u, err := url.Parse(r)
		return err == nil && u.Scheme == wu.Scheme && netaddr.IsLoopbackHost(u.Hostname()) && u.Port() == wu.Port() &&
			u.EscapedPath() == wu.EscapedPath() && u.RawQuery == "" && u.Fragment == ""
	}
}

// terminalOnly returns where the setup link may be printed: stderr when it
// is a terminal, else the process's controlling terminal, else nowhere.
// Never a redirected stderr, which is a log file or a JSON log stream.
func terminalOnly(stderr io.Writer) io.Writer {
	if isTerminal(stderr) {
		return stderr
	}
	tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0)
	if err != nil {
		return nil
	}
	return tty // kept open for the life of the process
}
