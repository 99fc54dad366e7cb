package main

import (
	"bytes"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// runAtomcp runs the root command with args against the database in dir.
func runAtomcp(t *testing.T, dir, stdin string, args ...string) (string, error) {
	t.Helper()
	t.Setenv("ATOMCP_DATABASE_URL", "sqlite://"+filepath.Join(dir, "atomcp.db"))
	t.Setenv("ATOMCP_LOG_FORMAT", "text")
	cmd := newRootCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(t.Context())
	return out.String(), err
}

func TestUsersClientsKeysCommands(t *testing.T) {
	dir := t.TempDir()
	mustRun := func(stdin string, args ...string) string {
		t.Helper()
		out, err := runAtomcp(t, dir, stdin, args...)
		if err != nil {
			t.Fatalf("atomcp %v: %v\n%s", args, err, out)
		}
		return out
	}
	mustFail := func(stdin, want string, args ...string) {
		t.Helper()
		out, err := runAtomcp(t, dir, stdin, args...)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("atomcp %v: %v (%s); want an error mentioning %q", args, err, out, want)
		}
	}

	mustRun("s3cret-password\n", "users", "add", "Alice@Example.com", "--name", "Alice", "--owner")
	out := mustRun("", "users", "add", "bob@example.com", "--generate-password")
	if !regexp.MustCompile(`password: [A-Z2-7]{26}\n`).MatchString(out) {
		t.Errorf("generated password not printed: %q", out)
	}
	mustFail("s3cret-password\n", "conflict", "users", "add", "alice@example.com")
	mustFail("short\n", "too short", "users", "add", "carol@example.com")
	mustFail("", "no password", "users", "add", "carol@example.com")
	mustFail("s3cret-password\n", "not an email", "users", "add", "carol")
	mustRun("", "users", "disable", "bob@example.com")
	out = mustRun("", "users", "list")
	if !regexp.MustCompile(`alice@example.com\s+Alice\s+owner\s+active`).MatchString(out) ||
		!regexp.MustCompile(`bob@example.com\s+user\s+disabled`).MatchString(out) {
		t.Errorf("users list:\n%s", out)
	}
	if !regexp.MustCompile(`alice@example.com\s+Alice\s+owner\s+active\s+\S+ \S+\s+password\n`).MatchString(out) {
		t.Errorf("users list does not say alice signs in with a password:\n%s", out)
	}
	mustFail("", "no github identity", "users", "unlink", "alice@example.com", "github")
	mustRun("", "users", "enable", "bob@example.com")
	mustRun("another-password\n", "users", "reset-password", "alice@example.com")
	mustFail("", "no account", "users", "disable", "nobody@example.com")

	out = mustRun("", "clients", "add", "--name", "CI", "--redirect-uri", "http://127.0.0.1/callback")
	id := regexp.MustCompile(`client_id: (\S+)`).FindStringSubmatch(out)
	if id == nil || strings.Contains(out, "client_secret") {
		t.Fatalf("public client: %q", out)
	}
	out = mustRun("", "clients", "add", "--name", "Conf", "--redirect-uri", "https://app.example/cb", "--confidential")
	if !strings.Contains(out, "client_secret: ") {
		t.Errorf("confidential client: %q", out)
	}
	mustFail("", "javascript", "clients", "add", "--name", "X", "--redirect-uri", "javascript:alert(1)")
	mustRun("", "clients", "revoke", id[1])
	out = mustRun("", "clients", "list")
	if !regexp.MustCompile(id[1] + `\s+CI\s+cli\s+none\s+revoked`).MatchString(out) {
		t.Errorf("clients list:\n%s", out)
	}
	mustFail("", "not found", "clients", "revoke", "nope")

	first := mustRun("", "keys", "rotate")
	second := mustRun("", "keys", "rotate")
	if !strings.HasPrefix(first, "new signing key ") || first == second {
		t.Errorf("keys rotate: %q, %q", first, second)
	}
}
