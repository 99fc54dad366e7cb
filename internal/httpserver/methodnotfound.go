package httpserver

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
)

// go-sdk answers a request for a method it does not know with JSON-RPC
// error -32601 only under protocol 2026-07-28 (SEP-2575); under the
// earlier revisions its HTTP handler answers 400 with a plain-text
// "JSON RPC not handled: … unsupported", which is no JSON-RPC response at
// all (a client waits for an answer to its id that never comes).
// answerUnknownMethods turns that answer into the JSON-RPC error the
// specification asks for: -32601 "Method not found" to the request's id,
// HTTP 200, application/json.

// sdkNotHandled starts go-sdk's plain-text refusal of an unknown method.
const sdkNotHandled = "JSON RPC not handled"

func answerUnknownMethods(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Body == nil {
			next.ServeHTTP(w, r)
			return
		}
		body := &teeBody{ReadCloser: r.Body}
		r.Body = body
		uw := &unknownMethodWriter{ResponseWriter: w}
		next.ServeHTTP(uw, r)
		if !uw.held {
			return
		}
		held := uw.buf.String()
		if !strings.HasPrefix(held, sdkNotHandled) {
			uw.release()
			return
		}
		id, single := requestID(body.buf.Bytes())
		if single && id == nil {
			// A notification of a method the server does not know is
			// ignored: notifications get no answer.
			w.WriteHeader(http.StatusAccepted)
			return
		}
		status := http.StatusOK
		if !single {
			status = http.StatusBadRequest // a batch: no one id to answer
		}
		w.Header().Del("X-Content-Type-Options")
		writeJSON(w, status, map[string]any{
			"jsonrpc": "2.0",
			"id":      id,
			"error": map[string]any{
				"code":    -32601,
				"message": "Method not found: " + strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(held, sdkNotHandled), ":")),
			},
		})
	})
}

// teeBody keeps what the handler reads (at most the body limit, which the
// handler enforces) for the request id.
type teeBody struct {
	io.ReadCloser
	buf bytes.Buffer
}

func (b *teeBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.buf.Write(p[:n])
	return n, err
}

// requestID returns the id of a single JSON-RPC message (nil for a
// notification, which has none) and whether body is a single message (not
// a batch).
func requestID(body []byte) (json.RawMessage, bool) {
	body = bytes.TrimSpace(body)
	if len(body) > 0 && body[0] == '[' {
		return json.RawMessage("null"), false
	}
	var msg struct {
		ID json.RawMessage `json:"id"`
	}
	if json.Unmarshal(body, &msg) != nil {
		return json.RawMessage("null"), true
	}
	if len(msg.ID) == 0 {
		return nil, true
	}
	return msg.ID, true
}

// unknownMethodWriter holds back a 400 answer in plain text, which may be
// go-sdk's refusal of an unknown method; every other answer passes.
type unknownMethodWriter struct {
	http.ResponseWriter
	held    bool
	decided bool
	status  int
	buf     bytes.Buffer
}

func (u *unknownMethodWriter) WriteHeader(code int) {
	if !u.decided {
		u.decided = true
		if code == http.StatusBadRequest && strings.HasPrefix(u.Header().Get("Content-Type"), "text/plain") {
			u.held, u.status = true, code
			return
		}
	}
	u.ResponseWriter.WriteHeader(code)
}

func (u *unknownMethodWriter) Write(p []byte) (int, error) {
	if !u.decided {
		u.WriteHeader(http.StatusOK)
	}
	if u.held {
		return u.buf.Write(p)
	}
	return u.ResponseWriter.Write(p)
}

func (u *unknownMethodWriter) Flush() {
	if u.held {
		return
	}
	if f, ok := u.ResponseWriter.(http.Flusher); ok {
		u.decided = true
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection.
func (u *unknownMethodWriter) Unwrap() http.ResponseWriter { return u.ResponseWriter }

// release sends a held answer as it was.
func (u *unknownMethodWriter) release() {
	u.ResponseWriter.WriteHeader(u.status)
	_, _ = u.ResponseWriter.Write(u.buf.Bytes())
}
