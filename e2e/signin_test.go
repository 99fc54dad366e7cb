package e2e

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"

	"github.com/atomcp/atomcp/internal/authserver/connector/connectortest"
)

// Sign-in through upstream identity providers, end to end against the
// binary: an MCP client registers (DCR), sends its person to atomcp's
// sign-in page with PKCE, the person signs in at a real OpenID provider
// (mockoidc, as a generic issuer and as an AuthKit domain) or at a
// stand-in of GitHub, and the client calls a tool with atomcp's token.

var signinButton = regexp.MustCompile(`<a class="button primary" href="([^"]+)">Sign in with ([^<]+)</a>`)

// mcpClient is an MCP client's side of the OAuth flow: its registration
// and PKCE verifier.
type mcpClient struct {
	id, verifier string
}

const signinRedirect = "http://127.0.0.1:9/callback"

func registerClient(t *testing.T, s *server) *mcpClient {
	t.Helper()
	resp, err := http.Post(s.Base+"/oauth/register", "application/json",
		strings.NewReader(`{"redirect_uris":["`+signinRedirect+`"],"token_endpoint_auth_method":"none","client_name":"signin e2e"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var reg map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&reg)
	id, _ := reg["client_id"].(string)
	if resp.StatusCode != http.StatusCreated || id == "" {
		t.Fatalf("register: %d %v", resp.StatusCode, reg)
	}
	return &mcpClient{id: id, verifier: strings.Repeat("signin-verifier-", 4)}
}

func (c *mcpClient) authorizeURL(s *server) string {
	sum := sha256.Sum256([]byte(c.verifier))
	return s.Base + "/oauth/authorize?" + url.Values{"response_type": {"code"}, "client_id": {c.id}, "redirect_uri": {signinRedirect},
		"state": {"client-state"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
		"resource": {s.URL}, "scope": {"atoms:read atoms:write"}}.Encode()
}

// token exchanges the code of the redirect to the client.
func (c *mcpClient) token(t *testing.T, s *server, r *http.Response) string {
	t.Helper()
	loc, _ := url.Parse(r.Header.Get("Location"))
	if loc == nil || loc.Query().Get("code") == "" || loc.Query().Get("state") != "client-state" {
		t.Fatalf("no code for the client: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	status, tok := postForm(t, s.Base+"/oauth/token", url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")},
		"redirect_uri": {signinRedirect}, "code_verifier": {c.verifier}, "client_id": {c.id}, "resource": {s.URL}})
	if status != 200 || tok["access_token"] == nil {
		t.Fatalf("token: %d %v", status, tok)
	}
	return tok["access_token"].(string)
}

// signInWith clicks the provider's button on the sign-in page, follows
// the provider back to atomcp, allows the consent and returns the code's
// redirect.
func signInWith(t *testing.T, b *browser, s *server, c *mcpClient, provider string) *http.Response {
	t.Helper()
	r, page := b.do(http.MethodGet, c.authorizeURL(s), nil)
	href := ""
	for _, m := range signinButton.FindAllStringSubmatch(page, -1) {
		if m[2] == provider {
			href = html.UnescapeString(m[1])
		}
	}
	if r.StatusCode != 200 || href == "" {
		t.Fatalf("sign-in page without a %s button: %d\n%s", provider, r.StatusCode, page)
	}
	r, _ = b.do(http.MethodGet, href, nil)
	if r.StatusCode != http.StatusFound {
		t.Fatalf("start at %s: %d", provider, r.StatusCode)
	}
	r, _ = b.do(http.MethodGet, r.Header.Get("Location"), nil) // the provider
	back := r.Header.Get("Location")
	if r.StatusCode != http.StatusFound || !strings.HasPrefix(back, s.Base+"/oauth/callback?") {
		t.Fatalf("%s returned %d to %q; want %s/oauth/callback", provider, r.StatusCode, back, s.Base)
	}
	r, page = b.do(http.MethodGet, back, nil)
	if r.StatusCode == 200 && strings.Contains(page, `value="allow"`) {
		r, _ = b.submit(page, url.Values{"decision": {"allow"}})
	}
	if r.StatusCode != http.StatusSeeOther && r.StatusCode != http.StatusFound {
		t.Fatalf("after %s: %d\n%s", provider, r.StatusCode, page)
	}
	return r
}

func TestSigninThroughProvidersEndToEnd(t *testing.T) {
	dir := t.TempDir()
	oidcIdP, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = oidcIdP.Shutdown() })
	// Google is OpenID Connect at accounts.google.com: a second mockoidc
	// stands in for it, so that the Google connector's own rules (its
	// scopes, the Workspace domain of the hd claim) are what is tested.
	googleIdP, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = googleIdP.Shutdown() })
	authkit := connectortest.NewAuthKit(t)
	gh := connectortest.NewGitHub(t)

	// The old .env of the guide, with ATOMCP_AUTH=embedded added.
	dotenv := "FASTMCP_SERVER_AUTH_AUTHKITPROVIDER_AUTHKIT_DOMAIN=" + authkit.Domain + "\n" +
		"FASTMCP_SERVER_AUTH_AUTHKITPROVIDER_REQUIRED_SCOPES=openid,profile,email\n" +
		"WORKOS_CLIENT_ID=" + authkit.ClientID + "\nWORKOS_API_KEY=" + authkit.ClientSecret + "\n"
	if err := os.WriteFile(filepath.Join(dir, ".env"), []byte(dotenv), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, dir, "ATOMCP_AUTH=embedded",
		"ATOMCP_SIGNIN_OIDC_ISSUER="+oidcIdP.Issuer(), "ATOMCP_SIGNIN_OIDC_CLIENT_ID="+oidcIdP.ClientID,
		"ATOMCP_SIGNIN_OIDC_CLIENT_SECRET="+oidcIdP.ClientSecret, "ATOMCP_SIGNIN_OIDC_NAME=Keycloak",
		"ATOMCP_SIGNIN_GITHUB_CLIENT_ID="+gh.ClientID, "ATOMCP_SIGNIN_GITHUB_CLIENT_SECRET="+gh.ClientSecret,
		"ATOMCP_SIGNIN_GITHUB_URL="+gh.URL,
		"ATOMCP_SIGNIN_GOOGLE_ISSUER="+googleIdP.Issuer(), "ATOMCP_SIGNIN_GOOGLE_CLIENT_ID="+googleIdP.ClientID,
		"ATOMCP_SIGNIN_GOOGLE_CLIENT_SECRET="+googleIdP.ClientSecret, "ATOMCP_SIGNIN_GOOGLE_DOMAINS=example.com")
	s.syncLog(t)
	all := strings.Join(s.stderr.all, "\n")
	for _, name := range []string{"WorkOS AuthKit", "Keycloak", "GitHub", "Google"} {
		if !strings.Contains(all, `"name":"`+name+`","callback_url":"`+s.Base+`/oauth/callback"`) {
			t.Errorf("the start-up log does not give %s's callback URL:\n%s", name, all)
		}
	}
	if strings.Contains(all, authkit.ClientSecret) || strings.Contains(all, oidcIdP.ClientSecret) || strings.Contains(all, gh.ClientSecret) ||
		strings.Contains(all, googleIdP.ClientSecret) {
		t.Error("a client secret is in the log")
	}

	authkit.Queue(connectortest.NewUser("user_01WOS", "wanda@example.com"))
	oidcIdP.QueueUser(connectortest.NewUser("kc-olga", "olga@example.com"))
	gh.Queue(connectortest.GitHubUser{ID: 99, Login: "gus", Email: "gus@example.com", EmailVerified: true})
	gina := connectortest.NewUser("google-gina", "gina@example.com")
	gina.Extra = map[string]any{"hd": "example.com"}
	googleIdP.QueueUser(gina)
	for _, tc := range []struct{ provider, email string }{
		{"WorkOS AuthKit", "wanda@example.com"}, {"Keycloak", "olga@example.com"}, {"GitHub", "gus@example.com"},
		{"Google", "gina@example.com"},
	} {
		t.Run(tc.provider, func(t *testing.T) {
			c := registerClient(t, s)
			tok := c.token(t, s, signInWith(t, newBrowser(t), s, c, tc.provider))
			cs, err := connectWithToken(t, s.URL, tok)
			if err != nil {
				t.Fatalf("connect: %v", err)
			}
			// The first call creates the person's profile and personal
			// organization, as for any first login.
			res := mustCall(t, cs, "workspace_tool", map[string]any{"operation": "list_workspaces"})
			if b, _ := json.Marshal(res); !strings.Contains(string(b), `"personal"`) {
				t.Errorf("list_workspaces has no personal organization: %s", b)
			}
		})
	}
	// A Google account of another Workspace domain (or a consumer account,
	// which has no hd) gets no account: ATOMCP_SIGNIN_GOOGLE_DOMAINS.
	t.Run("Google other domain", func(t *testing.T) {
		gus := connectortest.NewUser("google-outsider", "outsider@elsewhere.example")
		gus.Extra = map[string]any{"hd": "elsewhere.example"}
		googleIdP.QueueUser(gus)
		c := registerClient(t, s)
		b := newBrowser(t)
		r, page := b.do(http.MethodGet, c.authorizeURL(s), nil)
		href := ""
		for _, m := range signinButton.FindAllStringSubmatch(page, -1) {
			if m[2] == "Google" {
				href = html.UnescapeString(m[1])
			}
		}
		if r.StatusCode != 200 || href == "" {
			t.Fatalf("no Google button: %d", r.StatusCode)
		}
		r, _ = b.do(http.MethodGet, href, nil)
		r, _ = b.do(http.MethodGet, r.Header.Get("Location"), nil)
		r, page = b.do(http.MethodGet, r.Header.Get("Location"), nil)
		if r.StatusCode != http.StatusForbidden || !strings.Contains(page, "elsewhere.example") {
			t.Errorf("another Workspace domain: %d, want 403 naming the domain\n%s", r.StatusCode, page)
		}
	})
	s.stop(t)
	out := runUsers(t, dir, "list")
	if strings.Contains(out, "outsider@elsewhere.example") {
		t.Errorf("an account was created for another Workspace domain:\n%s", out)
	}
	for _, want := range []string{"workos (wanda@example.com, subject user_01WOS", "oidc (olga@example.com", "github (gus@example.com, subject 99",
		"google (gina@example.com, subject google-gina"} {
		if !strings.Contains(out, want) {
			t.Errorf("users list does not show %q:\n%s", want, out)
		}
	}
}

// An AuthKit without Dynamic Client Registration, as the old server's
// users had it: ATOMCP_AUTH=authkit starts, and says both fixes.
func TestSigninAuthKitWithoutDCRGivesBothFixes(t *testing.T) {
	authkit := connectortest.NewAuthKit(t)
	s := startServer(t, t.TempDir(), "FASTMCP_SERVER_AUTH=fastmcp.server.auth.providers.workos.AuthKitProvider",
		"ATOMCP_AUTH=", "FASTMCP_SERVER_AUTH_AUTHKITPROVIDER_AUTHKIT_DOMAIN="+authkit.Domain)
	check := func(line string) bool {
		if !strings.Contains(line, "client_registration") {
			return false
		}
		for _, want := range []string{"enable Dynamic Client Registration", "ATOMCP_AUTH=embedded", "WORKOS_CLIENT_ID", s.Base + "/oauth/callback"} {
			if !strings.Contains(line, want) {
				t.Errorf("the advice does not say %q: %s", want, line)
			}
		}
		return true
	}
	for _, line := range s.stderr.all {
		if check(line) {
			return
		}
	}
	deadline := time.After(30 * time.Second)
	for {
		select {
		case line, ok := <-s.stderr.lines:
			if !ok {
				t.Fatalf("atomcp exited; log:\n%s", strings.Join(s.stderr.all, "\n"))
			}
			s.stderr.all = append(s.stderr.all, line)
			if check(line) {
				return
			}
		case <-deadline:
			t.Fatalf("no advice within 30s; log:\n%s", strings.Join(s.stderr.all, "\n"))
		}
	}
}

// runUsers runs `atomcp users ARGS…` against the database in dir.
func runUsers(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"users"}, args...)...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "ATOMCP_DATABASE_URL=sqlite://" + filepath.Join(dir, "atomcp.db")}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("users %v: %v\n%s", args, err, out)
	}
	return string(out)
}
