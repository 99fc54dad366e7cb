package main

import (
	"crypto/rand"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/atomcp/atomcp/internal/authserver"
	"github.com/atomcp/atomcp/internal/store"
)

// newUsersCmd is `atomcp users`: the local accounts of the embedded
// authorization server.
func newUsersCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "users",
		Short: "Manage the local accounts of the embedded authorization server",
	}
	cmd.AddCommand(newUsersAddCmd(), newUsersListCmd(), newUsersDisableCmd(true), newUsersDisableCmd(false), newUsersResetPasswordCmd(), newUsersUnlinkCmd(),
		newUsersInviteCmd(), newUsersResetLinkCmd(), newUsersRoleCmd())
	return cmd
}

func newUsersAddCmd() *cobra.Command {
	var name string
	var owner, generate bool
	cmd := adminCmd("add EMAIL", "Add an account; the password is read from standard input (or generated with --generate-password)",
		cobra.ExactArgs(1), func(cmd *cobra.Command, st store.Store, args []string) error {
			pw, err := newPassword(cmd, generate)
			if err != nil {
				return err
			}
			a, err := authserver.AddAccount(cmd.Context(), st, args[0], name, pw, owner, time.Now())
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "added %s (%s, role %s)\n", a.Email, a.ID, a.Role)
			if generate {
				fmt.Fprintf(out, "password: %s\n", pw)
			}
			return nil
		})
	cmd.Flags().StringVar(&name, "name", "", "the person's name, shown to the MCP server as the token's name claim")
	cmd.Flags().BoolVar(&owner, "owner", false, "make it an owner account (the role of the first account)")
	cmd.Flags().BoolVar(&generate, "generate-password", false, "generate a random password and print it once")
	return cmd
}

func newUsersListCmd() *cobra.Command {
	return adminCmd("list", "List the accounts", cobra.NoArgs, func(cmd *cobra.Command, st store.Store, _ []string) error {
		accounts, err := st.ListLocalAccounts(cmd.Context())
		if err != nil {
			return err
		}
		if len(accounts) == 0 {
			fmt.Fprintln(cmd.OutOrStdout(), "no accounts; add one with `atomcp users add EMAIL --owner`")
			return nil
		}
		tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tEMAIL\tNAME\tROLE\tSTATUS\tCREATED\tSIGN-IN")
		for _, a := range accounts {
			status := "active"
			switch {
			case a.DisabledAt != nil:
				status = "disabled"
			case a.LockedUntil != nil && time.Now().Before(*a.LockedUntil):
				status = "locked until " + a.LockedUntil.Local().Format(time.TimeOnly)
			}
			ways, err := signinWays(cmd, st, a)
			if err != nil {
				return err
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.ID, a.Email, a.Name, a.Role, status, a.CreatedAt.Local().Format(time.DateTime), ways)
		}
		return tw.Flush()
	})
}

func newUsersDisableCmd(disable bool) *cobra.Command {
	use, short, verb := "disable EMAIL|ID", "Disable an account: it can no longer sign in or refresh tokens", "disabled"
	if !disable {
		use, short, verb = "enable EMAIL|ID", "Enable a disabled account again", "enabled"
	}
	return adminCmd(use, short, cobra.ExactArgs(1), func(cmd *cobra.Command, st store.Store, args []string) error {
		a, err := authserver.FindAccount(cmd.Context(), st, args[0])
		if err != nil {
			return err
		}
		if err := authserver.SetAccountDisabled(cmd.Context(), st, a, disable, time.Now()); err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "%s %s\n", verb, a.Email)
		return nil
	})
}

func newUsersResetPasswordCmd() *cobra.Command {
	var generate bool
	cmd := adminCmd("reset-password EMAIL|ID", "Set a new password (read from standard input, or generated); ends the account's browser sessions",
		cobra.ExactArgs(1), func(cmd *cobra.Command, st store.Store, args []string) error {
			a, err := authserver.FindAccount(cmd.Context(), st, args[0])
			if err != nil {
				return err
			}
			pw, err := newPassword(cmd, generate)
			if err != nil {
				return err
			}
			if err := authserver.ResetPassword(cmd.Context(), st, a, pw, time.Now()); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "password of %s reset\n", a.Email)
			if generate {
				fmt.Fprintf(cmd.OutOrStdout(), "password: %s\n", pw)
			}
			return nil
		})
	cmd.Flags().BoolVar(&generate, "generate-password", false, "generate a random password and print it once")
	return cmd
}

// newPassword reads a password from standard input, or generates one.
func newPassword(cmd *cobra.Command, generate bool) (string, error) {
	if generate {
		return rand.Text(), nil // 26 base32 characters, 128 bits
	}
	pw, err := readSecretLine(cmd, "Password")
	if err != nil {
		return "", err
	}
	if err := authserver.CheckPassword(pw); err != nil {
		return "", err
	}
	return pw, nil
}

// signinWays says how an account signs in: "password" and each linked
// identity as connector (email at the provider, subject, last use).
func signinWays(cmd *cobra.Command, st store.Store, a *store.LocalAccount) (string, error) {
	var ways []string
	if authserver.HasPassword(a) {
		ways = append(ways, "password")
	}
	ids, err := authserver.LinkedIdentities(cmd.Context(), st, a.ID)
	if err != nil {
		return "", err
	}
	for _, id := range ids {
		w := fmt.Sprintf("%s (%s, subject %s, last used %s", id.Connector, id.Email, id.Subject, id.LastUsedAt.Local().Format(time.DateTime))
		if id.OrgID != "" {
			w += ", org " + id.OrgID
		}
		ways = append(ways, w+")")
	}
	if len(ways) == 0 {
		return "none", nil
	}
	return strings.Join(ways, "; "), nil
}

func newUsersUnlinkCmd() *cobra.Command {
	return adminCmd("unlink EMAIL|ID CONNECTOR", "Remove an account's linked identity at a provider (workos, oidc, github or google); its next sign-in there links again by verified email",
		cobra.ExactArgs(2), func(cmd *cobra.Command, st store.Store, args []string) error {
			a, err := authserver.FindAccount(cmd.Context(), st, args[0])
			if err != nil {
				return err
			}
			if err := authserver.UnlinkIdentity(cmd.Context(), st, a, args[1]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "unlinked the %s identity of %s\n", args[1], a.Email)
			return nil
		})
}
