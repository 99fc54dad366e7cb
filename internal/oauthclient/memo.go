package oauthclient

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// memoTransport remembers the answers to GET requests (the metadata
// documents) between resets, so that go-sdk's flow, which fetches the
// documents [Discover] has just fetched and checked, gets exactly those
// documents without asking the servers again. Everything else passes
// through.
type memoTransport struct {
	base http.RoundTripper

	mu    sync.Mutex
	cache map[string]*memoEntry
}

type memoEntry struct {
	status int
	header http.Header
	body   []byte
}

func (m *memoTransport) reset() {
	m.mu.Lock()
	m.cache = nil
	m.mu.Unlock()
}

func (m *memoTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodGet {
		return m.base.RoundTrip(req)
	}
	key := req.URL.String()
	m.mu.Lock()
	e := m.cache[key]
	m.mu.Unlock()
	if e != nil {
		return e.response(req), nil
	}
	resp, err := m.base.RoundTrip(req)
	if err != nil || resp.StatusCode >= 500 {
		return resp, err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxMetadataBytes+1))
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	e = &memoEntry{status: resp.StatusCode, header: resp.Header.Clone(), body: body}
	m.mu.Lock()
	if m.cache == nil {
		m.cache = make(map[string]*memoEntry)
	}
	m.cache[key] = e
	m.mu.Unlock()
	return e.response(req), nil
}

func (e *memoEntry) response(req *http.Request) *http.Response {
	return &http.Response{
		Status:        http.StatusText(e.status),
		StatusCode:    e.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        e.header.Clone(),
		Body:          io.NopCloser(bytes.NewReader(e.body)),
		ContentLength: int64(len(e.body)),
		Request:       req,
	}
}

// resourceTransport adds the resource parameter (RFC 8707) to refresh
// requests at the token endpoint: the MCP specification asks for it on
// every token request, and golang.org/x/oauth2 has no way to add a
// parameter to a refresh.
type resourceTransport struct {
	base     http.RoundTripper
	tokenURL string
	resource string
}

func (t *resourceTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodPost || req.URL.String() != t.tokenURL || t.resource == "" || req.Body == nil {
		return t.base.RoundTrip(req)
	}
	if !strings.HasPrefix(req.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		return t.base.RoundTrip(req)
	}
	raw, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, err
	}
	form, err := url.ParseQuery(string(raw))
	if err == nil && form.Get("grant_type") == "refresh_token" && !form.Has("resource") {
		form.Set("resource", t.resource)
		raw = []byte(form.Encode())
	}
	r2 := req.Clone(req.Context())
	r2.Body = io.NopCloser(bytes.NewReader(raw))
	r2.ContentLength = int64(len(raw))
	r2.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(raw)), nil }
	return t.base.RoundTrip(r2)
}
