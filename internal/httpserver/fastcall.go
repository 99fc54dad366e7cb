package httpserver

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"

	sdkauth "github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	segjson "github.com/segmentio/encoding/json"

	"github.com/atomcp/atomcp/internal/fastcall"
)

// fastToolCalls serves the commonest request, a single read-only
// tools/call, without go-sdk's Streamable HTTP transport: it decodes the
// request once, runs it through the server's middleware and tool handler
// (internal/fastcall: the same chain go-sdk runs) and answers one
// application/json body, which Streamable HTTP allows for any POST. The
// answer is what go-sdk would send in JSON mode, byte for byte
// (TestFastCallAnswersAsGoSDK); what it saves is go-sdk's per-call
// transport work (a jsonrpc2 round trip through the session's connection,
// an event stream and the event store), half the CPU of a short read.
//
// Anything it is not sure to answer exactly as go-sdk would goes to go-sdk
// unchanged: other methods, batches, writes (they may notify), calls
// carrying _meta (progress tokens, trace context, the 2026-07-28
// per-request protocol), a protocol version other than 2025-06-18 and
// 2025-11-25, Last-Event-ID or the Mcp-Method/Mcp-Name/Mcp-Param-* headers
// go-sdk validates, a session the book does not know (its first request
// after initialize is served by go-sdk and teaches the book), and any
// body that is not one well-formed JSON-RPC request.
func (s *Server) fastToolCalls(next http.Handler, stateless bool, book *sessionBook) http.Handler {
	calls, ok := fastcall.Lookup(s.mcp)
	if !ok || s.opts.DisableFastCalls {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !fastCandidate(r) {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			// go-sdk reports a body it cannot read (413 for one too large).
			r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), r.Body))
			next.ServeHTTP(w, r)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		id, params, ok := fastCall(body)
		if !ok || !calls.Eligible(params.Name, params.Arguments) {
			next.ServeHTTP(w, r)
			return
		}
		var session *mcp.ServerSession
		if !stateless {
			sid := r.Header.Get(sessionIDHeader)
			booked, user, userKnown := book.begin(sid)
			if booked == nil {
				next.ServeHTTP(w, r) // go-sdk answers, and the book learns
				return
			}
			defer book.end(booked)
			if !userKnown {
				next.ServeHTTP(w, r)
				return
			}
			if user != "" && user != userOf(r) {
				// go-sdk's answer to another user's request on a session.
				http.Error(w, "session user mismatch", http.StatusForbidden)
				return
			}
			session = booked.ss
		}
		req := &mcp.CallToolRequest{
			Session: session,
			Params:  params,
			Extra:   &mcp.RequestExtra{TokenInfo: sdkauth.TokenInfoFromContext(r.Context()), Header: r.Header},
		}
		res, err := calls.Call(r.Context(), req)
		answer, encErr := encodeAnswer(id, res, err)
		if encErr != nil {
			http.Error(w, "encoding the answer: "+encErr.Error(), http.StatusInternalServerError)
			return
		}
		h := w.Header()
		h.Set("Cache-Control", "no-cache, no-transform")
		h.Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(answer)
		s.fastServed.Add(1)
	})
}

// fastProtocols are the revisions whose tools/call the fast path serves:
// those with a session-less-free, _meta-free call and an unchanged wire
// form. 2025-03-26 allows batches and 2026-07-28 carries the protocol in
// each request; both go to go-sdk.
func fastProtocol(v string) bool { return v == "2025-06-18" || v == "2025-11-25" }

// fastCandidate checks the HTTP side of a request before its body is read.
func fastCandidate(r *http.Request) bool {
	if r.Method != http.MethodPost || r.Body == nil || r.Body == http.NoBody {
		return false
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" && !strings.HasPrefix(ct, "application/json;") {
		return false
	}
	if jsonOK, _ := acceptable(r.Header.Values("Accept")); !jsonOK {
		return false
	}
	if !fastProtocol(r.Header.Get("Mcp-Protocol-Version")) {
		return false
	}
	for k := range r.Header {
		switch {
		case k == "Last-Event-Id":
			return false
		case strings.HasPrefix(k, "Mcp-") && k != "Mcp-Session-Id" && k != "Mcp-Protocol-Version":
			return false // Mcp-Method, Mcp-Name, Mcp-Param-*: go-sdk checks them against the body
		}
	}
	return true
}

// fastCall decodes body as one tools/call request the fast path may serve:
// a call (with an id) whose params carry nothing but name and arguments.
func fastCall(body []byte) (jsonrpc.ID, *mcp.CallToolParamsRaw, bool) {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return jsonrpc.ID{}, nil, false // a batch, or not JSON-RPC
	}
	msg, err := jsonrpc.DecodeMessage(body)
	if err != nil {
		return jsonrpc.ID{}, nil, false
	}
	req, ok := msg.(*jsonrpc.Request)
	if !ok || req.Method != "tools/call" || !req.IsCall() || len(req.Params) == 0 {
		return jsonrpc.ID{}, nil, false
	}
	// Decoded as go-sdk decodes params (its internal/json: segmentio,
	// field names matched case-sensitively), with the fields that need
	// go-sdk's handling kept apart.
	var p struct {
		Meta           json.RawMessage `json:"_meta"`
		Name           string          `json:"name"`
		Arguments      json.RawMessage `json:"arguments"`
		InputResponses json.RawMessage `json:"inputResponses"`
		RequestState   json.RawMessage `json:"requestState"`
		Task           json.RawMessage `json:"task"`
	}
	if _, err := segjson.Parse(req.Params, &p, segjson.DontMatchCaseInsensitiveStructFields); err != nil {
		return jsonrpc.ID{}, nil, false
	}
	if p.Name == "" || p.Meta != nil || p.InputResponses != nil || p.RequestState != nil || p.Task != nil {
		return jsonrpc.ID{}, nil, false
	}
	return req.ID, &mcp.CallToolParamsRaw{Name: p.Name, Arguments: p.Arguments}, true
}

// encodeAnswer is the JSON-RPC response go-sdk would send for a handler's
// (res, err): the result marshalled without HTML escaping, as go-sdk's
// jsonrpc2 does, or the error as go-sdk turns it into a wire error.
func encodeAnswer(id jsonrpc.ID, res mcp.Result, err error) ([]byte, error) {
	resp := &jsonrpc.Response{ID: id}
	if err != nil {
		resp.Error = err
	} else {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(res); err != nil {
			return nil, err
		}
		resp.Result = json.RawMessage(bytes.TrimRight(buf.Bytes(), "\n"))
	}
	return jsonrpc.EncodeMessage(resp)
}
