package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/atomcp/atomcp/internal/auth"
	"github.com/atomcp/atomcp/internal/authserver"
	"github.com/atomcp/atomcp/internal/config"
	"github.com/atomcp/atomcp/internal/store"
	"github.com/atomcp/atomcp/internal/store/storeopen"
)

// summary is the start-up summary a person at a terminal reads: where to
// connect, how callers sign in, where the data is, what to do next.
type summary struct {
	Version, URL, Auth, SignIn, Database, Operations, Next string
}

// summarize describes the running server. It looks at the store only to
// tell a first start (no account yet) from a later one.
func summarize(ctx context.Context, cfg *config.Config, st store.Store, embedded *authserver.Server, provider *auth.Provider, obs *observability) summary {
	s := summary{Version: version, URL: cfg.MCPURL(), Database: storeopen.Redact(cfg.DatabaseURL)}
	doctor := "check it as a client would: atomcp doctor " + cfg.MCPURL()
	s.Next = "connect an MCP client to " + cfg.MCPURL() + "; " + doctor
	switch cfg.Auth {
	case config.AuthNone:
		s.Auth = "none: every request acts as the local user"
		s.SignIn = "none needed"
	case config.AuthEmbedded:
		s.Auth = "embedded authorization server, issuer " + embedded.Issuer()
		var methods []string
		if embedded.PasswordSignin() {
			methods = append(methods, "email and password")
		}
		for _, c := range embedded.Connectors() {
			methods = append(methods, c.Name())
		}
		s.SignIn = strings.Join(methods, ", ") + " on this server's pages; personal access tokens (atomcp tokens create)"
		if n, err := st.CountLocalAccounts(ctx); err == nil && n == 0 {
			s.Next = "create the first account with the setup link above, or: atomcp users add EMAIL --owner"
		}
	case config.AuthAuthKit:
		s.Auth = "AuthKit, issuer " + cfg.AuthKitDomain
		s.SignIn = "AuthKit's sign-in (WorkOS)"
	case config.AuthOIDC:
		s.Auth = "OpenID Connect, issuer " + cfg.OIDCIssuer
		s.SignIn = "the issuer's sign-in"
	case config.AuthStatic:
		s.Auth = "static bearer tokens"
	}
	if names := staticTokenNames(cfg); len(names) > 0 && cfg.Auth != config.AuthNone {
		if s.SignIn != "" {
			s.SignIn += "; "
		}
		s.SignIn += "static tokens " + strings.Join(names, ", ")
	}
	var ops []string
	switch {
	case obs.metrics == nil:
		ops = append(ops, "metrics off")
	case cfg.MetricsOnMain():
		ops = append(ops, "metrics "+cfg.BaseURL+"/metrics")
	default:
		ops = append(ops, "metrics http://"+cfg.MetricsAddr+"/metrics")
	}
	if obs.tracing.Enabled() {
		ops = append(ops, "traces to "+cfg.OTLPEndpoint)
	} else {
		ops = append(ops, "tracing off")
	}
	ops = append(ops, "/healthz, /readyz")
	s.Operations = strings.Join(ops, "; ")
	return s
}

func staticTokenNames(cfg *config.Config) []string {
	var names []string
	for n := range cfg.StaticTokens {
		names = append(names, n)
	}
	if cfg.InternalToken.IsSet() {
		names = append(names, auth.InternalTokenName)
	}
	sort.Strings(names)
	return names
}

// writeSummary prints the summary: nine lines at most.
func writeSummary(w io.Writer, s summary) {
	fmt.Fprintf(w, "\natomcp %s is serving MCP at %s\n", s.Version, s.URL)
	fmt.Fprintf(w, "  auth:       %s\n", s.Auth)
	if s.SignIn != "" {
		fmt.Fprintf(w, "  sign-in:    %s\n", s.SignIn)
	}
	fmt.Fprintf(w, "  database:   %s\n", s.Database)
	fmt.Fprintf(w, "  operations: %s\n", s.Operations)
	fmt.Fprintf(w, "  next:       %s\n", s.Next)
	fmt.Fprintf(w, "  settings:   atomcp config show (or --log-level=debug); stop with Ctrl-C\n\n")
}
