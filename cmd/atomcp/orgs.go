package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/atomcp/atomcp/internal/atoms"
	"github.com/atomcp/atomcp/internal/authserver"
	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

// The CLI twins of the admin page (docs/admin.md): organizations, their
// members, invitations and project roles, and the audit log. They run
// with the database's authority, as an owner account of this server
// (--as, by default the first enabled owner), which the audit log names.

// asFlag adds --as to an organization command.
func asFlag(cmd *cobra.Command) *string {
	return cmd.Flags().String("as", "", "the owner account (email or id) the change is recorded under; default: the first enabled owner")
}

// operator resolves the account the CLI acts as, to an actor that owns
// every organization.
func operator(ctx context.Context, st store.Store, as string) (*atoms.Service, *atoms.Actor, error) {
	var acct *store.LocalAccount
	if as != "" {
		a, err := authserver.FindAccount(ctx, st, as)
		if err != nil {
			return nil, nil, err
		}
		if a.Role != "owner" {
			return nil, nil, fmt.Errorf("--as %s: the account is not an owner of this server", as)
		}
		acct = a
	} else {
		accounts, err := st.ListLocalAccounts(ctx)
		if err != nil {
			return nil, nil, err
		}
		for _, a := range accounts {
			if a.Role == "owner" && a.DisabledAt == nil {
				acct = a
				break
			}
		}
		if acct == nil {
			return nil, nil, errors.New("no enabled owner account: create one with `atomcp users add EMAIL --owner`")
		}
	}
	svc := atoms.New(st)
	a, err := svc.Actor(ctx, atoms.Caller{Issuer: authserver.EmbeddedIssuer, Subject: acct.ID, Email: acct.Email, EmailVerified: true, Name: acct.Name})
	if err != nil {
		return nil, nil, err
	}
	a, err = svc.AsServerOwner(ctx, a)
	return svc, a, err
}

func orgRef(s string) atoms.EntityRef { return atoms.EntityRef{Type: domain.Organization, ID: s} }

func projectRef(s string) atoms.EntityRef { return atoms.EntityRef{Type: domain.Project, ID: s} }

// orgCmd is an administration command acting as the operator.
func orgCmd(use, short string, args cobra.PositionalArgs, fn func(cmd *cobra.Command, st store.Store, svc *atoms.Service, a *atoms.Actor, args []string) error) *cobra.Command {
	var as *string
	cmd := adminCmd(use, short, args, func(cmd *cobra.Command, st store.Store, args []string) error {
		svc, a, err := operator(cmd.Context(), st, *as)
		if err != nil {
			return err
		}
		return fn(cmd, st, svc, a, args)
	})
	as = asFlag(cmd)
	return cmd
}

// newOrgsCmd is `atomcp orgs`.
func newOrgsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "orgs", Short: "Manage organizations, their members and invitations (what /admin does)"}
	var role string
	invite := orgCmd("invite ORG EMAIL|USER-ID", "Invite a person into an organization; prints the invitation link (shown once)", cobra.ExactArgs(2),
		func(cmd *cobra.Command, _ store.Store, svc *atoms.Service, a *atoms.Actor, args []string) error {
			cfg, _, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			inv, err := svc.Invite(cmd.Context(), a, orgRef(args[0]), args[1], domain.Role(role))
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "invited %s as %s of %s (invitation %s); they join when they accept:\n%s%s\n", args[1], inv.Role, inv.OrganizationName, inv.ID, cfg.BaseURL, inv.LinkPath)
			return nil
		})
	invite.Flags().StringVar(&role, "role", "member", "owner, admin, member or viewer")
	cmd.AddCommand(
		orgCmd("list", "List every organization", cobra.NoArgs, func(cmd *cobra.Command, _ store.Store, svc *atoms.Service, a *atoms.Actor, _ []string) error {
			orgs, err := svc.ManagedOrganizations(cmd.Context(), a)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tSLUG\tTYPE\tMEMBERS")
			for _, o := range orgs {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\n", o.ID, o.Name, o.Slug, o.Type, o.Members)
			}
			return tw.Flush()
		}),
		orgCmd("members ORG", "List an organization's members (ORG: id or name)", cobra.ExactArgs(1), func(cmd *cobra.Command, _ store.Store, svc *atoms.Service, a *atoms.Actor, args []string) error {
			ms, err := svc.ListMembers(cmd.Context(), a, orgRef(args[0]))
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "USER\tEMAIL\tNAME\tROLE\tSTATUS")
			for _, m := range ms {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", m.UserID, m.Email, m.Name, m.Role, m.Status)
			}
			return tw.Flush()
		}),
		invite,
		orgCmd("invitations ORG", "List an organization's invitations", cobra.ExactArgs(1), func(cmd *cobra.Command, _ store.Store, svc *atoms.Service, a *atoms.Actor, args []string) error {
			invs, err := svc.ListInvitations(cmd.Context(), a, orgRef(args[0]))
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tTO\tROLE\tSTATUS\tSENT")
			for _, inv := range invs {
				to := inv.Email
				if to == "" {
					to = "user " + inv.UserID
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", inv.ID, to, inv.Role, inv.Status, inv.CreatedAt.Local().Format(time.DateTime))
			}
			return tw.Flush()
		}),
		orgCmd("revoke-invitation ORG ID|EMAIL", "Revoke a pending invitation; its link stops working", cobra.ExactArgs(2), func(cmd *cobra.Command, _ store.Store, svc *atoms.Service, a *atoms.Actor, args []string) error {
			inv, err := svc.RevokeInvitation(cmd.Context(), a, orgRef(args[0]), args[1])
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "revoked invitation %s\n", inv.ID)
			return nil
		}),
		orgCmd("set-role ORG EMAIL|USER-ID ROLE", "Change a member's role (owner, admin, member, viewer); the last owner stays", cobra.ExactArgs(3), func(cmd *cobra.Command, _ store.Store, svc *atoms.Service, a *atoms.Actor, args []string) error {
			m, err := svc.SetMemberRole(cmd.Context(), a, orgRef(args[0]), args[1], domain.Role(args[2]))
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s is now %s\n", m.Email, m.Role)
			return nil
		}),
		orgCmd("remove ORG EMAIL|USER-ID", "Remove a member from an organization; the last owner stays", cobra.ExactArgs(2), func(cmd *cobra.Command, _ store.Store, svc *atoms.Service, a *atoms.Actor, args []string) error {
			m, err := svc.RemoveMember(cmd.Context(), a, orgRef(args[0]), args[1])
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "removed %s\n", m.Email)
			return nil
		}),
	)
	return cmd
}

// newProjectsCmd is `atomcp projects`: project roles.
func newProjectsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "projects", Short: "Manage project roles (a member's role inside one project)"}
	cmd.AddCommand(
		orgCmd("members PROJECT", "List a project's project roles (PROJECT: id or name)", cobra.ExactArgs(1), func(cmd *cobra.Command, _ store.Store, svc *atoms.Service, a *atoms.Actor, args []string) error {
			ms, err := svc.ListProjectMembers(cmd.Context(), a, projectRef(args[0]))
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "USER\tEMAIL\tROLE")
			for _, m := range ms {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", m.UserID, m.Email, m.Role)
			}
			return tw.Flush()
		}),
		orgCmd("set-role PROJECT EMAIL|USER-ID ROLE", "Give a member of the project's organization a role in the project (viewer reads only, member writes)", cobra.ExactArgs(3), func(cmd *cobra.Command, _ store.Store, svc *atoms.Service, a *atoms.Actor, args []string) error {
			m, err := svc.AddProjectMember(cmd.Context(), a, projectRef(args[0]), args[1], domain.Role(args[2]))
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s is %s in project %s\n", m.Email, m.Role, m.ProjectID)
			return nil
		}),
		orgCmd("remove PROJECT EMAIL|USER-ID", "Remove a project role; the organization role applies again", cobra.ExactArgs(2), func(cmd *cobra.Command, _ store.Store, svc *atoms.Service, a *atoms.Actor, args []string) error {
			m, err := svc.RemoveProjectMember(cmd.Context(), a, projectRef(args[0]), args[1])
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "removed the project role of %s\n", m.Email)
			return nil
		}),
	)
	return cmd
}

// newAuditCmd is `atomcp audit`: the audit log with the admin page's filters.
func newAuditCmd() *cobra.Command {
	var actor, action, org, since, until string
	var limit int
	cmd := orgCmd("audit", "Show the audit log, newest first (filters: --actor, --action, --org, --since, --until)", cobra.NoArgs,
		func(cmd *cobra.Command, _ store.Store, svc *atoms.Service, a *atoms.Actor, _ []string) error {
			f := atoms.AuditFilter{Action: action, Limit: limit, ActorID: actor}
			if strings.Contains(actor, "@") {
				u, err := svc.UserByEmail(cmd.Context(), actor)
				if err != nil {
					return fmt.Errorf("--actor: %w", err)
				}
				f.ActorID = u.ID
			}
			if org != "" {
				orgs, err := svc.ManagedOrganizations(cmd.Context(), a)
				if err != nil {
					return err
				}
				for _, o := range orgs {
					if o.ID == org || o.Name == org || o.Slug == org {
						f.OrganizationID = o.ID
					}
				}
				if f.OrganizationID == "" {
					return fmt.Errorf("--org %q: no such organization (see atomcp orgs list)", org)
				}
			}
			for _, d := range []struct {
				flag, in string
				out      *time.Time
				add      time.Duration
			}{{"--since", since, &f.Since, 0}, {"--until", until, &f.Until, 24 * time.Hour}} {
				if d.in == "" {
					continue
				}
				t, err := time.Parse(time.DateOnly, d.in)
				if err != nil {
					return fmt.Errorf("%s %q: a day as YYYY-MM-DD is accepted", d.flag, d.in)
				}
				*d.out = t.Add(d.add)
			}
			entries, err := svc.AuditSearch(cmd.Context(), a, f)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "WHEN\tWHO\tACTION\tWHAT\tORGANIZATION")
			for _, e := range entries {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s %s\t%s\n", e.At.Local().Format(time.DateTime), orDash(e.ActorEmail, e.ActorID), e.Action, e.EntityType, e.EntityID, orDash(e.OrganizationName, e.OrganizationID))
			}
			return tw.Flush()
		})
	cmd.Flags().StringVar(&actor, "actor", "", "only entries by this user (email or user id)")
	cmd.Flags().StringVar(&action, "action", "", "only this action (create, update, delete, invite, accept_invitation, set_role …)")
	cmd.Flags().StringVar(&org, "org", "", "only this organization (id, name or slug)")
	cmd.Flags().StringVar(&since, "since", "", "from this day (YYYY-MM-DD)")
	cmd.Flags().StringVar(&until, "until", "", "to this day, included (YYYY-MM-DD)")
	cmd.Flags().IntVar(&limit, "limit", 100, "at most this many entries (1 to 1000)")
	return cmd
}

func orDash(a, b string) string {
	if a != "" {
		return a
	}
	if b != "" {
		return b
	}
	return "-"
}

// newUsersInviteCmd is `atomcp users invite EMAIL`: an account invitation link.
func newUsersInviteCmd() *cobra.Command {
	return adminCmd("invite EMAIL", "Make a link that lets a person create their account with EMAIL (valid 7 days, works once)", cobra.ExactArgs(1),
		func(cmd *cobra.Command, st store.Store, args []string) error {
			cfg, _, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			link, err := authserver.AccountInviteLink(cmd.Context(), st, cfg.BaseURL, args[0], time.Now())
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), link)
			return nil
		})
}

// newUsersResetLinkCmd is `atomcp users reset-link EMAIL|ID`.
func newUsersResetLinkCmd() *cobra.Command {
	return adminCmd("reset-link EMAIL|ID", "Make a link that lets the account's person choose a new password (valid 24 hours, works once)", cobra.ExactArgs(1),
		func(cmd *cobra.Command, st store.Store, args []string) error {
			cfg, _, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			a, err := authserver.FindAccount(cmd.Context(), st, args[0])
			if err != nil {
				return err
			}
			link, err := authserver.PasswordResetLink(cmd.Context(), st, cfg.BaseURL, a, time.Now())
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), link)
			return nil
		})
}

// newUsersRoleCmd is `atomcp users role EMAIL|ID owner|user`.
func newUsersRoleCmd() *cobra.Command {
	return adminCmd("role EMAIL|ID owner|user", "Make an account an owner of this server, or a plain account; the last owner stays", cobra.ExactArgs(2),
		func(cmd *cobra.Command, st store.Store, args []string) error {
			a, err := authserver.FindAccount(cmd.Context(), st, args[0])
			if err != nil {
				return err
			}
			if err := authserver.SetAccountRole(cmd.Context(), st, a, args[1], time.Now()); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s is now %s\n", a.Email, a.Role)
			return nil
		})
}
