// Package connectortest provides upstream identity providers for tests:
// a stand-in of GitHub's OAuth flow and API, and mockoidc users with the
// claims that sign-in rules look at. Only tests import it.
package connectortest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"
)

// GitHubUser is a person known to the GitHub stand-in.
type GitHubUser struct {
	ID            int64
	Login, Name   string
	Email         string
	EmailVerified bool
	Orgs          []string
}

// GitHub is a stand-in of github.com (as a GitHub Enterprise Server: its
// API under /api/v3): the authorization endpoint answers at once with a
// code for the next queued user, as mockoidc does, and the token endpoint
// checks the client credentials and the PKCE verifier.
type GitHub struct {
	*httptest.Server
	ClientID, ClientSecret string

	mu     sync.Mutex
	queue  []GitHubUser
	codes  map[string]pendingCode // code -> who and the challenge
	tokens map[string]GitHubUser
	next   int
}

type pendingCode struct {
	user      GitHubUser
	challenge string
}

// NewGitHub starts the stand-in; it stops with the test.
func NewGitHub(t testing.TB) *GitHub {
	g := &GitHub{ClientID: "gh-client", ClientSecret: "gh-secret", codes: map[string]pendingCode{}, tokens: map[string]GitHubUser{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login/oauth/authorize", g.authorize)
	mux.HandleFunc("POST /login/oauth/access_token", g.token)
	mux.HandleFunc("GET /api/v3/{$}", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, map[string]string{"current_user_url": "/user"})
	})
	mux.HandleFunc("GET /api/v3/user", g.api(func(u GitHubUser) any {
		return map[string]any{"id": u.ID, "login": u.Login, "name": u.Name}
	}))
	mux.HandleFunc("GET /api/v3/user/emails", g.api(func(u GitHubUser) any {
		return []map[string]any{{"email": "noreply-" + u.Login + "@users.noreply.github.com", "primary": false, "verified": true},
			{"email": u.Email, "primary": true, "verified": u.EmailVerified}}
	}))
	mux.HandleFunc("GET /api/v3/user/orgs", g.api(func(u GitHubUser) any {
		out := []map[string]any{}
		for _, o := range u.Orgs {
			out = append(out, map[string]any{"login": o})
		}
		return out
	}))
	g.Server = httptest.NewServer(mux)
	t.Cleanup(g.Close)
	return g
}

// Queue makes u the person of the next authorization.
func (g *GitHub) Queue(u GitHubUser) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.queue = append(g.queue, u)
}

func (g *GitHub) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("client_id") != g.ClientID || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" {
		http.Error(w, "bad authorization request", http.StatusBadRequest)
		return
	}
	g.mu.Lock()
	u := GitHubUser{ID: 4242, Login: "octocat", Name: "The Octocat", Email: "octocat@example.com", EmailVerified: true}
	if len(g.queue) > 0 {
		u, g.queue = g.queue[0], g.queue[1:]
	}
	g.next++
	code := "ghcode" + strconv.Itoa(g.next)
	g.codes[code] = pendingCode{user: u, challenge: q.Get("code_challenge")}
	g.mu.Unlock()
	to, err := url.Parse(q.Get("redirect_uri"))
	if err != nil {
		http.Error(w, "bad redirect_uri", http.StatusBadRequest)
		return
	}
	v := to.Query()
	v.Set("code", code)
	v.Set("state", q.Get("state"))
	to.RawQuery = v.Encode()
	http.Redirect(w, r, to.String(), http.StatusFound) // #nosec G710 -- a test provider that sends the browser back to the redirect URI the test gave it
}

func (g *GitHub) token(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	f := r.PostForm
	g.mu.Lock()
	defer g.mu.Unlock()
	pc, ok := g.codes[f.Get("code")]
	delete(g.codes, f.Get("code"))
	sum := sha256.Sum256([]byte(f.Get("code_verifier")))
	switch {
	case f.Get("client_id") != g.ClientID || f.Get("client_secret") != g.ClientSecret:
		writeJSON(w, map[string]string{"error": "incorrect_client_credentials"})
	case !ok:
		writeJSON(w, map[string]string{"error": "bad_verification_code"})
	case base64.RawURLEncoding.EncodeToString(sum[:]) != pc.challenge:
		writeJSON(w, map[string]string{"error": "bad_verification_code", "error_description": "PKCE verification failed"})
	default:
		g.next++
		tok := "ghtoken" + strconv.Itoa(g.next)
		g.tokens[tok] = pc.user
		writeJSON(w, map[string]string{"access_token": tok, "token_type": "bearer", "scope": f.Get("scope")})
	}
}

func (g *GitHub) api(body func(GitHubUser) any) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok := r.Header.Get("Authorization")
		g.mu.Lock()
		u, ok := g.tokens[trimBearer(tok)]
		g.mu.Unlock()
		if !ok {
			w.WriteHeader(http.StatusUnauthorized)
			writeJSON(w, map[string]string{"message": "Bad credentials"})
			return
		}
		writeJSON(w, body(u))
	}
}

func trimBearer(h string) string {
	for _, p := range []string{"Bearer ", "bearer ", "token "} {
		if len(h) > len(p) && h[:len(p)] == p {
			return h[len(p):]
		}
	}
	return ""
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// User is a mockoidc user whose ID-token claims are given in full, so that
// a test can send email_verified false, org_id, hd, or a wrong nonce,
// issuer or audience.
type User struct {
	*mockoidc.MockUser
	// Extra claims merged into the ID token.
	Extra map[string]any
	// Override replaces registered claims after the mock set them: "iss",
	// "aud", "nonce".
	Override map[string]string
}

// NewUser is a user with a verified email.
func NewUser(sub, email string) *User {
	return &User{MockUser: &mockoidc.MockUser{Subject: sub, Email: email, EmailVerified: true, PreferredUsername: sub}}
}

type userClaims struct {
	*mockoidc.IDTokenClaims
	values map[string]any
}

func (c *userClaims) MarshalJSON() ([]byte, error) {
	base, err := json.Marshal(c.IDTokenClaims)
	if err != nil {
		return nil, err
	}
	m := map[string]any{}
	if err := json.Unmarshal(base, &m); err != nil {
		return nil, err
	}
	for k, v := range c.values {
		m[k] = v
	}
	return json.Marshal(m)
}

// Claims are the mock's registered claims plus email, email_verified (sent
// even when false), name and Extra, then Override.
func (u *User) Claims(scope []string, base *mockoidc.IDTokenClaims) (jwt.Claims, error) {
	vals := map[string]any{"email": u.Email, "email_verified": u.EmailVerified, "name": u.PreferredUsername}
	for k, v := range u.Extra {
		vals[k] = v
	}
	for k, v := range u.Override {
		vals[k] = v
	}
	return &userClaims{IDTokenClaims: base, values: vals}, nil
}
