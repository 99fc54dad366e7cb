package embed

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"
)

// Defaults of HTTPConfig.
const (
	DefaultHTTPTimeout      = 30 * time.Second
	DefaultMaxResponseBytes = 32 << 20
	DefaultMaxBatch         = 64
)

// HTTPConfig configures an HTTP embedder.
type HTTPConfig struct {
	// URL is the API base: requests go to URL + "/embeddings", e.g.
	// https://api.openai.com/v1, http://localhost:11434/v1 (Ollama) or
	// http://localhost:8000/v1 (vLLM).
	URL string
	// Model is sent as "model" and is part of Model().
	Model string
	// APIKey, when set, is sent as "Authorization: Bearer …". It never
	// appears in an error.
	APIKey string
	// Dimensions, when set, is the vector length every answer must have;
	// when 0 it is learned from the first answer and then enforced.
	Dimensions int
	// Timeout bounds each request (default DefaultHTTPTimeout).
	Timeout time.Duration
	// MaxResponseBytes bounds the body read from the endpoint (default
	// DefaultMaxResponseBytes).
	MaxResponseBytes int64
	// MaxBatch is the most texts sent in one request (default
	// DefaultMaxBatch); Embed splits larger calls.
	MaxBatch int
	// Client is the HTTP client (default: one of its own). Redirects are
	// refused either way, so that the key is sent only where configured.
	Client *http.Client
}

// HTTP is an Embedder on an OpenAI-compatible embeddings endpoint. It is
// safe for concurrent use.
type HTTP struct {
	endpoint string // URL + "/embeddings"
	model    string
	key      string
	timeout  time.Duration
	maxBytes int64
	maxBatch int
	client   *http.Client
	dims     atomic.Int64 // 0 until configured or learned
}

var _ Embedder = (*HTTP)(nil)

// NewHTTP checks the configuration and returns the embedder. It does not
// contact the endpoint.
func NewHTTP(c HTTPConfig) (*HTTP, error) {
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("embeddings URL: not an absolute http(s) URL; accepted: an API base such as https://api.openai.com/v1 or http://localhost:11434/v1")
	}
	if u.User != nil {
		return nil, errors.New("embeddings URL: must not contain a user name or password; give the key as the API key setting")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("embeddings URL: must not have a query or fragment")
	}
	if strings.TrimSpace(c.Model) == "" {
		return nil, errors.New("embeddings model: empty; name the model the endpoint serves, e.g. text-embedding-3-small or nomic-embed-text")
	}
	if c.Dimensions < 0 {
		return nil, errors.New("embeddings dimensions: negative")
	}
	h := &HTTP{
		endpoint: strings.TrimRight(c.URL, "/") + "/embeddings",
		model:    c.Model,
		key:      c.APIKey,
		timeout:  c.Timeout,
		maxBytes: c.MaxResponseBytes,
		maxBatch: c.MaxBatch,
	}
	if h.timeout <= 0 {
		h.timeout = DefaultHTTPTimeout
	}
	if h.maxBytes <= 0 {
		h.maxBytes = DefaultMaxResponseBytes
	}
	if h.maxBatch <= 0 {
		h.maxBatch = DefaultMaxBatch
	}
	client := http.Client{}
	if c.Client != nil {
		client = *c.Client
	}
	// A redirected POST becomes a GET, and a redirect to another host is
	// not where the operator meant the key to go: refuse and say where to.
	client.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
		return fmt.Errorf("the endpoint redirects to %s; set the embeddings URL to the final address", req.URL.Redacted())
	}
	h.client = &client
	h.dims.Store(int64(c.Dimensions))
	return h, nil
}

// Model is "openai:" + the model name + ":" + the dimensions ("?" until
// the first answer when they were not configured).
func (h *HTTP) Model() string {
	d := "?"
	if n := h.dims.Load(); n > 0 {
		d = strconv.FormatInt(n, 10)
	}
	return "openai:" + h.model + ":" + d
}

// Dimensions is the vector length, or 0 before the first answer when it
// was not configured.
func (h *HTTP) Dimensions() int { return int(h.dims.Load()) }

// Embed sends the texts, at most MaxBatch per request, and checks every
// answer: one vector per text, all of the expected length, finite. The
// vectors are returned scaled to unit length.
func (h *HTTP) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, 0, len(texts))
	for start := 0; start < len(texts); start += h.maxBatch {
		end := min(start+h.maxBatch, len(texts))
		vecs, err := h.request(ctx, texts[start:end])
		if err != nil {
			return nil, err
		}
		out = append(out, vecs...)
	}
	return out, nil
}

type embeddingsRequest struct {
	Model string   `json:"model"`
	Input []string `json:"input"`
}

type embeddingsResponse struct {
	Data []struct {
		Index     *int      `json:"index"`
		Embedding []float32 `json:"embedding"`
	} `json:"data"`
}

func (h *HTTP) request(ctx context.Context, texts []string) ([][]float32, error) {
	body, err := json.Marshal(embeddingsRequest{Model: h.model, Input: texts})
	if err != nil {
		return nil, h.fail("encode the request: %v", err)
	}
	ctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, h.fail("%v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if h.key != "" {
		req.Header.Set("Authorization", "Bearer "+h.key)
	}
	resp, err := h.client.Do(req)
	if err != nil {
		if ctx.Err() == context.DeadlineExceeded {
			return nil, h.fail("no answer within %s", h.timeout)
		}
		return nil, h.fail("%v", h.scrub(err.Error()))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, h.maxBytes+1))
	if err != nil {
		if ctx.Err() == context.DeadlineExceeded {
			return nil, h.fail("the answer did not arrive within %s", h.timeout)
		}
		return nil, h.fail("read the answer: %v", h.scrub(err.Error()))
	}
	if int64(len(data)) > h.maxBytes {
		return nil, h.fail("the answer is larger than %d bytes", h.maxBytes)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, h.statusError(resp.StatusCode, data)
	}
	var r embeddingsResponse
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&r); err != nil {
		return nil, h.fail("the answer is not an embeddings response (%v): %s", err, h.excerpt(data))
	}
	if r.Data == nil {
		return nil, h.fail("the answer has no \"data\" list: %s", h.excerpt(data))
	}
	return h.check(texts, r)
}

// check validates a decoded answer and orders its vectors by index.
func (h *HTTP) check(texts []string, r embeddingsResponse) ([][]float32, error) {
	if len(r.Data) != len(texts) {
		return nil, h.fail("asked for %d embeddings, got %d", len(texts), len(r.Data))
	}
	out := make([][]float32, len(texts))
	withIndex := 0
	for _, d := range r.Data {
		if d.Index != nil {
			withIndex++
		}
	}
	if withIndex != 0 && withIndex != len(r.Data) {
		return nil, h.fail("some embeddings have an index and some do not")
	}
	want := int(h.dims.Load())
	for i, d := range r.Data {
		pos := i
		if d.Index != nil {
			pos = *d.Index
			if pos < 0 || pos >= len(out) || out[pos] != nil {
				return nil, h.fail("embedding index %d is out of range or repeated", pos)
			}
		}
		v := d.Embedding
		if len(v) == 0 {
			return nil, h.fail("embedding %d is empty", pos)
		}
		if want == 0 {
			want = len(v)
		}
		if len(v) != want {
			return nil, h.fail("embedding %d has %d dimensions; expected %d (did the model change? restart atomcp to re-embed with it)", pos, len(v), want)
		}
		if !Normalize(v) {
			return nil, h.fail("embedding %d has a value that is not a finite number", pos)
		}
		out[pos] = v
	}
	// The first good answer fixes the dimensions; a concurrent first
	// answer of another length loses and is refused.
	if !h.dims.CompareAndSwap(0, int64(want)) && int(h.dims.Load()) != want {
		return nil, h.fail("embeddings have %d dimensions; expected %d", want, h.dims.Load())
	}
	return out, nil
}

// statusError explains a non-200 answer. Client errors that mean "these
// texts cannot be embedded" wrap ErrRejected; the others may pass later.
func (h *HTTP) statusError(code int, body []byte) error {
	switch code {
	case http.StatusUnauthorized, http.StatusForbidden:
		what := "was refused"
		if h.key == "" {
			what = "is required but none is set"
		}
		// The body is left out: providers quote part of the key they
		// refused ("sk-…abcd").
		return h.fail("HTTP %d: the API key %s", code, what)
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity:
		return fmt.Errorf("%w: %w", ErrRejected, h.fail("HTTP %d: %s", code, h.excerpt(body)))
	case http.StatusNotFound:
		return h.fail("HTTP 404: no such endpoint or model %q (is the URL the API base, e.g. …/v1?): %s", h.model, h.excerpt(body))
	}
	return h.fail("HTTP %d: %s", code, h.excerpt(body))
}

func (h *HTTP) fail(format string, args ...any) error {
	return fmt.Errorf("embeddings endpoint %s: %s", h.endpoint, fmt.Sprintf(format, args...))
}

// excerpt returns the start of an answer for an error message: printable,
// at most 200 bytes, and without the API key even if the endpoint echoed it.
func (h *HTTP) excerpt(body []byte) string {
	s := strings.TrimSpace(h.scrub(string(body)))
	s = strings.Map(func(r rune) rune {
		if r == utf8.RuneError || unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	if len(s) > 200 {
		cut := 200
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	if s == "" {
		return "(empty answer)"
	}
	return strconv.Quote(s)
}

// scrub removes the API key from text that came from outside.
func (h *HTTP) scrub(s string) string {
	if h.key == "" {
		return s
	}
	return strings.ReplaceAll(s, h.key, "[redacted]")
}
