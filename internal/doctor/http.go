package doctor

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"syscall"
	"time"
)

// newRun builds the HTTP client of a run.
//
// doctor is a client tool that a user points at their own server, which is
// often on localhost or a private network: unlike the server's own fetches
// (CIMD documents, JWKS), it must reach loopback and private addresses, so
// there is deliberately no SSRF guard here. What it does guard against is
// a server that hangs, sends too much or redirects forever: each request
// has a timeout, bodies are cut at MaxBodyBytes and redirects are never
// followed by the client (follow does it by hand, step by step).
func newRun(o Options) *run {
	dial := (&net.Dialer{Timeout: min(o.RequestTimeout, 10*time.Second)}).DialContext
	proxy := http.ProxyFromEnvironment
	if o.DialContext != nil {
		dial = o.DialContext
		proxy = nil
	}
	tr := &http.Transport{
		Proxy:                 proxy,
		DialContext:           dial,
		TLSClientConfig:       &tls.Config{RootCAs: o.RootCAs, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:   min(o.RequestTimeout, 10*time.Second),
		ResponseHeaderTimeout: o.RequestTimeout,
		ForceAttemptHTTP2:     true,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       30 * time.Second,
	}
	return &run{
		opts:      o,
		transport: tr,
		hc: &http.Client{
			Transport:     tr,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

func (r *run) close() { r.transport.CloseIdleConnections() }

// request is one HTTP request to send.
type request struct {
	Method string
	URL    string
	Header http.Header
	Body   []byte
	// HideBody keeps the response body out of the -v trace (a
	// registration answer may hold a client secret).
	HideBody bool
}

// response is an answer, its body read (at most MaxBodyBytes).
type response struct {
	Method   string
	URL      string
	Status   int
	Header   http.Header
	Body     []byte
	TooLarge bool // the body was longer than MaxBodyBytes and was cut
	Duration time.Duration
	TLS      *tls.ConnectionState
}

// observed is the evidence of a response, with the named headers.
func (p *response) observed(headers ...string) *Observed {
	o := &Observed{Method: p.Method, URL: p.URL, Status: p.Status}
	for _, h := range headers {
		if v := p.Header.Values(h); len(v) > 0 {
			if o.Headers == nil {
				o.Headers = make(map[string]string)
			}
			o.Headers[h] = strings.Join(v, ", ")
		}
	}
	return o
}

// do sends one request, never following a redirect.
func (r *run) do(ctx context.Context, q request) (*response, error) {
	ctx, cancel := context.WithTimeout(ctx, r.opts.RequestTimeout)
	defer cancel()
	var body io.Reader
	if q.Body != nil {
		body = bytes.NewReader(q.Body)
	}
	req, err := http.NewRequestWithContext(ctx, q.Method, q.URL, body)
	if err != nil {
		return nil, err
	}
	if q.Header != nil {
		req.Header = q.Header.Clone()
	}
	req.Header.Set("User-Agent", "atomcp-doctor/"+r.opts.Version)
	start := time.Now()
	resp, err := r.hc.Do(req)
	if err != nil {
		r.trace(q, req, nil, err, time.Since(start))
		return nil, err
	}
	defer resp.Body.Close()
	p := &response{Method: q.Method, URL: q.URL, Status: resp.StatusCode, Header: resp.Header, TLS: resp.TLS}
	if isEventStream(resp.Header) {
		p.Body, p.TooLarge, err = readEvents(resp.Body, r.opts.MaxBodyBytes)
	} else {
		p.Body, err = io.ReadAll(io.LimitReader(resp.Body, r.opts.MaxBodyBytes+1))
		if int64(len(p.Body)) > r.opts.MaxBodyBytes {
			p.Body, p.TooLarge = p.Body[:r.opts.MaxBodyBytes], true
		}
	}
	p.Duration = time.Since(start)
	if err != nil && !p.TooLarge {
		err = fmt.Errorf("reading the body: %w", err)
		r.trace(q, req, p, err, p.Duration)
		return nil, err
	}
	r.trace(q, req, p, nil, p.Duration)
	return p, nil
}

func isEventStream(h http.Header) bool {
	mt, _, _ := mime.ParseMediaType(h.Get("Content-Type"))
	return mt == "text/event-stream"
}

// readEvents reads a server-sent event stream until the first event that
// is a JSON-RPC response (a server may keep the stream open after it) and
// returns that event's data; notifications before it are skipped.
func readEvents(rd io.Reader, limit int64) ([]byte, bool, error) {
	sc := bufio.NewScanner(io.LimitReader(rd, limit+1))
	sc.Buffer(make([]byte, 0, 64<<10), int(limit)+1)
	var data []byte
	var read int64
	for sc.Scan() {
		line := sc.Bytes()
		read += int64(len(line)) + 1
		switch {
		case len(line) == 0:
			if isRPCResponse(data) {
				return data, false, nil
			}
			data = nil
		case bytes.HasPrefix(line, []byte("data:")):
			if data != nil {
				data = append(data, '\n')
			}
			data = append(data, bytes.TrimPrefix(bytes.TrimPrefix(line, []byte("data:")), []byte(" "))...)
		}
	}
	if isRPCResponse(data) {
		return data, false, nil
	}
	if read > limit || errors.Is(sc.Err(), bufio.ErrTooLong) {
		return nil, true, nil
	}
	return nil, false, sc.Err()
}

func isRPCResponse(data []byte) bool {
	var m struct {
		ID     json.RawMessage `json:"id"`
		Result json.RawMessage `json:"result"`
		Error  json.RawMessage `json:"error"`
	}
	return json.Unmarshal(data, &m) == nil && len(m.ID) > 0 && string(m.ID) != "null" && (m.Result != nil || m.Error != nil)
}

// redirectError is a redirect chain that did not end.
type redirectError struct {
	loop  bool
	chain []string // every URL visited, in order
}

func (e *redirectError) Error() string {
	if e.loop {
		return fmt.Sprintf("redirect loop: %s", strings.Join(e.chain, " → "))
	}
	return fmt.Sprintf("more than %d redirects: %s → …", MaxRedirects, strings.Join(e.chain[:min(len(e.chain), 4)], " → "))
}

func isRedirect(status int) bool {
	switch status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// follow sends a request and follows redirects by hand, as a browser
// would (301, 302 and 303 turn a POST into a GET), up to MaxRedirects. It
// returns the final answer and the redirects on the way; a loop or an
// endless chain is a *redirectError.
func (r *run) follow(ctx context.Context, q request) (*response, []*response, error) {
	var hops []*response
	seen := map[string]bool{q.Method + " " + q.URL: true}
	chain := []string{q.URL}
	for {
		p, err := r.do(ctx, q)
		if err != nil {
			return nil, hops, err
		}
		loc := p.Header.Get("Location")
		if !isRedirect(p.Status) || loc == "" {
			return p, hops, nil
		}
		hops = append(hops, p)
		next, err := url.Parse(q.URL)
		if err == nil {
			next, err = next.Parse(loc)
		}
		if err != nil {
			return p, hops, fmt.Errorf("redirect to an unusable Location %q: %v", loc, err)
		}
		switch p.Status {
		case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther:
			if q.Method == http.MethodPost {
				q.Method, q.Body = http.MethodGet, nil
			}
		}
		q.URL = next.String()
		chain = append(chain, q.URL)
		key := q.Method + " " + q.URL
		if seen[key] {
			return p, hops, &redirectError{loop: true, chain: chain}
		}
		if len(hops) >= MaxRedirects {
			return p, hops, &redirectError{chain: chain}
		}
		seen[key] = true
	}
}

// errKind classifies a transport error.
type errKind int

const (
	errOther errKind = iota
	errDNS
	errRefused
	errTimeout
	errTLS
	errRedirect
)

func classify(err error) errKind {
	var dns *net.DNSError
	var re *redirectError
	var cve *tls.CertificateVerificationError
	var rhe tls.RecordHeaderError
	var uae x509.UnknownAuthorityError
	var he x509.HostnameError
	var cie x509.CertificateInvalidError
	var ne net.Error
	switch {
	case errors.As(err, &re):
		return errRedirect
	case errors.As(err, &dns):
		return errDNS
	case errors.As(err, &cve), errors.As(err, &rhe), errors.As(err, &uae), errors.As(err, &he), errors.As(err, &cie):
		return errTLS
	case errors.Is(err, syscall.ECONNREFUSED):
		return errRefused
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return errTimeout
	}
	return errOther
}

// describe says in a few words why a request failed.
func (r *run) describe(err error) string {
	var dns *net.DNSError
	switch classify(err) {
	case errDNS:
		errors.As(err, &dns)
		return fmt.Sprintf("the host name %s does not resolve (DNS: %s)", dns.Name, dns.Err)
	case errRefused:
		return "connection refused: nothing listens on that port"
	case errTimeout:
		return fmt.Sprintf("no answer within %s", r.opts.RequestTimeout)
	case errTLS:
		return "TLS failed: " + tlsCause(err)
	case errRedirect:
		return err.Error()
	}
	msg := err.Error()
	var ue *url.Error
	if errors.As(err, &ue) {
		msg = ue.Err.Error()
	}
	return msg
}

func tlsCause(err error) string {
	var rhe tls.RecordHeaderError
	if errors.As(err, &rhe) {
		return "the server does not speak TLS on this port (an http:// server behind an https:// URL?)"
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return err.Error()
}

// Exchange is one HTTP exchange of a run, for -v. The Authorization
// header shows only the first characters of a token and its length;
// cookies are not shown.
type Exchange struct {
	Method          string            `json:"method"`
	URL             string            `json:"url"`
	RequestHeaders  map[string]string `json:"request_headers,omitempty"`
	RequestBody     string            `json:"request_body,omitempty"`
	Status          int               `json:"status,omitempty"`
	ResponseHeaders map[string]string `json:"response_headers,omitempty"`
	Body            string            `json:"body,omitempty"`
	Error           string            `json:"error,omitempty"`
	DurationMS      int64             `json:"duration_ms"`
}

// maxTracedBody is how much of a body -v shows.
const maxTracedBody = 2048

func (r *run) trace(q request, req *http.Request, p *response, err error, d time.Duration) {
	if !r.opts.Verbose && r.opts.Trace == nil {
		return
	}
	x := Exchange{Method: q.Method, URL: q.URL, DurationMS: d.Milliseconds()}
	if req != nil {
		x.RequestHeaders = flatten(req.Header)
	}
	if len(q.Body) > 0 {
		x.RequestBody = clip(string(q.Body))
	}
	if p != nil {
		x.Status = p.Status
		x.ResponseHeaders = flatten(p.Header)
		switch {
		case q.HideBody:
			x.Body = "[not shown: it may hold a client secret]"
		case p.TooLarge:
			x.Body = clip(string(p.Body)) + fmt.Sprintf(" [cut at %d bytes]", r.opts.MaxBodyBytes)
		default:
			x.Body = clip(string(p.Body))
		}
	}
	if err != nil {
		x.Error = r.describe(err)
	}
	r.record(x)
}

// record keeps an exchange for the report and passes it to Trace.
func (r *run) record(x Exchange) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.opts.Verbose {
		r.exchanges = append(r.exchanges, x)
	}
	if r.opts.Trace != nil {
		r.opts.Trace(x)
	}
}

func clip(s string) string {
	if len(s) > maxTracedBody {
		return s[:maxTracedBody] + "…"
	}
	return s
}

// flatten turns headers into one line each, with secrets redacted.
func flatten(h http.Header) map[string]string {
	if len(h) == 0 {
		return nil
	}
	out := make(map[string]string, len(h))
	for k, v := range h {
		val := strings.Join(v, ", ")
		switch http.CanonicalHeaderKey(k) {
		case "Authorization", "Proxy-Authorization":
			val = RedactAuthorization(val)
		case "Cookie", "Set-Cookie":
			val = "[not shown]"
		}
		out[k] = val
	}
	return out
}

// RedactAuthorization shows an Authorization header value as its scheme
// and at most the first 6 characters of the credential and its length.
func RedactAuthorization(v string) string {
	scheme, cred, ok := strings.Cut(v, " ")
	if !ok {
		return RedactToken(v)
	}
	return scheme + " " + RedactToken(strings.TrimSpace(cred))
}

// RedactToken shows a token as its first 6 characters and its length.
func RedactToken(t string) string {
	if len(t) <= 12 {
		return fmt.Sprintf("[%d chars]", len(t))
	}
	return fmt.Sprintf("%s… (%d chars)", t[:6], len(t))
}

// sortedKeys returns the keys of a header map in order.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// getJSON GETs a document and decodes it into v, following redirects.
// problem is "" on success, else why the document is unusable; the
// response is nil when nothing came back.
func (r *run) getJSON(ctx context.Context, u string, header http.Header, v any) (p *response, hops []*response, problem string) {
	h := http.Header{"Accept": {"application/json"}}
	for k, vs := range header {
		h[k] = vs
	}
	p, hops, err := r.follow(ctx, request{Method: http.MethodGet, URL: u, Header: h})
	if err != nil {
		return p, hops, r.describe(err)
	}
	return p, hops, decodeJSON(p, v)
}

// decodeJSON checks that a response is a 200 JSON object and decodes it.
func decodeJSON(p *response, v any) string {
	if p.Status != http.StatusOK {
		return fmt.Sprintf("HTTP %d instead of 200", p.Status)
	}
	if p.TooLarge {
		return fmt.Sprintf("larger than %d bytes: not a metadata document (cut off)", len(p.Body))
	}
	body := bytes.TrimSpace(p.Body)
	if len(body) == 0 {
		return "an empty body instead of JSON"
	}
	if body[0] == '<' {
		return fmt.Sprintf("HTML (Content-Type %q) instead of JSON: a web page, a login wall or a proxy's error page answers this URL", p.Header.Get("Content-Type"))
	}
	if body[0] != '{' {
		return "not a JSON object"
	}
	if err := json.Unmarshal(body, v); err != nil {
		return "not valid JSON: " + err.Error()
	}
	return ""
}

// origin returns scheme://host of a URL.
func origin(u *url.URL) string { return u.Scheme + "://" + u.Host }
