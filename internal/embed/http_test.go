package embed_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atomcp/atomcp/internal/embed"
)

const testKey = "sk-test-5ecret-key-0123456789"

// fakeEndpoint is an OpenAI-compatible embeddings endpoint that records
// requests and answers with answer (or a correct answer of dims values
// per input when answer is nil).
type fakeEndpoint struct {
	mu       sync.Mutex
	requests []recorded
	dims     int
	answer   func(w http.ResponseWriter, r *http.Request, inputs []string)
}

type recorded struct {
	path, auth, model string
	inputs            []string
}

func (f *fakeEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Model string   `json:"model"`
		Input []string `json:"input"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || r.Method != http.MethodPost {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.requests = append(f.requests, recorded{r.URL.Path, r.Header.Get("Authorization"), body.Model, body.Input})
	answer := f.answer
	f.mu.Unlock()
	if answer != nil {
		answer(w, r, body.Input)
		return
	}
	writeEmbeddings(w, body.Input, f.dims, true)
}

// writeEmbeddings answers with one vector per input, in reverse order with
// indexes when indexed (as servers may), whose first value is the input's
// length so that a test can tell which vector belongs to which text.
func writeEmbeddings(w http.ResponseWriter, inputs []string, dims int, indexed bool) {
	type item struct {
		Object    string    `json:"object"`
		Index     *int      `json:"index,omitempty"`
		Embedding []float32 `json:"embedding"`
	}
	var data []item
	for i := len(inputs) - 1; i >= 0; i-- {
		v := make([]float32, dims)
		v[0] = float32(len(inputs[i]))
		v[1] = 1
		it := item{Object: "embedding", Embedding: v}
		if indexed {
			idx := i
			it.Index = &idx
		}
		data = append(data, it)
	}
	if !indexed { // positional answers must be in order
		for l, r := 0, len(data)-1; l < r; l, r = l+1, r-1 {
			data[l], data[r] = data[r], data[l]
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"object": "list", "data": data, "model": "m"})
}

func newHTTP(t *testing.T, url string, mod func(*embed.HTTPConfig)) *embed.HTTP {
	t.Helper()
	c := embed.HTTPConfig{URL: url + "/v1/", Model: "test-embed", APIKey: testKey, Timeout: 5 * time.Second}
	if mod != nil {
		mod(&c)
	}
	h, err := embed.NewHTTP(c)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestHTTPEmbeds(t *testing.T) {
	fake := &fakeEndpoint{dims: 4}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	h := newHTTP(t, srv.URL, func(c *embed.HTTPConfig) { c.MaxBatch = 2 })
	if h.Dimensions() != 0 || h.Model() != "openai:test-embed:?" {
		t.Fatalf("before any answer: Dimensions %d, Model %q", h.Dimensions(), h.Model())
	}
	texts := []string{"a", "bbb", "cc"}
	vecs, err := h.Embed(t.Context(), texts)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range vecs {
		// v was (len, 1, 0, 0), scaled to unit length.
		l := float32(len(texts[i]))
		if len(v) != 4 || v[1] == 0 || v[0]/v[1] != l {
			t.Fatalf("vector %d = %v; want the direction of (%v, 1, 0, 0)", i, v, l)
		}
	}
	if h.Dimensions() != 4 || h.Model() != "openai:test-embed:4" {
		t.Fatalf("after an answer: Dimensions %d, Model %q", h.Dimensions(), h.Model())
	}
	if len(fake.requests) != 2 {
		t.Fatalf("%d requests for 3 texts at 2 per request", len(fake.requests))
	}
	r := fake.requests[0]
	if r.path != "/v1/embeddings" || r.auth != "Bearer "+testKey || r.model != "test-embed" || strings.Join(r.inputs, ",") != "a,bbb" {
		t.Fatalf("request = %+v", r)
	}
}

func TestHTTPWithoutKeyOrIndexes(t *testing.T) {
	fake := &fakeEndpoint{answer: func(w http.ResponseWriter, _ *http.Request, in []string) { writeEmbeddings(w, in, 3, false) }}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	h := newHTTP(t, srv.URL, func(c *embed.HTTPConfig) { c.APIKey = "" })
	vecs, err := h.Embed(t.Context(), []string{"xx", "y"})
	if err != nil {
		t.Fatal(err)
	}
	if vecs[0][0]/vecs[0][1] != 2 || vecs[1][0]/vecs[1][1] != 1 {
		t.Fatalf("positional answer reordered: %v", vecs)
	}
	if fake.requests[0].auth != "" {
		t.Fatalf("Authorization sent without a key: %q", fake.requests[0].auth)
	}
}

// TestHTTPBadEndpoints: every way an endpoint can fail gives an error that
// names the problem and never contains the key.
func TestHTTPBadEndpoints(t *testing.T) {
	raw := func(code int, body string) func(http.ResponseWriter, *http.Request, []string) {
		return func(w http.ResponseWriter, _ *http.Request, _ []string) {
			w.WriteHeader(code)
			_, _ = io.WriteString(w, body)
		}
	}
	vectors := func(vecs string) func(http.ResponseWriter, *http.Request, []string) {
		return raw(200, `{"data":[`+vecs+`]}`)
	}
	cases := []struct {
		name     string
		answer   func(http.ResponseWriter, *http.Request, []string)
		dims     int
		want     string
		rejected bool
	}{
		{"not JSON", raw(200, "<html>gateway</html>"), 0, "not an embeddings response", false},
		{"no data", raw(200, `{"error":"x"}`), 0, `no "data" list`, false},
		{"strings for numbers", vectors(`{"embedding":["a","b"]}`), 0, "not an embeddings response", false},
		{"too few", vectors(`{"index":0,"embedding":[1,2]}`), 0, "asked for 2 embeddings, got 1", false},
		{"too many", vectors(`{"embedding":[1]},{"embedding":[1]},{"embedding":[1]}`), 0, "asked for 2 embeddings, got 3", false},
		{"empty vector", vectors(`{"embedding":[]},{"embedding":[]}`), 0, "is empty", false},
		{"ragged", vectors(`{"embedding":[1,2]},{"embedding":[1,2,3]}`), 0, "has 3 dimensions; expected 2", false},
		{"wrong dimensions", vectors(`{"embedding":[1,2]},{"embedding":[1,2]}`), 3, "has 2 dimensions; expected 3", false},
		{"repeated index", vectors(`{"index":1,"embedding":[1]},{"index":1,"embedding":[1]}`), 0, "out of range or repeated", false},
		{"index out of range", vectors(`{"index":0,"embedding":[1]},{"index":7,"embedding":[1]}`), 0, "out of range or repeated", false},
		{"mixed indexes", vectors(`{"index":0,"embedding":[1]},{"embedding":[1]}`), 0, "some embeddings have an index", false},
		{"overflow", vectors(`{"embedding":[1e99]},{"embedding":[1]}`), 0, "not an embeddings response", false},
		{"server error", raw(503, "upstream overloaded"), 0, `HTTP 503: "upstream overloaded"`, false},
		{"unknown model", raw(404, `{"error":"model not found"}`), 0, "HTTP 404: no such endpoint or model", false},
		{"key refused, echoed", raw(401, `{"error":"Incorrect API key provided: `+testKey+`"}`), 0, "HTTP 401: the API key was refused", false},
		{"text too long", raw(400, `{"error":"input too long; key `+testKey+`"}`), 0, `HTTP 400: "{\"error\":\"input too long; key [redacted]\"}"`, true},
		{"too large", raw(200, `{"data":[`+strings.Repeat(" ", 2000)+`]}`), 0, "larger than 1024 bytes", false},
		{"redirect", func(w http.ResponseWriter, r *http.Request, _ []string) {
			http.Redirect(w, r, "http://elsewhere.example/v1/embeddings", http.StatusTemporaryRedirect)
		}, 0, "redirects to http://elsewhere.example/v1/embeddings", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(&fakeEndpoint{answer: c.answer})
			defer srv.Close()
			h := newHTTP(t, srv.URL, func(hc *embed.HTTPConfig) { hc.Dimensions = c.dims; hc.MaxResponseBytes = 1024 })
			_, err := h.Embed(t.Context(), []string{"one", "two"})
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if !strings.Contains(msg, c.want) || !strings.Contains(msg, srv.URL+"/v1/embeddings") {
				t.Fatalf("error %q; want it to contain %q and the endpoint", msg, c.want)
			}
			if strings.Contains(msg, testKey) || strings.Contains(fmt.Sprintf("%+v %#v", err, err), testKey) {
				t.Fatalf("error contains the API key: %q", msg)
			}
			if errors.Is(err, embed.ErrRejected) != c.rejected {
				t.Fatalf("errors.Is(ErrRejected) = %v; want %v", !c.rejected, c.rejected)
			}
			if c.dims == 0 && h.Dimensions() != 0 {
				t.Fatalf("a failed answer fixed the dimensions at %d", h.Dimensions())
			}
		})
	}
}

func TestHTTPDown(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more
	h := newHTTP(t, url, nil)
	_, err := h.Embed(t.Context(), []string{"x"})
	if err == nil || !strings.Contains(err.Error(), url) || strings.Contains(err.Error(), testKey) {
		t.Fatalf("Embed on a closed port = %v", err)
	}
}

func TestHTTPSlow(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(&fakeEndpoint{answer: func(w http.ResponseWriter, r *http.Request, _ []string) {
		// Never answers within the embedder's timeout; returns when the
		// client gives up, or when the test ends.
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}})
	defer srv.Close()
	defer close(release)
	h := newHTTP(t, srv.URL, func(c *embed.HTTPConfig) { c.Timeout = 50 * time.Millisecond })
	start := time.Now()
	_, err := h.Embed(t.Context(), []string{"x"})
	if err == nil || !strings.Contains(err.Error(), "no answer within 50ms") {
		t.Fatalf("Embed on a slow endpoint = %v", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("the timeout did not stop the request: %s", took)
	}
}

// TestHTTPDimensionsChange: once learned, the dimensions are enforced, so
// that vectors of another model never mix with the stored ones.
func TestHTTPDimensionsChange(t *testing.T) {
	fake := &fakeEndpoint{dims: 4}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	h := newHTTP(t, srv.URL, nil)
	if _, err := h.Embed(t.Context(), []string{"x"}); err != nil {
		t.Fatal(err)
	}
	fake.mu.Lock()
	fake.dims = 8
	fake.mu.Unlock()
	if _, err := h.Embed(t.Context(), []string{"x"}); err == nil || !strings.Contains(err.Error(), "has 8 dimensions; expected 4") {
		t.Fatalf("Embed after the model changed = %v", err)
	}
}

func TestNewHTTPRefusesBadConfig(t *testing.T) {
	cases := []struct {
		c    embed.HTTPConfig
		want string
	}{
		{embed.HTTPConfig{URL: "localhost:11434", Model: "m"}, "not an absolute http(s) URL"},
		{embed.HTTPConfig{URL: "ftp://x/v1", Model: "m"}, "not an absolute http(s) URL"},
		{embed.HTTPConfig{URL: "https://user:" + testKey + "@x/v1", Model: "m"}, "user name or password"},
		{embed.HTTPConfig{URL: "https://x/v1?key=1", Model: "m"}, "query or fragment"},
		{embed.HTTPConfig{URL: "https://x/v1", Model: " "}, "embeddings model: empty"},
		{embed.HTTPConfig{URL: "https://x/v1", Model: "m", Dimensions: -1}, "negative"},
	}
	for _, c := range cases {
		_, err := embed.NewHTTP(c.c)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), testKey) {
			t.Errorf("NewHTTP(%s) = %v; want %q", c.c.URL, err, c.want)
		}
	}
}

func TestNewFromSettings(t *testing.T) {
	e, err := embed.New(embed.Settings{})
	if err != nil || e.Model() != embed.NewLocal(0).Model() {
		t.Fatalf("New with no URL = %v, %v; want the local embedder", e, err)
	}
	e, err = embed.New(embed.Settings{URL: "http://localhost:11434/v1", Model: "nomic-embed-text", APIKey: testKey})
	if err != nil || e.Model() != "openai:nomic-embed-text:?" {
		t.Fatalf("New with a URL = %v, %v", e, err)
	}
	if _, err := embed.New(embed.Settings{URL: "http://localhost:11434/v1"}); err == nil {
		t.Fatal("New with a URL and no model succeeded")
	}
}
