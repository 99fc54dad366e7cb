package main

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/atomcp/atomcp/internal/authserver"
	"github.com/atomcp/atomcp/internal/store"
)

// newClientsCmd is `atomcp clients`: OAuth clients of the embedded
// authorization server that an operator registers by hand.
func newClientsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "clients",
		Short: "Manage the OAuth clients of the embedded authorization server",
	}
	cmd.AddCommand(newClientsAddCmd(), newClientsListCmd(), newClientsRevokeCmd())
	return cmd
}

func newClientsAddCmd() *cobra.Command {
	var name string
	var redirects []string
	var confidential bool
	cmd := adminCmd("add --name NAME --redirect-uri URI…", "Register a client; a confidential client's secret is printed once",
		cobra.NoArgs, func(cmd *cobra.Command, st store.Store, _ []string) error {
			c, secret, err := authserver.AddClient(cmd.Context(), st, name, redirects, confidential, time.Now())
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "client_id: %s\n", c.ID)
			if secret != "" {
				fmt.Fprintf(out, "client_secret: %s\n(shown once: it is stored only as a hash)\n", secret)
			}
			return nil
		})
	cmd.Flags().StringVar(&name, "name", "", "the name shown on the consent page")
	cmd.Flags().StringArrayVar(&redirects, "redirect-uri", nil, "an allowed redirect URI (repeat for several); a loopback http URI matches any port")
	cmd.Flags().BoolVar(&confidential, "confidential", false, "issue a client secret (client_secret_basic or client_secret_post)")
	_ = cmd.MarkFlagRequired("redirect-uri")
	return cmd
}

func newClientsListCmd() *cobra.Command {
	return adminCmd("list", "List the registered clients", cobra.NoArgs, func(cmd *cobra.Command, st store.Store, _ []string) error {
		clients, err := st.ListOAuthClients(cmd.Context())
		if err != nil {
			return err
		}
		if len(clients) == 0 {
			fmt.Fprintln(cmd.OutOrStdout(), "no clients registered")
			return nil
		}
		tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "CLIENT_ID\tNAME\tSOURCE\tAUTH\tSTATUS\tREDIRECT_URIS")
		for _, c := range clients {
			status := "active"
			if c.RevokedAt != nil {
				status = "revoked"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.ID, c.Name, c.Source, c.TokenEndpointAuthMethod, status, strings.Join(c.RedirectURIs, " "))
		}
		return tw.Flush()
	})
}

func newClientsRevokeCmd() *cobra.Command {
	return adminCmd("revoke CLIENT_ID", "Revoke a client and every token issued to it", cobra.ExactArgs(1),
		func(cmd *cobra.Command, st store.Store, args []string) error {
			if err := st.RevokeOAuthClient(cmd.Context(), args[0], time.Now()); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "revoked %s and its tokens\n", args[0])
			return nil
		})
}
