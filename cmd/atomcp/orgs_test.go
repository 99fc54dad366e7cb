package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/atomcp/atomcp/internal/atoms"
	"github.com/atomcp/atomcp/internal/authserver"
	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store/storeopen"
)

// TestOrgsCommands: the CLI twins of the admin page invite (a link, no
// silent join), list, set project roles, show the audit log filtered, and
// manage accounts' roles and links.
func TestOrgsCommands(t *testing.T) {
	dir := t.TempDir()
	dbURL := "sqlite://" + filepath.Join(dir, "atomcp.db")
	t.Setenv("ATOMCP_DATABASE_URL", dbURL)
	t.Setenv("ATOMCP_BASE_URL", "https://atoms.example.com")
	must := func(stdin string, args ...string) string {
		t.Helper()
		out, stderr, err := runSplit(t, stdin, args...)
		if err != nil {
			t.Fatalf("%v: %v\n%s%s", args, err, out, stderr)
		}
		return out
	}
	must("owner-password\n", "users", "add", "ann@example.com", "--owner")
	must("bob-password\n", "users", "add", "bob@example.com")

	// Ann's organization and project, made through the service as a tool would.
	st, err := storeopen.Open(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	svc := atoms.New(st)
	annAccount, err := authserver.FindAccount(t.Context(), st, "ann@example.com")
	if err != nil {
		t.Fatal(err)
	}
	ann, err := svc.Actor(t.Context(), atoms.Caller{Issuer: authserver.EmbeddedIssuer, Subject: annAccount.ID, Email: "ann@example.com", EmailVerified: true})
	if err != nil {
		t.Fatal(err)
	}
	org, err := svc.CreateEntity(t.Context(), ann, domain.Organization, map[string]any{"name": "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateEntity(t.Context(), ann, domain.Project, map[string]any{"name": "Launch", "organization_id": org.ID}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	if out := must("", "orgs", "list"); !strings.Contains(out, "Acme") {
		t.Fatalf("orgs list:\n%s", out)
	}
	out := must("", "orgs", "invite", "Acme", "bob@example.com", "--role", "viewer")
	if !strings.Contains(out, "https://atoms.example.com/invite?token=") || !strings.Contains(out, "they join when they accept") {
		t.Fatalf("orgs invite:\n%s", out)
	}
	if out := must("", "orgs", "members", "Acme"); strings.Contains(out, "bob@example.com") {
		t.Fatalf("bob is a member before accepting:\n%s", out)
	}
	if out := must("", "orgs", "invitations", "Acme"); !strings.Contains(out, "bob@example.com") || !strings.Contains(out, "pending") {
		t.Fatalf("orgs invitations:\n%s", out)
	}
	if _, _, err := runSplit(t, "", "projects", "set-role", "Launch", "bob@example.com", "viewer"); err == nil || !strings.Contains(err.Error(), "members of its organization") {
		t.Fatalf("a project role for a non-member: %v", err)
	}
	must("", "orgs", "revoke-invitation", "Acme", "bob@example.com")
	if out := must("", "audit", "--org", "Acme", "--action", "invite"); !strings.Contains(out, "ann@example.com") || !strings.Contains(out, "bob@example.com") {
		t.Fatalf("audit:\n%s", out)
	}
	if out := must("", "audit", "--action", "revoke_invitation", "--actor", "ann@example.com"); !strings.Contains(out, "revoke_invitation") || strings.Contains(out, " invite ") {
		t.Fatalf("audit --actor ann --action revoke_invitation:\n%s", out)
	}
	if _, _, err := runSplit(t, "", "audit", "--actor", "nobody@example.com"); err == nil {
		t.Fatal("audit --actor of an unknown email: no error")
	}
	if _, _, err := runSplit(t, "", "audit", "--since", "yesterday"); err == nil || !strings.Contains(err.Error(), "YYYY-MM-DD") {
		t.Fatalf("audit --since yesterday: %v", err)
	}

	// Accounts: links and roles.
	if out := must("", "users", "invite", "carol@example.com"); !strings.HasPrefix(out, "https://atoms.example.com/oauth/setup?") || !strings.Contains(out, "purpose=invite") {
		t.Fatalf("users invite: %s", out)
	}
	if _, _, err := runSplit(t, "", "users", "invite", "bob@example.com"); err == nil {
		t.Fatal("an account invitation for an existing account")
	}
	if out := must("", "users", "reset-link", "bob@example.com"); !strings.Contains(out, "purpose=reset") {
		t.Fatalf("users reset-link: %s", out)
	}
	if _, _, err := runSplit(t, "", "users", "role", "ann@example.com", "user"); err == nil || !strings.Contains(err.Error(), "last owner") {
		t.Fatalf("demoting the last owner: %v", err)
	}
	if out := must("", "users", "role", "bob@example.com", "owner"); !strings.Contains(out, "owner") {
		t.Fatalf("users role: %s", out)
	}
}
