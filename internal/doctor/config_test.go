package doctor

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// writeDotenv writes a .env into a new directory and returns its path.
func writeDotenv(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), ".env")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// configOptions lints path with an empty environment, with the fake's
// network (the AuthKit domain my-app.authkit.app is the fake).
func configOptions(f *fake, path string) Options {
	o := f.options()
	o.URL = ""
	o.ConfigPath = path
	o.Environ = []string{}
	return o
}

const authkitEnv = "ATOMCP_AUTH=authkit\nATOMCP_AUTHKIT_DOMAIN=https://my-app.authkit.app\n"

func TestConfigAuthKitDomainNotHTTPS(t *testing.T) {
	f := newFake(t)
	p := writeDotenv(t, "FASTMCP_SERVER_AUTH=fastmcp.server.auth.providers.workos.AuthKitProvider\nFASTMCP_SERVER_AUTH_AUTHKITPROVIDER_AUTHKIT_DOMAIN=http://my-app.authkit.app\n")
	rep := runDoctor(t, configOptions(f, p))
	got := expectFail(t, rep, IDConfigAuthKitDomain, []string{"Domains", "https://"})
	if !strings.Contains(got.Title, "FASTMCP_SERVER_AUTH_AUTHKITPROVIDER_AUTHKIT_DOMAIN") || !strings.Contains(got.Title, "https") {
		t.Errorf("title %q", got.Title)
	}
}

func TestConfigAuthKitDomainIsWorkOSAPI(t *testing.T) {
	f := newFake(t)
	p := writeDotenv(t, "ATOMCP_AUTH=authkit\nATOMCP_AUTHKIT_DOMAIN=https://api.workos.com\n")
	rep := runDoctor(t, configOptions(f, p))
	expectFail(t, rep, IDConfigAuthKitDomain, []string{"Domains", "authkit.app"},
		IDConfigIssuer) // and api.workos.com cannot be reached from the test
}

func TestConfigWrongAuthKitDomainIs404(t *testing.T) {
	f := newFake(t, func(f *fake) { f.wrapAS = notFoundFor("wrong-domain.") })
	p := writeDotenv(t, "ATOMCP_AUTH=authkit\nATOMCP_AUTHKIT_DOMAIN=wrong-domain.authkit.app\n")
	rep := runDoctor(t, configOptions(f, p))
	expectFail(t, rep, IDConfigIssuer, []string{"Domains", "ATOMCP_AUTHKIT_DOMAIN"})
}

func TestConfigPublicBaseURLOverHTTP(t *testing.T) {
	f := newFake(t, func(f *fake) { f.asName = "my-app.authkit.app" })
	p := writeDotenv(t, authkitEnv+"ATOMCP_BASE_URL=http://mcp.example.com\n")
	rep := runDoctor(t, configOptions(f, p))
	expectFail(t, rep, IDConfigBaseURL, []string{"https://"})
}

func TestConfigRequiredScopeNotOffered(t *testing.T) {
	f := newFake(t, func(f *fake) { f.asName = "my-app.authkit.app" })
	p := writeDotenv(t, authkitEnv+"ATOMCP_REQUIRED_SCOPES=atoms:read,atoms:admin\n")
	rep := runDoctor(t, configOptions(f, p))
	got := expectFail(t, rep, IDConfigRequiredScopes, []string{"ATOMCP_REQUIRED_SCOPES", "403 insufficient_scope"})
	if !strings.Contains(got.Title, "atoms:admin") || strings.Contains(got.Title, "atoms:read") {
		t.Errorf("title %q", got.Title)
	}
}

// TestConfigScopesNotInAccessTokens: the Python server's default scopes
// are OpenID scopes; without a token that is a warning, with a token
// that lacks them it is a failure, with the token check failing too.
func TestConfigScopesNotInAccessTokens(t *testing.T) {
	f := newFake(t, func(f *fake) { f.asName = "my-app.authkit.app" })
	p := writeDotenv(t, authkitEnv+`FASTMCP_SERVER_AUTH_AUTHKITPROVIDER_REQUIRED_SCOPES=["openid","profile","email"]`+"\n")
	rep := runDoctor(t, configOptions(f, p))
	fs := rep.Find(IDConfigRequiredScopes)
	if len(fs) != 1 || fs[0].Status != Warn || !strings.Contains(fs[0].Fix, "--token") {
		t.Fatalf("without a token: %+v", fs)
	}

	o := configOptions(f, p)
	o.URL = f.mcpURL()
	o.Token = f.token(func(c jwt.MapClaims) { c["scope"] = "openid atoms:read" })
	rep = runDoctor(t, o)
	got := expectFail(t, rep, IDConfigRequiredScopes, []string{"FASTMCP_SERVER_AUTH_AUTHKITPROVIDER_REQUIRED_SCOPES"},
		IDTokenScopes, IDConfigURLMatch)
	if !strings.Contains(got.Title, "profile email") {
		t.Errorf("title %q", got.Title)
	}
}

func TestConfigMatchesCheckedServer(t *testing.T) {
	f := newFake(t, func(f *fake) { f.asName = "my-app.authkit.app" })
	p := writeDotenv(t, authkitEnv+"ATOMCP_BASE_URL="+f.mcpBase()+"\n")
	o := configOptions(f, p)
	o.URL = f.mcpURL()
	rep := runDoctor(t, o)
	expectClean(t, rep)
	for _, id := range []string{IDConfigLoad, IDConfigAuthKitDomain, IDConfigBaseURL, IDConfigURLMatch, IDConfigIssuer, IDConfigRequiredScopes, IDConfigDotenvSecret} {
		if fs := rep.Find(id); len(fs) != 1 || fs[0].Status != Pass {
			t.Errorf("%s: %+v", id, fs)
		}
	}

	p = writeDotenv(t, authkitEnv+"ATOMCP_BASE_URL=https://other.example.com\n")
	o.ConfigPath = p
	rep = runDoctor(t, o)
	if fs := rep.Find(IDConfigURLMatch); len(fs) != 1 || fs[0].Status != Warn {
		t.Errorf("another deployment's .env: %+v", fs)
	}
}

func TestConfigMissingFile(t *testing.T) {
	rep := runDoctor(t, Options{ConfigPath: filepath.Join(t.TempDir(), ".env")})
	expectFail(t, rep, IDConfigLoad, []string{"--config"})
}

// TestConfigSecretsInGit: a .env with a secret is a failure when git
// tracks it, a warning when git would pick it up, fine when ignored; the
// secret itself never appears in the report.
func TestConfigSecretsInGit(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	f := newFake(t, func(f *fake) { f.asName = "my-app.authkit.app" })
	dir := t.TempDir()
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_SYSTEM=/dev/null")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	git("init", "-q")
	p := filepath.Join(dir, ".env")
	const secret = "sk_test_a1b2c3d4e5f6g7h8i9j0"
	if err := os.WriteFile(p, []byte(authkitEnv+"WORKOS_API_KEY="+secret+"\nATOMS_INTERNAL_TOKEN=\"internal-0123456789abcdef\"\nLOG_LEVEL=INFO\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	rep := runDoctor(t, configOptions(f, p))
	fs := rep.Find(IDConfigDotenvSecret)
	if len(fs) != 1 || fs[0].Status != Warn || !strings.Contains(fs[0].Fix, ".gitignore") {
		t.Fatalf("untracked .env: %+v", fs)
	}

	git("add", ".env")
	git("commit", "-q", "-m", "oops")
	rep = runDoctor(t, configOptions(f, p))
	got := expectFail(t, rep, IDConfigDotenvSecret, []string{"Rotate", "git rm --cached"})
	if !strings.Contains(got.Observed.Detail, "WORKOS_API_KEY") || !strings.Contains(got.Observed.Detail, "ATOMS_INTERNAL_TOKEN") || strings.Contains(got.Observed.Detail, "LOG_LEVEL") {
		t.Errorf("observed %q", got.Observed.Detail)
	}
	text := textOf(t, rep)
	if strings.Contains(text, secret) || strings.Contains(text, "internal-0123456789abcdef") {
		t.Error("the report contains a secret")
	}

	git("rm", "-q", "--cached", ".env")
	if err := os.WriteFile(filepath.Join(dir, ".gitignore"), []byte(".env\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rep = runDoctor(t, configOptions(f, p))
	if fs := rep.Find(IDConfigDotenvSecret); len(fs) != 1 || fs[0].Status != Pass {
		t.Errorf("ignored .env: %+v", fs)
	}
}
