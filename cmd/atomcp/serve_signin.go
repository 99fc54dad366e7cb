package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/atomcp/atomcp/internal/authserver"
	"github.com/atomcp/atomcp/internal/config"
)

// logSigninMethods says at start-up how people sign in, and the callback
// URL to register with each provider; it checks each provider (discovery,
// issuer) in the background so that a slow one does not delay start-up.
func logSigninMethods(ctx context.Context, as *authserver.Server, stderr io.Writer, logger *slog.Logger) {
	var methods []string
	if as.PasswordSignin() {
		methods = append(methods, "password")
	}
	for _, c := range as.Connectors() {
		methods = append(methods, c.Name())
	}
	logger.Log(ctx, startupLevel(ctx), "sign-in methods", "methods", strings.Join(methods, ", "))
	var banner strings.Builder
	if len(as.Connectors()) > 0 {
		fmt.Fprintf(&banner, "\n  Sign-in: %s.\n", strings.Join(methods, ", "))
	}
	for _, c := range as.Connectors() {
		logger.Log(ctx, startupLevel(ctx), "sign-in provider", "connector", c.ID(), "name", c.Name(), "callback_url", as.CallbackURL())
		fmt.Fprintf(&banner, "  %s: register the callback (redirect) URL %s\n", c.Name(), as.CallbackURL())
		go func() {
			cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			if err := c.Check(cctx); err != nil {
				logger.Warn("sign-in provider check failed; its button will show an error until it answers", "connector", c.ID(), "err", err)
			}
		}()
	}
	if banner.Len() > 0 && isTerminal(stderr) {
		fmt.Fprintln(stderr, banner.String())
	}
}

// authKitRegistrationAdvice reads AuthKit's authorization server metadata
// and, when it offers neither Dynamic Client Registration nor Client ID
// Metadata Documents, returns what to do: MCP clients would otherwise fail
// at client registration ("Cannot transition from step:
// client_registration"). "" means registration is possible, or the
// metadata could not be read (doctor says more).
func authKitRegistrationAdvice(ctx context.Context, hc *http.Client, domain string) string {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(domain, "/")+"/.well-known/oauth-authorization-server", nil)
	if err != nil {
		return ""
	}
	resp, err := hc.Do(req)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return ""
	}
	var meta struct {
		RegistrationEndpoint string `json:"registration_endpoint"`
		CIMD                 bool   `json:"client_id_metadata_document_supported"`
	}
	if json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&meta) != nil || meta.RegistrationEndpoint != "" || meta.CIMD {
		return ""
	}
	return "AuthKit at " + domain + " offers neither Dynamic Client Registration nor Client ID Metadata Documents, so MCP clients will fail at client registration (\"Cannot transition from step: client_registration\"). Fix it either way: " +
		"(1) in the WorkOS dashboard, enable Dynamic Client Registration (Connect → Configuration); or " +
		"(2) set ATOMCP_AUTH=embedded: atomcp then is the authorization server itself and signs people in through AuthKit with the WORKOS_CLIENT_ID and WORKOS_API_KEY already in your .env " +
		"(register " + "{base_url}" + authserver.PathCallback + " as a redirect URI of that AuthKit application)."
}

// warnAuthKitRegistration runs authKitRegistrationAdvice in the background
// at start-up with ATOMCP_AUTH=authkit and logs (and on a terminal prints)
// the advice.
func warnAuthKitRegistration(ctx context.Context, cfg *config.Config, stderr io.Writer, logger *slog.Logger) {
	go func() {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		advice := authKitRegistrationAdvice(cctx, &http.Client{Timeout: 10 * time.Second}, cfg.AuthKitDomain)
		if advice == "" {
			return
		}
		advice = strings.ReplaceAll(advice, "{base_url}", cfg.BaseURL)
		logger.Warn(advice)
		if isTerminal(stderr) {
			fmt.Fprintf(stderr, "\n  %s\n\n", advice)
		}
	}()
}
