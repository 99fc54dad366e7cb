package authserver

import (
	"crypto/x509"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// cimdServer serves client metadata documents over TLS; doc builds the
// document for the URL it is served at.
type cimdServer struct {
	ts    *httptest.Server
	hits  atomic.Int32
	doc   func(id string) any
	extra func(w http.ResponseWriter)
}

func newCIMDServer(t *testing.T) *cimdServer {
	c := &cimdServer{}
	c.ts = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.hits.Add(1)
		id := "https://" + r.Host + r.URL.Path
		w.Header().Set("Content-Type", "application/json")
		if c.extra != nil {
			c.extra(w)
		}
		switch d := c.doc(id).(type) {
		case string:
			_, _ = w.Write([]byte(d))
		default:
			_ = json.NewEncoder(w).Encode(d)
		}
	}))
	t.Cleanup(c.ts.Close)
	return c
}

func (c *cimdServer) roots() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(c.ts.Certificate())
	return p
}

func goodDoc(id string) any {
	return map[string]any{"client_id": id, "client_name": "Doc Client", "redirect_uris": []string{testRedirect},
		"grant_types": []string{"authorization_code", "refresh_token"}, "token_endpoint_auth_method": "none"}
}

func TestCIMDFlow(t *testing.T) {
	cs := newCIMDServer(t)
	cs.doc = goodDoc
	cs.extra = func(w http.ResponseWriter) { w.Header().Set("Cache-Control", "max-age=60") }
	h := newHarness(t, func(o *Options) { o.AllowPrivateCIMD, o.CIMDRootCAs = true, cs.roots() })
	h.account("alice@example.com")
	id := cs.ts.URL + "/client.json"

	page := h.get(h.authorizeURL(id, nil))
	if page.status != http.StatusOK || !strings.Contains(page.body, "Doc Client") {
		t.Fatalf("login page for a CIMD client: %d\n%s", page.status, page.body)
	}
	tok := h.tokens(id, "alice@example.com")
	if tok["refresh_token"] == nil {
		t.Fatal("no refresh token for a CIMD client that asked for refresh_token")
	}
	// Cached per Cache-Control: the flow fetched it once.
	if n := cs.hits.Load(); n != 1 {
		t.Errorf("document fetched %d times; want 1 (cached for 60 s)", n)
	}
	h.clock.Advance(61 * time.Second)
	h.get(h.authorizeURL(id, nil))
	if n := cs.hits.Load(); n != 2 {
		t.Errorf("document fetched %d times after max-age; want 2", n)
	}
	// Its redirect URIs are enforced.
	r := h.get(h.authorizeURL(id, url.Values{"redirect_uri": {"http://127.0.0.1:1/other"}}))
	if r.status != http.StatusBadRequest || r.header.Get("Location") != "" {
		t.Errorf("unregistered redirect of a CIMD client: %d %q", r.status, r.header.Get("Location"))
	}
}

func TestCIMDBadDocuments(t *testing.T) {
	cs := newCIMDServer(t)
	h := newHarness(t, func(o *Options) { o.AllowPrivateCIMD, o.CIMDRootCAs = true, cs.roots() })
	tests := []struct {
		name  string
		doc   func(id string) any
		words string
	}{
		{"mismatched client_id", func(string) any { return goodDoc("https://other.example/client.json") }, "is not the URL it was fetched from"},
		{"no redirect URIs", func(id string) any { return map[string]any{"client_id": id} }, "no redirect_uris"},
		{"bad redirect URI", func(id string) any {
			return map[string]any{"client_id": id, "redirect_uris": []string{"javascript:alert(1)"}}
		}, "javascript"},
		{"secret", func(id string) any {
			return map[string]any{"client_id": id, "redirect_uris": []string{testRedirect}, "client_secret": "s"}
		}, "client_secret"},
		{"secret auth", func(id string) any {
			return map[string]any{"client_id": id, "redirect_uris": []string{testRedirect}, "token_endpoint_auth_method": "client_secret_basic"}
		}, "use none"},
		{"too big", func(id string) any {
			return map[string]any{"client_id": id, "redirect_uris": []string{testRedirect}, "client_name": strings.Repeat("x", 6000)}
		}, "larger than 5120 bytes"},
		{"not JSON", func(string) any { return "<html>" }, "not valid JSON"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cs.doc = tc.doc
			id := cs.ts.URL + "/c" + string(rune('a'+i)) + ".json"
			r := h.get(h.authorizeURL(id, nil))
			if r.status != http.StatusBadRequest || r.header.Get("Location") != "" || !strings.Contains(r.body, tc.words) {
				t.Errorf("%d %q; want an error page saying %q:\n%s", r.status, r.header.Get("Location"), tc.words, r.body)
			}
		})
	}
	t.Run("unreachable", func(t *testing.T) {
		dead := httptest.NewTLSServer(http.NotFoundHandler())
		id := dead.URL + "/client.json"
		dead.Close()
		r := h.get(h.authorizeURL(id, nil))
		if r.status != http.StatusBadRequest || !strings.Contains(r.body, "could not be fetched") {
			t.Errorf("%d:\n%s", r.status, r.body)
		}
	})
	t.Run("not 200", func(t *testing.T) {
		nf := httptest.NewTLSServer(http.NotFoundHandler())
		defer nf.Close()
		hh := newHarness(t, func(o *Options) {
			p := x509.NewCertPool()
			p.AddCert(nf.Certificate())
			o.AllowPrivateCIMD, o.CIMDRootCAs = true, p
		})
		r := hh.get(hh.authorizeURL(nf.URL+"/client.json", nil))
		if r.status != http.StatusBadRequest || !strings.Contains(r.body, "HTTP 404") {
			t.Errorf("%d:\n%s", r.status, r.body)
		}
	})
	t.Run("http URL", func(t *testing.T) {
		r := h.get(h.authorizeURL("http://127.0.0.1:1/client.json", nil))
		if r.status != http.StatusBadRequest || !strings.Contains(r.body, "must use https") {
			t.Errorf("%d:\n%s", r.status, r.body)
		}
	})
	t.Run("no path", func(t *testing.T) {
		r := h.get(h.authorizeURL(cs.ts.URL, nil))
		if r.status != http.StatusBadRequest || !strings.Contains(r.body, "must have a path") {
			t.Errorf("%d:\n%s", r.status, r.body)
		}
	})
}

// Without ATOMCP_CIMD_ALLOW_PRIVATE, a document on a loopback address is
// refused: by IP literal, and by a name that resolves to loopback (the
// check runs on the dialled address, after DNS).
func TestCIMDRefusesPrivateAddresses(t *testing.T) {
	cs := newCIMDServer(t)
	cs.doc = goodDoc
	h := newHarness(t, func(o *Options) { o.CIMDRootCAs = cs.roots() })
	port := cs.ts.URL[strings.LastIndex(cs.ts.URL, ":")+1:]
	for _, id := range []string{cs.ts.URL + "/client.json", "https://localhost:" + port + "/client.json"} {
		r := h.get(h.authorizeURL(id, nil))
		if r.status != http.StatusBadRequest || !strings.Contains(r.body, "private, loopback or link-local") {
			t.Errorf("%s: %d\n%s", id, r.status, r.body)
		}
	}
	if n := cs.hits.Load(); n != 0 {
		t.Errorf("the private server was reached %d times", n)
	}
}

func TestCacheTTL(t *testing.T) {
	tests := map[string]time.Duration{
		"": cimdDefaultTTL, "max-age=60": time.Minute, "public, max-age=120": 2 * time.Minute,
		"no-store": 0, "no-cache": 0, "max-age=999999": cimdMaxTTL, "max-age=-1": 0, "max-age=x": 0,
	}
	for cc, want := range tests {
		h := http.Header{}
		if cc != "" {
			h.Set("Cache-Control", cc)
		}
		if got := cacheTTL(h); got != want {
			t.Errorf("cacheTTL(%q) = %v; want %v", cc, got, want)
		}
	}
}
