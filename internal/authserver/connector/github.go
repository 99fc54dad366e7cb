package connector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"golang.org/x/oauth2"
)

// GitHubURL is github.com; GitHub Enterprise Server has its own.
const GitHubURL = "https://github.com"

// GitHubConfig configures the GitHub connector (an OAuth app or a GitHub
// App's OAuth credentials).
type GitHubConfig struct {
	Common
	// URL is https://github.com (the default) or a GitHub Enterprise
	// Server's base URL, whose API is at URL/api/v3.
	URL string
	// Orgs, when set, admits new accounts only for members of one of
	// these organizations (logins, case-insensitive).
	Orgs []string
}

// GitHub signs in with GitHub's OAuth flow; GitHub has no ID token, so the
// person is read from its API: /user, the primary verified address of
// /user/emails and, with Orgs, /user/orgs.
type GitHub struct {
	cfg   GitHubConfig
	oauth *oauth2.Config
	api   string
}

// NewGitHub returns the GitHub connector.
func NewGitHub(cfg GitHubConfig) *GitHub {
	cfg.defaults()
	base := strings.TrimSuffix(cfg.URL, "/")
	if base == "" {
		base = GitHubURL
	}
	cfg.URL = base
	api := "https://api.github.com"
	if base != GitHubURL {
		api = base + "/api/v3"
	}
	cfg.Orgs = splitList(cfg.Orgs)
	scopes := []string{"read:user", "user:email"}
	if len(cfg.Orgs) > 0 {
		scopes = append(scopes, "read:org")
	}
	return &GitHub{cfg: cfg, api: api, oauth: &oauth2.Config{
		ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, RedirectURL: cfg.RedirectURL, Scopes: scopes,
		Endpoint: oauth2.Endpoint{AuthURL: base + "/login/oauth/authorize", TokenURL: base + "/login/oauth/access_token", AuthStyle: oauth2.AuthStyleInParams},
	}}
}

func (g *GitHub) ID() string   { return "github" }
func (g *GitHub) Name() string { return "GitHub" }

// URL is the GitHub base URL.
func (g *GitHub) URL() string { return g.cfg.URL }

// AuthURL is GitHub's authorization page with atomcp's state and PKCE
// challenge (GitHub has no nonce: there is no ID token).
func (g *GitHub) AuthURL(_ context.Context, a Attempt) (string, error) {
	return g.oauth.AuthCodeURL(a.State, oauth2.S256ChallengeOption(a.Verifier)), nil
}

// Check asks the API root, which answers without credentials.
func (g *GitHub) Check(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.api+"/", nil)
	if err != nil {
		return &Error{Kind: Unreachable, Provider: g.Name(), Err: err}
	}
	resp, err := g.cfg.HTTPClient.Do(req)
	if err != nil {
		return &Error{Kind: Unreachable, Provider: g.Name(), Err: fmt.Errorf("GET %s/: %w", g.api, err)}
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return &Error{Kind: Unreachable, Provider: g.Name(), Err: fmt.Errorf("GET %s/ answered %s", g.api, resp.Status)}
	}
	return nil
}

// Identity exchanges the code and reads the person from the API.
func (g *GitHub) Identity(ctx context.Context, code string, a Attempt) (*Identity, error) {
	hctx := context.WithValue(ctx, oauth2.HTTPClient, g.cfg.HTTPClient)
	tok, err := g.oauth.Exchange(hctx, code, oauth2.VerifierOption(a.Verifier))
	if err != nil {
		return nil, exchangeError(g.Name(), err)
	}
	if tok.AccessToken == "" {
		// GitHub answers a bad code with 200 and an error field, which
		// x/oauth2 reports; an empty token is the remaining oddity.
		return nil, &Error{Kind: Rejected, Provider: g.Name(), Err: errors.New("the token response has no access_token")}
	}
	client := g.oauth.Client(hctx, tok)
	var user struct {
		ID    int64  `json:"id"`
		Login string `json:"login"`
		Name  string `json:"name"`
	}
	if err := g.get(ctx, client, "/user", &user); err != nil {
		return nil, err
	}
	if user.ID == 0 {
		return nil, &Error{Kind: Unreachable, Provider: g.Name(), Err: errors.New("GET /user returned no id")}
	}
	var emails []struct {
		Email    string `json:"email"`
		Primary  bool   `json:"primary"`
		Verified bool   `json:"verified"`
	}
	if err := g.get(ctx, client, "/user/emails", &emails); err != nil {
		return nil, err
	}
	id := &Identity{Subject: strconv.FormatInt(user.ID, 10), Name: user.Name}
	if id.Name == "" {
		id.Name = user.Login
	}
	for _, e := range emails {
		if e.Primary {
			id.Email, id.EmailVerified = strings.ToLower(strings.TrimSpace(e.Email)), e.Verified
		}
	}
	if len(g.cfg.Orgs) > 0 {
		var orgs []struct {
			Login string `json:"login"`
		}
		if err := g.get(ctx, client, "/user/orgs?per_page=100", &orgs); err != nil {
			return nil, err
		}
		member := false
		for _, o := range orgs {
			member = member || contains(g.cfg.Orgs, strings.ToLower(o.Login))
		}
		if !member {
			id.Refusal = "the GitHub account is not a member of an organization this server admits (ATOMCP_SIGNIN_GITHUB_ORGS); if it is, grant atomcp's OAuth app access to that organization"
		}
	}
	return id, nil
}

func (g *GitHub) get(ctx context.Context, client *http.Client, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.api+path, nil)
	if err != nil {
		return &Error{Kind: Unreachable, Provider: g.Name(), Err: err}
	}
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	resp, err := client.Do(req)
	if err != nil {
		return &Error{Kind: Unreachable, Provider: g.Name(), Err: fmt.Errorf("GET %s: %w", path, err)}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return &Error{Kind: Unreachable, Provider: g.Name(), Err: fmt.Errorf("GET %s: %w", path, err)}
	}
	if resp.StatusCode != http.StatusOK {
		return &Error{Kind: Unreachable, Provider: g.Name(), Err: fmt.Errorf("GET %s answered %s", path, resp.Status)}
	}
	if err := json.Unmarshal(body, v); err != nil {
		return &Error{Kind: Unreachable, Provider: g.Name(), Err: fmt.Errorf("GET %s: %w", path, err)}
	}
	return nil
}
