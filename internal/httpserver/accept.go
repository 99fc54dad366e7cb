package httpserver

import (
	"bufio"
	"bytes"
	"encoding/json"
	"mime"
	"net/http"
	"strconv"
	"strings"
)

// Streamable HTTP says a client MUST list both application/json and
// text/event-stream in the Accept header of a POST, and go-sdk refuses
// anything else with a plain-text 400. Real clients send
// "application/json" alone, "*/*" (HTTP libraries' default) or no Accept
// at all, and a server may answer a POST with either media type, so
// acceptJSON fronts the SDK's handler:
//
//   - both listed: passed on untouched (a text/event-stream answer);
//   - JSON acceptable but text/event-stream not named (application/json,
//     application/*, */*, or no Accept header, which RFC 9110 §12.5.1
//     reads as anything): the SDK is given the Accept it wants, and its
//     event stream is turned into the single JSON body the client can
//     read;
//   - text/event-stream alone: the SDK is given the Accept it wants, and
//     its answer, an event stream, goes to the client as it is;
//   - neither: 406 with a JSON body saying what to send.
//
// GET (the standalone event stream) and DELETE pass untouched.
func acceptJSON(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			next.ServeHTTP(w, r)
			return
		}
		jsonOK, streamOK := acceptable(r.Header.Values("Accept"))
		switch {
		case jsonOK && streamOK:
			next.ServeHTTP(w, r)
		case jsonOK:
			r.Header.Set("Accept", sdkAccept)
			jw := &jsonFromStream{w: w}
			next.ServeHTTP(jw, r)
			jw.finish()
		case streamOK:
			r.Header.Set("Accept", sdkAccept)
			next.ServeHTTP(w, r)
		default:
			writeJSON(w, http.StatusNotAcceptable, map[string]string{
				"error": "not_acceptable",
				"message": "Accept " + strconv.Quote(r.Header.Get("Accept")) + " allows neither application/json nor text/event-stream; " +
					"send Accept: application/json, text/event-stream (MCP Streamable HTTP)",
			})
		}
	})
}

// sdkAccept is the Accept header go-sdk requires of a POST.
const sdkAccept = "application/json, text/event-stream"

// acceptable reads Accept headers: whether a JSON body is acceptable, and
// whether the client named an event stream (text/event-stream or
// text/*; */* alone does not count: a client that sends only */* is an
// HTTP library that reads one body). No Accept header means anything, so
// JSON. Media ranges with q=0 are refused ones.
func acceptable(values []string) (jsonOK, streamOK bool) {
	seen := false
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			if strings.TrimSpace(part) == "" {
				continue
			}
			seen = true
			mt, params, err := mime.ParseMediaType(part)
			if err != nil {
				continue
			}
			if q, ok := params["q"]; ok {
				if f, err := strconv.ParseFloat(q, 64); err == nil && f == 0 {
					continue
				}
			}
			switch mt {
			case "application/json", "application/*", "*/*":
				jsonOK = true
			case "text/event-stream", "text/*":
				streamOK = true
			}
		}
	}
	return jsonOK || !seen, streamOK
}

// jsonFromStream is the ResponseWriter go-sdk writes to for a client that
// reads JSON only. Answers that are not an event stream (202 for a
// notification, errors, application/json) go through as they are; an
// event stream is held back until the handler returns, and its JSON-RPC
// responses become the body. Notifications and server requests on that
// stream are dropped: such a client could not have read them either.
type jsonFromStream struct {
	w           http.ResponseWriter
	wroteHeader bool
	stream      bool
	status      int
	buf         bytes.Buffer
}

func (j *jsonFromStream) Header() http.Header { return j.w.Header() }

func (j *jsonFromStream) WriteHeader(status int) {
	if j.wroteHeader {
		return
	}
	j.wroteHeader = true
	mt, _, _ := mime.ParseMediaType(j.w.Header().Get("Content-Type"))
	if mt == "text/event-stream" && status == http.StatusOK {
		j.stream, j.status = true, status
		return
	}
	j.w.WriteHeader(status)
}

func (j *jsonFromStream) Write(p []byte) (int, error) {
	if !j.wroteHeader {
		j.WriteHeader(http.StatusOK)
	}
	if j.stream {
		return j.buf.Write(p)
	}
	return j.w.Write(p)
}

// Flush is what go-sdk calls (through http.ResponseController) after each
// event; an event stream held back is not flushed.
func (j *jsonFromStream) Flush() {
	if j.stream {
		return
	}
	if f, ok := j.w.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection for anything
// but Flush.
func (j *jsonFromStream) Unwrap() http.ResponseWriter { return j.w }

// finish writes the JSON body of a held-back event stream.
func (j *jsonFromStream) finish() {
	if !j.stream {
		return
	}
	h := j.w.Header()
	h.Del("Connection")
	h.Set("Content-Type", "application/json")
	responses := streamResponses(j.buf.Bytes())
	var body []byte
	status := j.status
	switch len(responses) {
	case 0:
		// The stream ended before the result: the client went away, or a
		// tool closed the stream to have the result fetched by resumption
		// (SEP-1699), which needs text/event-stream.
		status = http.StatusInternalServerError
		body, _ = json.Marshal(map[string]any{"jsonrpc": "2.0", "id": nil, "error": map[string]any{
			"code":    -32603,
			"message": "the server ended the response stream before the result; to receive results sent later, accept text/event-stream as well",
		}})
	case 1:
		body = responses[0]
	default: // a batch (2025-03-26)
		body = append([]byte("["), bytes.Join(responses, []byte(","))...)
		body = append(body, ']')
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	j.w.WriteHeader(status)
	_, _ = j.w.Write(body)
}

// streamResponses returns the JSON-RPC responses (messages with an id and
// no method) among the events of an event stream, in order.
func streamResponses(stream []byte) [][]byte {
	var out [][]byte
	var data []string
	flush := func() {
		if len(data) == 0 {
			return
		}
		msg := []byte(strings.Join(data, "\n"))
		data = data[:0]
		var m struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
		}
		if json.Unmarshal(msg, &m) == nil && len(m.ID) > 0 && string(m.ID) != "null" && m.Method == "" {
			out = append(out, msg)
		}
	}
	sc := bufio.NewScanner(bytes.NewReader(stream))
	sc.Buffer(make([]byte, 64<<10), 1<<30)
	for sc.Scan() {
		line := strings.TrimSuffix(sc.Text(), "\r")
		switch {
		case line == "":
			flush()
		case strings.HasPrefix(line, "data:"):
			data = append(data, strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " "))
		}
	}
	flush()
	return out
}
