package doctor

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/oauthex"

	"github.com/atomcp/atomcp/internal/config"
	"github.com/atomcp/atomcp/internal/netaddr"
)

// loadConfig reads the --config configuration the way atomcp serve
// would (the environment wins over the .env file), before the server
// checks, so that they can use it.
func (r *run) loadConfig() {
	if _, err := os.Stat(r.opts.ConfigPath); err != nil {
		r.cfgErr = &fileError{err}
		return
	}
	r.cfg, r.cfgErr = config.Load(nil, r.opts.Environ, r.opts.ConfigPath)
}

// fileError is a .env file that cannot be read at all.
type fileError struct{ err error }

func (e *fileError) Error() string { return e.err.Error() }

// checkConfig lints the local configuration.
func (r *run) checkConfig(ctx context.Context) {
	path := r.opts.ConfigPath
	var fe *fileError
	if errors.As(r.cfgErr, &fe) {
		r.add(Finding{ID: IDConfigLoad, Area: AreaConfig, Status: Fail, Title: "cannot read " + path + ": " + fe.err.Error(),
			Fix: "Give the .env file atomcp serve reads: the one in the directory it is started from (atomcp doctor --config path/to/.env)."})
		return
	}
	if r.cfgErr != nil {
		for _, line := range strings.Split(r.cfgErr.Error(), "\n") {
			r.add(configErrorFinding(line))
		}
		return
	}
	c := r.cfg
	r.add(Finding{ID: IDConfigLoad, Area: AreaConfig, Status: Pass,
		Title: fmt.Sprintf("%s loads: auth %s (from %s), MCP URL %s", path, c.Auth, c.Sources[config.KeyAuth], c.MCPURL())})
	for _, w := range c.Warnings {
		r.add(Finding{ID: IDConfigLoad, Area: AreaConfig, Status: Warn, Title: w,
			Fix: "Do what the warning says; atomcp serve logs the same line at start-up."})
	}
	if c.Auth == config.AuthAuthKit {
		r.add(checkAuthKitDomain(c))
	}
	r.add(checkBaseURL(c))
	if r.mcp != nil || r.opts.URL != "" {
		r.add(r.checkURLMatch(c))
	}
	meta := r.checkConfigIssuer(ctx, c)
	r.add(r.checkRequiredScopes(c, meta))
	r.checkSignin(ctx, c)
	r.add(checkDotenvSecrets(path))
}

// configErrorFinding files one error line of config.Load under the
// check it belongs to.
func configErrorFinding(line string) Finding {
	f := Finding{ID: IDConfigLoad, Area: AreaConfig, Status: Fail, Title: line,
		Fix: "The message names the variable (or .env line) and what is accepted; atomcp serve refuses to start with it."}
	switch {
	case strings.Contains(line, "AUTHKIT_DOMAIN") || strings.Contains(line, "--authkit-domain") || strings.Contains(line, "AuthKit domain"):
		f.ID = IDConfigAuthKitDomain
		f.Fix = "Set the AuthKit domain to https://<random-phrase>.authkit.app as shown in the WorkOS dashboard under Domains (ATOMCP_AUTHKIT_DOMAIN, or FASTMCP_SERVER_AUTH_AUTHKITPROVIDER_AUTHKIT_DOMAIN in the old .env); plain http:// is accepted for localhost only."
	case strings.Contains(line, "BASE_URL") || strings.Contains(line, "--base-url"):
		f.ID = IDConfigBaseURL
		f.Fix = "Set the public base URL to scheme://host[:port] without path, query or fragment, e.g. ATOMCP_BASE_URL=https://mcp.example.com."
	}
	return f
}

// checkAuthKitDomain checks the AuthKit domain beyond its syntax.
func checkAuthKitDomain(c *config.Config) Finding {
	f := Finding{ID: IDConfigAuthKitDomain, Area: AreaConfig, Observed: &Observed{Detail: "AuthKit domain " + c.AuthKitDomain + " (from " + c.Sources[config.KeyAuthKitDomain] + ")"}}
	u, _ := url.Parse(c.AuthKitDomain)
	host := strings.ToLower(u.Hostname())
	switch {
	case host == "workos.com" || strings.HasSuffix(host, ".workos.com"):
		f.Status, f.Title = Fail, "the AuthKit domain is a WorkOS API or dashboard host ("+host+"), not your AuthKit domain"
		f.Fix = "Use the AuthKit domain shown in the WorkOS dashboard under Domains: https://<random-phrase>.authkit.app (or your custom AuthKit domain in production)."
	case u.Scheme != "https":
		f.Status, f.Title, f.Observed = Pass, "AuthKit domain "+c.AuthKitDomain+" (http:// on localhost: a test set-up)", nil
	case strings.HasSuffix(host, ".authkit.app"):
		f.Status, f.Title, f.Observed = Pass, "AuthKit domain "+c.AuthKitDomain, nil
	default:
		f.Status, f.Title, f.Observed = Pass, "AuthKit domain "+c.AuthKitDomain+" (a custom domain)", nil
	}
	return f
}

// checkBaseURL checks the public base URL.
func checkBaseURL(c *config.Config) Finding {
	f := Finding{ID: IDConfigBaseURL, Area: AreaConfig}
	src := c.Sources[config.KeyBaseURL]
	u, _ := url.Parse(c.BaseURL)
	switch {
	case c.IsDefault(config.KeyBaseURL) && !c.AddrIsLoopback() && c.Auth != config.AuthNone:
		f.Status, f.Title = Warn, "no public base URL, while listening on "+c.Addr
		f.Fix = "Behind a proxy or on a public address the server cannot know the URL clients use: set ATOMCP_BASE_URL=https://your.public.host (the old ATOMS_FASTMCP_BASE_URL works too); without it atomcp answers requests for other hosts with 400."
	case c.IsDefault(config.KeyBaseURL):
		f.Status, f.Title = Pass, "no public base URL: documents are built from the loopback URL each client uses"
	case u.Scheme == "http" && !netaddr.IsLoopbackHost(u.Hostname()):
		f.Status, f.Title = Fail, "the base URL is http:// for the public host "+u.Hostname()
		f.Observed = &Observed{Detail: "base URL " + c.BaseURL + " (from " + src + ")"}
		f.Fix = "Use https:// (a TLS proxy in front is fine): clients refuse http:// metadata for hosts other than localhost, tokens would travel in clear, and the tokens' audience is this URL."
	default:
		f.Status, f.Title = Pass, "public base URL "+c.BaseURL+" (from "+src+")"
	}
	return f
}

// checkURLMatch compares the configured MCP URL with the one checked.
func (r *run) checkURLMatch(c *config.Config) Finding {
	f := Finding{ID: IDConfigURLMatch, Area: AreaConfig}
	checked := strings.TrimSuffix(r.opts.URL, "/")
	if r.mcp != nil {
		checked = strings.TrimSuffix(r.mcp.String(), "/")
	}
	if c.IsDefault(config.KeyBaseURL) {
		u, err := url.Parse(checked)
		if err == nil && netaddr.IsLoopbackHost(u.Hostname()) && strings.TrimSuffix(u.Path, "/") == c.MCPPath {
			f.Status, f.Title = Pass, "the checked URL is this configuration's MCP endpoint (path "+c.MCPPath+")"
			return f
		}
	}
	if strings.EqualFold(checked, c.MCPURL()) {
		f.Status, f.Title = Pass, "the checked URL is this configuration's MCP URL"
		return f
	}
	f.Status, f.Title = Warn, fmt.Sprintf("the configuration's MCP URL is %s, not the checked %s", c.MCPURL(), checked)
	f.Fix = "Either the .env belongs to another deployment, or the server advertises another URL than clients use: make ATOMCP_BASE_URL + ATOMCP_MCP_PATH the URL clients are given."
	return f
}

// configIssuer returns the issuer the configuration trusts.
func configIssuer(c *config.Config) string {
	switch c.Auth {
	case config.AuthAuthKit:
		return c.AuthKitDomain
	case config.AuthOIDC:
		return c.OIDCIssuer
	}
	return ""
}

// checkConfigIssuer checks that the configured issuer publishes its
// metadata, reusing what the server checks found.
func (r *run) checkConfigIssuer(ctx context.Context, c *config.Config) *oauthex.AuthServerMeta {
	iss := configIssuer(c)
	if iss == "" {
		r.add(skip(IDConfigIssuer, AreaConfig, "auth is "+c.Auth+": no remote identity provider to check"))
		return nil
	}
	for _, is := range r.issuers {
		if is.meta != nil && strings.TrimSuffix(is.url, "/") == strings.TrimSuffix(iss, "/") {
			r.add(Finding{ID: IDConfigIssuer, Area: AreaConfig, Status: Pass, Title: "the server advertises the configured issuer " + iss})
			return is.meta
		}
	}
	f, meta, _ := r.discover(ctx, IDConfigIssuer, AreaConfig, iss)
	if meta != nil && len(r.issuers) > 0 {
		var names []string
		for _, is := range r.issuers {
			names = append(names, is.url)
		}
		f.Status = Warn
		f.Title = fmt.Sprintf("the configured issuer %s is not what the server advertises (%s)", iss, strings.Join(names, ", "))
		f.Fix = "The running server was started with another configuration than this .env: restart it, or check which .env it reads."
	}
	r.add(f)
	return meta
}

// oidcScopes are OpenID Connect scopes: they shape the ID token, and many
// providers leave them out of access tokens.
var oidcScopes = []string{"openid", "profile", "email", "offline_access", "address", "phone"}

// checkRequiredScopes checks that the identity provider issues the
// scopes every token must carry.
func (r *run) checkRequiredScopes(c *config.Config, meta *oauthex.AuthServerMeta) Finding {
	f := Finding{ID: IDConfigRequiredScopes, Area: AreaConfig}
	req := c.RequiredScopes
	if len(req) == 0 {
		f.Status, f.Title = Pass, "no required scopes"
		return f
	}
	f.Observed = &Observed{Detail: "required scopes: " + strings.Join(req, " ") + " (from " + c.Sources[config.KeyRequiredScopes] + ")"}
	if meta != nil && len(meta.ScopesSupported) > 0 {
		var unknown []string
		for _, s := range req {
			if !slices.Contains(meta.ScopesSupported, s) {
				unknown = append(unknown, s)
			}
		}
		if len(unknown) > 0 {
			f.Status, f.Title = Fail, "required scopes the identity provider does not offer: "+strings.Join(unknown, " ")
			f.Observed.Detail += "; scopes_supported: " + strings.Join(meta.ScopesSupported, " ")
			f.Fix = "No token will ever carry them, so every request gets 403 insufficient_scope: remove them from ATOMCP_REQUIRED_SCOPES (FASTMCP_SERVER_AUTH_AUTHKITPROVIDER_REQUIRED_SCOPES in the old .env) or define them at the identity provider."
			return f
		}
	}
	if r.tokenScopesKnown {
		var missing []string
		for _, s := range req {
			if !slices.Contains(r.tokenScopes, s) {
				missing = append(missing, s)
			}
		}
		if len(missing) > 0 {
			f.Status, f.Title = Fail, "the --token access token does not carry the required scope(s) "+strings.Join(missing, " ")
			f.Observed.Detail += "; token scopes: " + orNone(r.tokenScopes)
			f.Fix = "The identity provider does not put these scopes into access tokens: remove them from ATOMCP_REQUIRED_SCOPES (FASTMCP_SERVER_AUTH_AUTHKITPROVIDER_REQUIRED_SCOPES in the old .env), or configure the provider to include them."
			return f
		}
		f.Status, f.Title, f.Observed = Pass, "the --token access token carries the required scopes", nil
		return f
	}
	var oidc []string
	for _, s := range req {
		if slices.Contains(oidcScopes, s) {
			oidc = append(oidc, s)
		}
	}
	if len(oidc) > 0 {
		f.Status, f.Title = Warn, "required scopes include OpenID Connect scopes ("+strings.Join(oidc, " ")+") that not every provider puts into access tokens"
		f.Fix = "If the access tokens lack them, every request gets 403 insufficient_scope. Check a real token: atomcp doctor URL --config --token <access token>; if it lacks them, remove them from ATOMCP_REQUIRED_SCOPES."
		return f
	}
	f.Status, f.Title, f.Observed = Pass, "required scopes: "+strings.Join(req, " "), nil
	return f
}

// secretName matches variable names that hold secrets.
var secretName = regexp.MustCompile(`(?i)(SECRET|TOKEN|PASSWORD|PASSWD|API_?KEY|PRIVATE_?KEY|SERVICE_ROLE_KEY|CREDENTIALS?)`)

// checkDotenvSecrets warns about a .env with secrets that git tracks or
// would pick up. Values are never read into the finding: only names.
func checkDotenvSecrets(path string) Finding {
	f := Finding{ID: IDConfigDotenvSecret, Area: AreaConfig}
	names := dotenvSecretNames(path)
	if len(names) == 0 {
		f.Status, f.Title = Pass, "no secrets in "+path
		return f
	}
	dir, file := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	git := func(args ...string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, "git", append([]string{"-C", dir}, args...)...) // #nosec G204 -- git with fixed arguments on the directory being checked; no shell
		cmd.Env = append(os.Environ(), "GIT_OPTIONAL_LOCKS=0")
		out, err := cmd.Output()
		return strings.TrimSpace(string(out)), err
	}
	list := strings.Join(names, ", ")
	f.Observed = &Observed{Detail: "secret variables: " + list}
	if _, err := exec.LookPath("git"); err != nil {
		f.Status, f.Title = Skip, "git is not installed: cannot tell whether "+path+" ("+list+") is committed"
		return f
	}
	if _, err := git("rev-parse", "--show-toplevel"); err != nil {
		f.Status, f.Title = Pass, path+" holds secrets ("+list+") and is not in a git repository"
		return f
	}
	if _, err := git("ls-files", "--error-unmatch", "--", file); err == nil {
		f.Status, f.Title = Fail, path+" holds secrets ("+list+") and is committed to git"
		f.Fix = "Rotate these secrets now (anyone with the repository has them): a new WorkOS API key in the dashboard (API Keys), new static tokens (openssl rand -hex 32). Then `git rm --cached " + file + "`, add it to .gitignore, and keep a .env.example without values."
		return f
	}
	if _, err := git("check-ignore", "-q", "--", file); err != nil {
		f.Status, f.Title = Warn, path+" holds secrets ("+list+") and is not ignored by git"
		f.Fix = "Add " + file + " to .gitignore before a `git add .` commits it."
		return f
	}
	f.Status, f.Title, f.Observed = Pass, path+" holds secrets and is ignored by git", nil
	return f
}

// dotenvSecretNames returns the names of the .env's variables that look
// like secrets and have a value. Only names are looked at; the file's
// parsing is config's, this only scans NAME= at the start of lines.
func dotenvSecretNames(path string) []string {
	data, err := os.ReadFile(path) // #nosec G304 -- the .env file doctor was asked to check
	if err != nil {
		return nil
	}
	var names []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		line = strings.TrimSpace(strings.TrimPrefix(line, "export "))
		name, val, ok := strings.Cut(line, "=")
		name, val = strings.TrimSpace(name), strings.Trim(strings.TrimSpace(val), `"'`)
		if !ok || strings.HasPrefix(name, "#") || val == "" || strings.HasPrefix(val, "#") || strings.ContainsAny(name, " \t") {
			continue
		}
		if secretName.MatchString(name) && !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	return names
}
