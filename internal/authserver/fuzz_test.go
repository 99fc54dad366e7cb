package authserver

import (
	"encoding/json"
	"net/url"
	"testing"
)

// FuzzRedirectMatches: a requested redirect URI matches only a registered
// one exactly, or, for a loopback http URI, the same one on another port.
func FuzzRedirectMatches(f *testing.F) {
	for _, s := range [][2]string{
		{"http://127.0.0.1/cb", "http://127.0.0.1:53122/cb"},
		{"http://localhost:3000/cb", "http://localhost:3000/cb?x=1"},
		{"https://app.example.com/cb", "https://app.example.com/cb/../evil"},
		{"http://[::1]/cb", "http://[::1]:1/cb#frag"},
		{"cursor://anysphere.cursor-retrieval/oauth/cb", "cursor://anysphere.cursor-retrieval/oauth/cb"},
		{"http://127.0.0.1/cb", "http://user@127.0.0.1:1/cb"},
		{"http://127.0.0.1/cb", "http://127.0.0.1.evil.com/cb"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, registered, requested string) {
		_, _ = validateRedirectURI(registered)
		_, _ = validateRedirectURI(requested)
		if !redirectMatches([]string{registered}, requested) || registered == requested {
			return
		}
		reg, err1 := url.Parse(registered)
		req, err2 := url.Parse(requested)
		if err1 != nil || err2 != nil {
			t.Fatalf("%q matched %q without both parsing", requested, registered)
		}
		if req.Scheme != "http" || !isLoopbackRedirectHost(req.Hostname()) || req.User != nil || req.Fragment != "" ||
			reg.Hostname() != req.Hostname() || reg.EscapedPath() != req.EscapedPath() || reg.RawQuery != req.RawQuery {
			t.Fatalf("%q matched %q: not the same loopback URI on another port", requested, registered)
		}
	})
}

// FuzzCIMDDocument: a client metadata document never panics the parser,
// and an accepted one is a public client at the URL it came from whose
// every redirect URI is acceptable.
func FuzzCIMDDocument(f *testing.F) {
	const id = "https://client.example.com/meta.json"
	for _, s := range []string{
		`{"client_id":"` + id + `","client_name":"C","redirect_uris":["http://127.0.0.1/cb"]}`,
		`{"client_id":"` + id + `","redirect_uris":["https://x.example/cb"],"grant_types":["authorization_code","refresh_token"],"response_types":["code"]}`,
		`{"client_id":"` + id + `","client_secret":"s","redirect_uris":["http://127.0.0.1/cb"]}`,
		`{"client_id":"https://other.example/x","redirect_uris":["javascript:alert(1)"]}`,
		`{"client_id":"` + id + `","redirect_uris":[],"token_endpoint_auth_method":"client_secret_basic"}`,
		`[1,2]`, `{"redirect_uris":null}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		var doc cimdDocument
		if json.Unmarshal([]byte(body), &doc) != nil {
			return
		}
		c, err := doc.client(id)
		if err != nil {
			return
		}
		if c.ID != id || c.AuthMethod != "none" || !c.FromDocument || doc.ClientSecret != "" || len(c.RedirectURIs) == 0 {
			t.Fatalf("accepted %+v from %s", c, body)
		}
		for _, r := range c.RedirectURIs {
			if _, err := validateRedirectURI(r); err != nil {
				t.Fatalf("accepted redirect URI %q: %v", r, err)
			}
		}
	})
}
