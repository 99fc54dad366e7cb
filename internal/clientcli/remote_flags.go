package clientcli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/atomcp/atomcp/internal/mcpclient"
	"github.com/atomcp/atomcp/internal/oauthclient"
	"github.com/spf13/cobra"
)

// clientFlags are the flags of the MCP client commands (login, tools,
// resources, prompts): how to reach and authorize against a remote MCP
// server, and how to print.
type clientFlags struct {
	// version is not a flag: it is atomcp's version, which the client
	// sends to the server and to the authorization server.
	version string

	headers      []string
	token        string
	jsonOut      bool
	clientID     string
	clientSecret string
	metadataURL  string
	callbackPort int
	noBrowser    bool
	scopes       []string
	loginTimeout time.Duration
	dpop         bool
	grant        string
	privateKey   string
	assertion    string
}

func (f *clientFlags) bind(cmd *cobra.Command) {
	fl := cmd.PersistentFlags()
	fl.StringArrayVarP(&f.headers, "header", "H", nil, `extra HTTP header for the MCP server, "Name: value" (repeatable)`)
	fl.StringVar(&f.token, "token", "", "bearer token to send instead of logging in with OAuth (also ATOMCP_TOKEN)")
	fl.BoolVar(&f.jsonOut, "json", false, "print JSON instead of text")
	fl.StringVar(&f.clientID, "client-id", "", "use this pre-registered OAuth client instead of registering one")
	fl.StringVar(&f.clientSecret, "client-secret", "", "secret of the --client-id client (also ATOMCP_CLIENT_SECRET)")
	fl.StringVar(&f.metadataURL, "client-metadata-url", "", "identify as this client ID metadata document (an https URL) instead of registering")
	fl.IntVar(&f.callbackPort, "callback-port", 0, "port of the loopback login callback on 127.0.0.1 (default: the registered one, or any free port)")
	fl.BoolVar(&f.noBrowser, "no-browser", false, "print the login URL instead of opening a browser")
	fl.StringSliceVar(&f.scopes, "scope", nil, "scopes to ask for instead of those the server names (repeatable or comma-separated)")
	fl.DurationVar(&f.loginTimeout, "login-timeout", 5*time.Minute, "how long to wait for the login in the browser")
	fl.BoolVar(&f.dpop, "dpop", false, "bind tokens to a key of this client (DPoP, RFC 9449); used anyway when the server asks for it")
	fl.StringVar(&f.grant, "grant", "", "get a token without a browser: client_credentials (with --client-id and --client-secret or --private-key) or jwt-bearer (with --assertion-file)")
	fl.StringVar(&f.privateKey, "private-key", "", "PEM file of the private key for private_key_jwt client authentication (--grant client_credentials)")
	fl.StringVar(&f.assertion, "assertion-file", "", "file holding the JWT of a jwt-bearer grant (a workload identity token)")
}

// grantHandler builds the handler of --grant.
func (f *clientFlags) grantHandler(u string) (*oauthclient.GrantHandler, error) {
	cfg := oauthclient.GrantConfig{ClientID: f.clientID, ClientSecret: f.secret(), Scopes: f.scopes}
	switch f.grant {
	case "client_credentials":
		cfg.Grant = oauthclient.GrantClientCredentials
		if f.privateKey != "" {
			b, err := os.ReadFile(f.privateKey)
			if err != nil {
				return nil, fmt.Errorf("read the --private-key file: %w", err)
			}
			cfg.PrivateKeyPEM = string(b)
		}
	case "jwt-bearer":
		cfg.Grant = oauthclient.GrantJWTBearer
		if f.assertion == "" {
			return nil, fmt.Errorf("--grant jwt-bearer needs --assertion-file")
		}
		b, err := os.ReadFile(f.assertion)
		if err != nil {
			return nil, fmt.Errorf("read the --assertion-file: %w", err)
		}
		cfg.Assertion = strings.TrimSpace(string(b))
	default:
		return nil, fmt.Errorf("--grant %q is not one of client_credentials, jwt-bearer", f.grant)
	}
	return oauthclient.NewGrantHandler(u, cfg)
}

// serverURL checks the URL argument.
func serverURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%q is not an MCP server URL; give the full endpoint, such as http://127.0.0.1:8000/api/mcp", raw)
	}
	if u.Fragment != "" {
		return "", fmt.Errorf("the MCP server URL %q has a #fragment, which a resource identifier may not have", raw)
	}
	return raw, nil
}

func (f *clientFlags) headerValues() (http.Header, error) {
	h := http.Header{}
	for _, kv := range f.headers {
		name, value, ok := strings.Cut(kv, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			return nil, fmt.Errorf(`--header %q is not "Name: value"`, kv)
		}
		h.Add(name, strings.TrimSpace(value))
	}
	return h, nil
}

func (f *clientFlags) bearer() string {
	if f.token != "" {
		return f.token
	}
	return os.Getenv("ATOMCP_TOKEN")
}

func (f *clientFlags) secret() string {
	if f.clientSecret != "" {
		return f.clientSecret
	}
	return os.Getenv("ATOMCP_CLIENT_SECRET")
}

// openTokenCache opens the token cache; a cache that cannot be opened is a
// warning, and the command goes on without one.
func openTokenCache(stderr io.Writer) *oauthclient.Store {
	warn := func(err error) { fmt.Fprintln(stderr, "atomcp: warning:", err) }
	dir, err := oauthclient.DefaultDir()
	if err != nil {
		warn(err)
		return nil
	}
	s, err := oauthclient.OpenStore(dir, warn)
	if err != nil {
		warn(fmt.Errorf("%v; logins are not kept", err))
		return nil
	}
	return s
}

// clientSession is a connected client and, when OAuth is used, its handler.
type clientSession struct {
	*mcpclient.Client
	oauth *oauthclient.Handler
	store *oauthclient.Store
}

// connect connects to the MCP server at raw with the flags' way of
// authorizing. forceLogin ignores a stored token.
func (f *clientFlags) connect(ctx context.Context, cmd *cobra.Command, raw string, forceLogin bool) (*clientSession, error) {
	return f.connectWith(ctx, cmd, raw, forceLogin, nil)
}

// connectWith is connect with tune, when set, adjusting the options last.
func (f *clientFlags) connectWith(ctx context.Context, cmd *cobra.Command, raw string, forceLogin bool, tune func(*mcpclient.Options) error) (*clientSession, error) {
	u, err := serverURL(raw)
	if err != nil {
		return nil, err
	}
	headers, err := f.headerValues()
	if err != nil {
		return nil, err
	}
	stderr := cmd.ErrOrStderr()
	opts := mcpclient.Options{URL: u, Headers: headers, Token: f.bearer(), Name: "atomcp", Version: f.version}
	s := &clientSession{}
	if f.grant != "" && opts.Token == "" && headers.Get("Authorization") == "" {
		if forceLogin {
			return nil, fmt.Errorf("--grant gets a token without a login; use it with tools, resources or prompts")
		}
		g, err := f.grantHandler(u)
		if err != nil {
			return nil, err
		}
		opts.OAuth = g
	} else if opts.Token == "" && headers.Get("Authorization") == "" {
		reg := oauthclient.Registration{ClientID: f.clientID, ClientSecret: f.secret(), MetadataURL: f.metadataURL}
		if reg.ClientID == "" && reg.MetadataURL == "" {
			reg.Dynamic = true
		}
		if reg.ClientID != "" && reg.MetadataURL != "" {
			return nil, fmt.Errorf("--client-id and --client-metadata-url name two different clients; give one")
		}
		s.store = openTokenCache(stderr)
		h, err := oauthclient.New(oauthclient.Config{
			ServerURL:       u,
			Store:           s.store,
			Registration:    reg,
			Scopes:          f.scopes,
			CallbackPort:    f.callbackPort,
			NoBrowser:       f.noBrowser,
			Prompt:          stderr,
			LoginTimeout:    f.loginTimeout,
			ClientName:      "atomcp",
			SoftwareVersion: f.version,
			ForceLogin:      forceLogin,
			DPoP:            f.dpop,
		})
		if err != nil {
			return nil, err
		}
		s.oauth = h
		opts.OAuth = h
	}
	if tune != nil {
		if err := tune(&opts); err != nil {
			return nil, err
		}
	}
	c, err := mcpclient.Connect(ctx, opts)
	if err != nil {
		return nil, err
	}
	s.Client = c
	return s, nil
}
