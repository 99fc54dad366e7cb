package clientcli

import (
	"fmt"
	"strings"
	"time"

	"github.com/atomcp/atomcp/internal/oauthclient"
	"github.com/spf13/cobra"
)

func newLoginCmd(version string) *cobra.Command {
	f := &clientFlags{version: version}
	var showToken bool
	cmd := &cobra.Command{
		Use:   "login URL",
		Short: "Log in to the MCP server at URL with OAuth and keep the token",
		Long: `Log in to the MCP server at URL with OAuth 2.1, as the MCP authorization
specification describes: discover its authorization server, register atomcp
there (or use --client-id / --client-metadata-url), open the login page in a
browser, receive the answer on a loopback callback, and keep the token (and
the client registration) in $XDG_CONFIG_HOME/atomcp for the tools, resources
and prompts commands. A stored token is not used: login always logs in anew.

The browser is $BROWSER when set, else the system's opener; --no-browser only
prints the URL. The access token is never printed unless --show-token is given.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.bearer() != "" {
				return fmt.Errorf("--token gives a token directly; there is nothing to log in to")
			}
			s, err := f.connect(cmd.Context(), cmd, args[0], true)
			if err != nil {
				return err
			}
			defer s.Close()
			if s.oauth == nil {
				return fmt.Errorf("an Authorization header was given with --header; there is nothing to log in to")
			}
			// Servers that let initialize through unauthenticated ask for the
			// token on the first real request.
			if _, err := listTools(cmd.Context(), s); err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			rec := s.oauth.Token()
			if s.oauth.Logins() == 0 || rec == nil {
				if f.jsonOut {
					return printJSON(out, map[string]any{"server": args[0], "logged_in": false, "reason": "the server did not ask for authorization"})
				}
				fmt.Fprintf(out, "The server at %s did not ask for authorization (it answered without a token): there is nothing to log in to.\n", args[0])
				return nil
			}
			return printLogin(cmd, f, s, rec, showToken)
		},
	}
	f.bind(cmd)
	cmd.Flags().BoolVar(&showToken, "show-token", false, "print the access token")
	return cmd
}

func printLogin(cmd *cobra.Command, f *clientFlags, s *clientSession, rec *oauthclient.TokenRecord, showToken bool) error {
	out := cmd.OutOrStdout()
	var client *oauthclient.ClientRecord
	if s.store != nil {
		client = s.store.Client(rec.Issuer)
	}
	method := "pre-registered"
	if client != nil {
		method = map[string]string{"dynamic": "registered dynamically", "preregistered": "pre-registered", "metadata-document": "client ID metadata document"}[client.Method]
	}
	if f.jsonOut {
		v := map[string]any{
			"server":            rec.ServerURL,
			"logged_in":         true,
			"issuer":            rec.Issuer,
			"client_id":         rec.ClientID,
			"scopes":            rec.Scopes,
			"has_refresh_token": rec.RefreshToken != "",
		}
		if !rec.Expiry.IsZero() {
			v["expires_at"] = rec.Expiry.UTC().Format(time.RFC3339)
		}
		if s.store != nil {
			v["cache"] = s.store.Dir()
		}
		if showToken {
			v["access_token"] = rec.AccessToken
			v["token_type"] = rec.TokenType
		}
		return printJSON(out, v)
	}
	fmt.Fprintf(out, "Logged in to %s.\n", rec.ServerURL)
	fmt.Fprintf(out, "  authorization server: %s\n", rec.Issuer)
	fmt.Fprintf(out, "  client:               %s (%s)\n", rec.ClientID, method)
	scopes := strings.Join(rec.Scopes, " ")
	if scopes == "" {
		scopes = "(none named)"
	}
	fmt.Fprintf(out, "  scopes:               %s\n", scopes)
	if !rec.Expiry.IsZero() {
		refresh := "no refresh token: log in again then"
		if rec.RefreshToken != "" {
			refresh = "refreshed automatically"
		}
		fmt.Fprintf(out, "  token expires:        %s (%s)\n", rec.Expiry.Local().Format(time.RFC1123), refresh)
	}
	if s.store != nil {
		fmt.Fprintf(out, "  kept in:              %s\n", s.store.Dir())
	} else {
		fmt.Fprintf(out, "  kept in:              nowhere (the token cache could not be opened)\n")
	}
	if showToken {
		fmt.Fprintf(out, "  access token:         %s\n", rec.AccessToken)
	}
	return nil
}

func newLogoutCmd() *cobra.Command {
	var jsonOut bool
	cmd := &cobra.Command{
		Use:   "logout URL",
		Short: "Forget the token and client registration kept for the MCP server at URL",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			u, err := serverURL(args[0])
			if err != nil {
				return err
			}
			dir, err := oauthclient.DefaultDir()
			if err != nil {
				return err
			}
			store, err := oauthclient.OpenStore(dir, func(err error) { fmt.Fprintln(cmd.ErrOrStderr(), "atomcp: warning:", err) })
			if err != nil {
				return err
			}
			rec := store.Token(u)
			if err := store.DeleteToken(u); err != nil {
				return err
			}
			removedClient := ""
			if rec != nil && rec.Issuer != "" {
				if c := store.Client(rec.Issuer); c != nil {
					if err := store.DeleteClient(rec.Issuer); err != nil {
						return err
					}
					removedClient = c.ClientID
				}
			}
			out := cmd.OutOrStdout()
			if jsonOut {
				v := map[string]any{"server": u, "removed_token": rec != nil}
				if rec != nil {
					v["issuer"] = rec.Issuer
				}
				if removedClient != "" {
					v["removed_client"] = removedClient
				}
				return printJSON(out, v)
			}
			if rec == nil {
				fmt.Fprintf(out, "No login was kept for %s.\n", u)
				return nil
			}
			fmt.Fprintf(out, "Logged out of %s: removed its token (issued by %s)", u, rec.Issuer)
			if removedClient != "" {
				fmt.Fprintf(out, " and the client registration %s", removedClient)
			}
			fmt.Fprintln(out, ".")
			return nil
		},
	}
	cmd.Flags().BoolVar(&jsonOut, "json", false, "print JSON instead of text")
	return cmd
}
