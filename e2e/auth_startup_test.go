package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestAuthStartupRefusals: settings that cannot work stop `atomcp serve`
// at once with a message that says what to change.
func TestAuthStartupRefusals(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  []string
		want []string
	}{
		{"an unknown FastMCP provider", []string{"FASTMCP_SERVER_AUTH=fastmcp.server.auth.providers.github.GitHubProvider"},
			[]string{"unsupported FastMCP auth provider", "fastmcp.server.auth.providers.workos.AuthKitProvider"}},
		{"an http AuthKit domain", []string{"ATOMCP_AUTH=authkit", "ATOMCP_AUTHKIT_DOMAIN=http://your-app.authkit.app"}, []string{"must use https"}},
		{"authkit without a domain", []string{"ATOMCP_AUTH=authkit"}, []string{"ATOMCP_AUTHKIT_DOMAIN"}},
		{"an HMAC algorithm", []string{"ATOMCP_AUTH=oidc", "ATOMCP_OIDC_ISSUER=https://issuer.example.com", "ATOMCP_AUTH_ALGORITHMS=HS256"}, []string{"HMAC"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, binary, "serve")
			cmd.Dir = dir
			cmd.Env = append([]string{
				"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "ATOMCP_LOG_FORMAT=json",
				"ATOMCP_ADDR=127.0.0.1:0", "ATOMCP_DATABASE_URL=sqlite://" + filepath.Join(dir, "atomcp.db"),
			}, tc.env...)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("serve started; output:\n%s", out)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}
