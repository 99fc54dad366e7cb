package main

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/atomcp/atomcp/internal/config"
)

// run executes atomcp with args and returns what it printed.
func run(t *testing.T, args ...string) string {
	t.Helper()
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	if err := root.ExecuteContext(t.Context()); err != nil {
		t.Fatalf("atomcp %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	return out.String()
}

// serverOnlyFlags are flags of the listener and the token check: only
// serve (and config show, which shows what serve would do) has them.
var serverOnlyFlags = []string{"--addr", "--allowed-origins", "--allowed-hosts", "--auth-algorithms", "--auth ", "--stateless",
	"--trusted-proxies", "--metrics-addr", "--session-timeout", "--required-scopes", "--oidc-issuer", "--max-body-bytes"}

func TestTokensCreateHelpShowsNoServerFlag(t *testing.T) {
	help := run(t, "tokens", "create", "--help")
	for _, f := range serverOnlyFlags {
		if strings.Contains(help, f) {
			t.Errorf("tokens create --help shows the server flag %s:\n%s", f, help)
		}
	}
	for _, f := range []string{"--user", "--scope", "--ttl", "--database-url", "--base-url", "Examples:"} {
		if !strings.Contains(help, f) {
			t.Errorf("tokens create --help lacks %s", f)
		}
	}
}

func TestCommandsShowOnlyTheirFlags(t *testing.T) {
	serveHelp := run(t, "serve", "--help")
	for _, f := range serverOnlyFlags {
		if !strings.Contains(serveHelp, f) {
			t.Errorf("serve --help lacks %s", f)
		}
	}
	for _, args := range [][]string{{"users", "add"}, {"migrate"}, {"seed"}, {"stdio"}, {"db", "copy"}, {"keys", "rotate"}, {"clients", "list"}} {
		help := run(t, append(args, "--help")...)
		if !strings.Contains(help, "--database-url") {
			t.Errorf("%v --help lacks --database-url", args)
		}
		for _, f := range serverOnlyFlags {
			if strings.Contains(help, f) {
				t.Errorf("%v --help shows the server flag %s", args, f)
			}
		}
	}
	// Client commands talk to a server by URL: no server or database flag.
	for _, args := range [][]string{{"tools", "call"}, {"tools", "list"}, {"login"}, {"logout"}, {"prompts", "get"}, {"resources", "read"}, {"doctor"}} {
		help := run(t, append(args, "--help")...)
		for _, f := range append([]string{"--database-url", "--log-format"}, serverOnlyFlags...) {
			if strings.Contains(help, f) {
				t.Errorf("client command %v --help shows %s", args, f)
			}
		}
	}
}

func TestEveryCommandHasAnExample(t *testing.T) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Example == "" && !c.Hidden && c.Name() != "help" {
			t.Errorf("%s has no Example", c.CommandPath())
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRootCmd())
	if help := run(t, "tools", "call", "--help"); !strings.Contains(help, "Examples:\n  atomcp tools call") {
		t.Errorf("tools call --help shows no example:\n%s", help)
	}
}

// TestCompletion: cobra's completion command writes to the process's
// stdout (it took it when newRootCmd added the command), so the test
// reads that.
func TestCompletion(t *testing.T) {
	for shell, want := range map[string]string{"bash": "__start_atomcp", "zsh": "#compdef atomcp", "fish": "complete -c atomcp"} {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		stdout := os.Stdout
		os.Stdout = w
		done := make(chan string)
		go func() { b, _ := io.ReadAll(r); done <- string(b) }()
		run(t, "completion", shell)
		os.Stdout = stdout
		w.Close()
		if out := <-done; !strings.Contains(out, want) {
			t.Errorf("completion %s lacks %q", shell, want)
		}
	}
}

func TestConfigShow(t *testing.T) {
	t.Chdir(t.TempDir()) // no .env
	t.Setenv("ATOMCP_ADDR", "127.0.0.1:9999")
	t.Setenv("ATOMCP_INTERNAL_TOKEN", "super-secret-token")
	t.Setenv("ATOMCP_DATABASE_URL", "postgres://atomcp:db-password@db:5432/atomcp")
	out := run(t, "config", "show", "--log-level", "debug")
	for _, secret := range []string{"super-secret-token", "db-password"} {
		if strings.Contains(out, secret) {
			t.Errorf("config show prints %q:\n%s", secret, out)
		}
	}
	cfg, err := config.Load(nil, os.Environ(), "")
	if err != nil {
		t.Fatal(err)
	}
	lines := map[string][]string{}
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) >= 3 {
			lines[f[0]] = f
		}
	}
	for _, a := range cfg.LogAttrs() {
		if lines[a.Key] == nil {
			t.Errorf("config show has no line for %s", a.Key)
		}
	}
	for key, want := range map[string][]string{
		"addr":           {"127.0.0.1:9999", "ATOMCP_ADDR"},
		"log_level":      {"debug", "flag", "--log-level"},
		"internal_token": {"set", "ATOMCP_INTERNAL_TOKEN"},
		"auth":           {"embedded", "default"},
	} {
		if got := lines[key]; len(got) < 1+len(want) || strings.Join(got[1:], " ") != strings.Join(want, " ") {
			t.Errorf("%s: %q; want %q", key, got, want)
		}
	}
}
