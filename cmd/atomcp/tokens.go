package main

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/atomcp/atomcp/internal/authserver"
	"github.com/atomcp/atomcp/internal/config"
	"github.com/atomcp/atomcp/internal/store"
)

// newTokensCmd is `atomcp tokens`: personal access tokens of the embedded
// authorization server, for callers without a browser.
func newTokensCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tokens",
		Short: "Manage personal access tokens of the embedded authorization server (headless callers)",
		Long: `Personal access tokens are access tokens of the embedded authorization
server for scripts and other callers without a browser: they act as one
account, carry the scopes asked for, are bound to this server's MCP URL and
live longer than the tokens of the OAuth flow (30 days unless --ttl says
otherwise, at most 366). Send one as "Authorization: Bearer <token>".

The token is printed once and never stored. Revoking it takes effect at the
server's next request; disabling its account revokes it too, and so does
"atomcp keys rotate", about an hour later (the old key's grace period).

The token names the server's URL: run "tokens create" with the same
ATOMCP_BASE_URL (or ATOMCP_ADDR) as "serve". With ATOMCP_AUTH=authkit or
oidc there is no embedded authorization server: use ATOMCP_STATIC_TOKENS.`,
	}
	cmd.AddCommand(newTokensCreateCmd(), newTokensListCmd(), newTokensRevokeCmd())
	return cmd
}

func newTokensCreateCmd() *cobra.Command {
	var user, name, scope, ttl string
	var quiet bool
	cmd := adminCmd("create --user EMAIL [--scope SCOPES] [--ttl 30d] [--name NAME]",
		"Create a personal access token and print it once", cobra.NoArgs,
		func(cmd *cobra.Command, st store.Store, _ []string) error {
			cfg, logger, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			issuer, resource, err := tokenAudience(cfg)
			if err != nil {
				return err
			}
			life, err := parseTTL(ttl)
			if err != nil {
				return err
			}
			acct, err := authserver.FindAccount(cmd.Context(), st, user)
			if err != nil {
				return err
			}
			kek, _, err := loadSecretKey(cfg, logger)
			if err != nil {
				return err
			}
			tok, p, err := authserver.CreatePersonalToken(cmd.Context(), st, authserver.PersonalTokenRequest{
				Account: acct, Name: name, Scope: strings.ReplaceAll(scope, ",", " "), TTL: life, Issuer: issuer, Resource: resource,
				KeyRetention: authserver.KeyRetention(cfg.AccessTokenTTL), SecretKey: kek,
			}, time.Now())
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if quiet {
				fmt.Fprintln(out, tok)
				return nil
			}
			fmt.Fprintf(out, "created personal access token %s for %s\n", p.ID, p.Email)
			fmt.Fprintf(out, "scope: %s\nresource: %s\nexpires: %s\n", p.Scope, p.Resource, p.ExpiresAt.Local().Format(time.DateTime+" MST"))
			fmt.Fprintf(out, "token: %s\n", tok)
			fmt.Fprintf(out, "(shown once: it is not stored; send it as Authorization: Bearer <token>; revoke it with `atomcp tokens revoke %s`)\n", p.ID)
			return nil
		})
	f := cmd.Flags()
	f.StringVar(&user, "user", "", "the account (email or id) the token acts as")
	f.StringVar(&name, "name", "", "what the token is for, shown by `tokens list`")
	f.StringVar(&scope, "scope", "", "space- or comma-separated scopes: atoms:read, atoms:write (default both)")
	f.StringVar(&ttl, "ttl", "30d", "lifetime: days (90d) or a Go duration (12h); at most 366d")
	f.BoolVarP(&quiet, "quiet", "q", false, "print only the token (for scripts)")
	// The token's audience is this server's MCP URL.
	config.BindFlagsFor(f, config.KeyBaseURL, config.KeyMCPPath)
	_ = cmd.MarkFlagRequired("user")
	return cmd
}

func newTokensListCmd() *cobra.Command {
	return adminCmd("list", "List personal access tokens (never the tokens themselves)", cobra.NoArgs,
		func(cmd *cobra.Command, st store.Store, _ []string) error {
			tokens, err := authserver.ListPersonalTokens(cmd.Context(), st)
			if err != nil {
				return err
			}
			if len(tokens) == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "no personal access tokens; create one with `atomcp tokens create --user EMAIL`")
				return nil
			}
			now := time.Now()
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tUSER\tSCOPE\tSTATUS\tCREATED\tEXPIRES")
			for _, p := range tokens {
				email := p.Email
				if email == "" {
					email = "-"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.ID, p.Name, email, p.Scope, p.Status(now),
					p.CreatedAt.Local().Format(time.DateTime), p.ExpiresAt.Local().Format(time.DateTime))
			}
			return tw.Flush()
		})
}

func newTokensRevokeCmd() *cobra.Command {
	return adminCmd("revoke ID", "Revoke a personal access token; a running server refuses it at once", cobra.ExactArgs(1),
		func(cmd *cobra.Command, st store.Store, args []string) error {
			p, err := authserver.RevokePersonalToken(cmd.Context(), st, args[0], time.Now())
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "revoked %s (%s, %s)\n", p.ID, p.Name, p.Email)
			return nil
		})
}

// tokenAudience returns the issuer and resource a token must carry to be
// accepted by `atomcp serve` with the same configuration.
func tokenAudience(cfg *config.Config) (issuer, resource string, err error) {
	if cfg.Auth != config.AuthEmbedded {
		return "", "", fmt.Errorf("ATOMCP_AUTH is %s: personal access tokens come from the embedded authorization server (ATOMCP_AUTH=embedded); "+
			"with a remote identity provider give headless callers static tokens (ATOMCP_STATIC_TOKENS=name:token)", cfg.Auth)
	}
	u, err := url.Parse(cfg.BaseURL)
	if err != nil {
		return "", "", fmt.Errorf("base URL %q: %w", cfg.BaseURL, err)
	}
	if u.Port() == "0" {
		return "", "", errors.New("the listen address has port 0, so the server's URL is not known yet; " +
			"set ATOMCP_BASE_URL, or the fixed ATOMCP_ADDR that serve will use")
	}
	return cfg.BaseURL, cfg.MCPURL(), nil
}

// parseTTL reads a lifetime: a number of days ("90d") or a Go duration.
func parseTTL(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("--ttl %q: want a whole number of days (90d) or a duration (12h)", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("--ttl %q: want a whole number of days (90d) or a duration (12h)", s)
	}
	return d, nil
}
