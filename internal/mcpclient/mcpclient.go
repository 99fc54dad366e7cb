// Package mcpclient connects to a remote MCP server over Streamable HTTP —
// with extra headers, a bearer token given directly, or an OAuth handler —
// and turns connection failures into one sentence that says what went
// wrong and where.
package mcpclient

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/atomcp/atomcp/internal/oauthclient"
	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Options configures [Connect].
type Options struct {
	// URL is the MCP endpoint. Required.
	URL string
	// Headers are sent with every request to the MCP server (not to the
	// authorization server).
	Headers http.Header
	// Token is a bearer token given directly; it replaces OAuth.
	Token string
	// OAuth, when set (and Token is not), authorizes the requests.
	OAuth auth.OAuthHandler
	// Name and Version identify the client to the server.
	Name, Version string
	// ClientOptions are passed to mcp.NewClient.
	ClientOptions *mcp.ClientOptions
	// Prepare, when set, sees the client before it connects, to register
	// what must be registered on it (custom methods, middleware).
	Prepare func(*mcp.Client) error
	// HTTPClient is the base client for the MCP requests (default: one
	// with the default transport and no overall timeout, as streams may
	// last).
	HTTPClient *http.Client
	// MaxRetries bounds the reconnections of an interrupted response
	// stream (0: go-sdk's default, 5; negative: none).
	MaxRetries int
}

// Client is a connected MCP session.
type Client struct {
	*mcp.ClientSession
	url        string
	rec        *recorder
	tokenGiven bool
}

// Connect connects to the MCP server and initializes the session.
func Connect(ctx context.Context, opts Options) (*Client, error) {
	base := opts.HTTPClient
	if base == nil {
		base = &http.Client{}
	}
	rt := base.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	headers := opts.Headers.Clone()
	if headers == nil {
		headers = http.Header{}
	}
	if opts.Token != "" {
		headers.Set("Authorization", "Bearer "+opts.Token)
	}
	if w, ok := opts.OAuth.(interface {
		WrapTransport(http.RoundTripper) http.RoundTripper
	}); ok && opts.Token == "" && opts.OAuth != nil {
		// DPoP-bound tokens are presented with a proof (oauthclient).
		rt = w.WrapTransport(rt)
	}
	rec := &recorder{base: rt, headers: headers}
	hc := *base
	hc.Transport = rec
	transport := &mcp.StreamableClientTransport{Endpoint: opts.URL, HTTPClient: &hc, MaxRetries: opts.MaxRetries}
	if opts.Token == "" && opts.OAuth != nil {
		transport.OAuthHandler = opts.OAuth
	}
	name, version := opts.Name, opts.Version
	if name == "" {
		name = "atomcp"
	}
	if version == "" {
		version = "dev"
	}
	c := &Client{url: opts.URL, rec: rec, tokenGiven: opts.Token != "" || headers.Get("Authorization") != ""}
	mc := mcp.NewClient(&mcp.Implementation{Name: name, Version: version}, opts.ClientOptions)
	if opts.Prepare != nil {
		if err := opts.Prepare(mc); err != nil {
			return nil, err
		}
	}
	cs, err := mc.Connect(ctx, transport, nil)
	if err != nil {
		return nil, c.Describe(err)
	}
	c.ClientSession = cs
	return c, nil
}

// Close ends the session (best effort: a server gone by now is no error).
func (c *Client) Close() error {
	if c.ClientSession == nil {
		return nil
	}
	done := make(chan error, 1)
	go func() { done <- c.ClientSession.Close() }()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		return nil
	}
}

// recorder adds the headers to each request and remembers the last
// answer that was not a success, to describe failures.
type recorder struct {
	base    http.RoundTripper
	headers http.Header

	mu         sync.Mutex
	lastStatus int
	lastType   string
	lastMethod string
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	for k, vs := range r.headers {
		req.Header.Del(k)
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	resp, err := r.base.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	ct := resp.Header.Get("Content-Type")
	mt, _, _ := mime.ParseMediaType(ct)
	ok := resp.StatusCode >= 200 && resp.StatusCode < 300 && (mt == "" || mt == "application/json" || mt == "text/event-stream")
	if !ok || req.Method == http.MethodPost {
		r.lastStatus, r.lastType, r.lastMethod = resp.StatusCode, ct, req.Method
	}
	return resp, nil
}

func (r *recorder) last() (int, string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lastStatus, r.lastType
}

// Describe turns an error of the session into one sentence naming the
// server. OAuth errors keep their own sentence; a JSON-RPC error from the
// server is kept as the server's answer.
func (c *Client) Describe(err error) error {
	if err == nil {
		return nil
	}
	if oe, ok := errors.AsType[*oauthclient.Error](err); ok {
		return oe
	}
	if d := oauthclient.DescribeTransportError("the MCP server", c.url, err); d != nil {
		return d
	}
	// go-sdk reports transport failures as the JSON-RPC error -32005
	// ("rejected by transport"); only other codes are the server's answer.
	if je, ok := errors.AsType[*jsonrpc.Error](err); ok && je.Code != codeRejectedByTransport {
		return &Error{Msg: fmt.Sprintf("the MCP server at %s answered with an error: %s (code %d)", c.url, je.Message, je.Code), Err: err}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &Error{Msg: fmt.Sprintf("the MCP server at %s did not answer in time", c.url), Err: err}
	}
	if errors.Is(err, context.Canceled) {
		return &Error{Msg: "interrupted", Err: err}
	}
	status, ct := c.rec.last()
	mt, _, _ := mime.ParseMediaType(ct)
	switch {
	case status == http.StatusUnauthorized && c.tokenGiven:
		return &Error{Msg: fmt.Sprintf("the MCP server at %s refused the token it was given (HTTP 401)", c.url), Err: err}
	case status == http.StatusUnauthorized:
		return &Error{Msg: fmt.Sprintf("the MCP server at %s answered HTTP 401: it wants a token (log in with `atomcp login %s`, or give one with --token)", c.url, c.url), Err: err}
	case status == http.StatusForbidden:
		return &Error{Msg: fmt.Sprintf("the MCP server at %s answered HTTP 403: the token is not allowed to do this", c.url), Err: err}
	case status == http.StatusNotFound:
		return &Error{Msg: fmt.Sprintf("the MCP server at %s answered HTTP 404: is this the MCP endpoint? (atomcp serve uses /api/mcp)", c.url), Err: err}
	case status >= 300 && status < 400:
		return &Error{Msg: fmt.Sprintf("the MCP server at %s answered with a redirect (HTTP %d) that could not be followed", c.url, status), Err: err}
	case status != 0 && (status < 200 || status >= 300):
		return &Error{Msg: fmt.Sprintf("the MCP server at %s answered HTTP %d%s", c.url, status, typeSuffix(ct)), Err: err}
	case mt == "text/html":
		return &Error{Msg: fmt.Sprintf("the MCP server at %s answered with an HTML page, not JSON or an event stream (is this the MCP endpoint?)", c.url), Err: err}
	case strings.Contains(err.Error(), "unsupported content type"):
		return &Error{Msg: fmt.Sprintf("the MCP server at %s answered with %s, not JSON or an event stream", c.url, ct), Err: err}
	}
	return &Error{Msg: fmt.Sprintf("talking to the MCP server at %s failed: %s", c.url, trimGoSDK(err.Error())), Err: err}
}

func typeSuffix(ct string) string {
	if ct == "" {
		return ""
	}
	return " (" + ct + ")"
}

// trimGoSDK drops go-sdk's request-summary prefixes ("calling
// "initialize": sending …:") that say nothing to a user.
func trimGoSDK(msg string) string {
	for _, marker := range []string{"rejected: ", "client is closing: "} {
		if i := strings.LastIndex(msg, marker); i >= 0 {
			msg = msg[i+len(marker):]
		}
	}
	return msg
}

// codeRejectedByTransport is go-sdk's JSON-RPC code for a request that
// failed in the transport (jsonrpc2.ErrRejected).
const codeRejectedByTransport = -32005

// Error is a failure to talk to the MCP server, in one sentence.
type Error struct {
	Msg string
	Err error
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Err }
