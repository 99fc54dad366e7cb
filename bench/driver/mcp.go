package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// protocolVersion is the revision every benchmark request announces: the
// one all the servers speak, with sessions when a server keeps them and
// without initialize on a stateless server.
const protocolVersion = "2025-11-25"

// wire sends MCP requests the way the wrk script does, for set-up and for
// the checks before a run.
type wire struct {
	client *http.Client
	url    string
	token  string
}

func newWire(url, token string) *wire {
	return &wire{client: &http.Client{Timeout: 30 * time.Second}, url: url, token: token}
}

// rpcMessage is a JSON-RPC answer.
type rpcMessage struct {
	ID     json.RawMessage `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// post sends one JSON-RPC message and returns the response, its body and
// the answer in it (nil for a notification's 202).
func (w *wire) post(ctx context.Context, session string, body any) (*http.Response, *rpcMessage, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(b))
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("MCP-Protocol-Version", protocolVersion)
	if w.token != "" {
		req.Header.Set("Authorization", "Bearer "+w.token)
	}
	if session != "" {
		req.Header.Set("Mcp-Session-Id", session)
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return resp, nil, err
	}
	if resp.StatusCode == http.StatusAccepted {
		return resp, nil, nil
	}
	if resp.StatusCode != http.StatusOK {
		return resp, nil, fmt.Errorf("HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(raw)))
	}
	msg, err := parseAnswer(raw)
	return resp, msg, err
}

// parseAnswer reads the JSON-RPC answer from a JSON body or from the data
// lines of an event stream.
func parseAnswer(body []byte) (*rpcMessage, error) {
	body = bytes.TrimSpace(body)
	if bytes.HasPrefix(body, []byte("{")) {
		var m rpcMessage
		if err := json.Unmarshal(body, &m); err != nil {
			return nil, fmt.Errorf("answer is not JSON-RPC: %v", err)
		}
		return &m, nil
	}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 64<<10), 8<<20)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data:")
		data = strings.TrimSpace(data)
		if !ok || !strings.HasPrefix(data, "{") {
			continue
		}
		var m rpcMessage
		if err := json.Unmarshal([]byte(data), &m); err != nil {
			return nil, fmt.Errorf("event data is not JSON-RPC: %v", err)
		}
		if m.Result != nil || m.Error != nil {
			return &m, nil
		}
	}
	return nil, fmt.Errorf("no JSON-RPC answer in the body: %.200q", body)
}

// initialize opens a session and returns its id.
func (w *wire) initialize(ctx context.Context) (string, error) {
	resp, msg, err := w.post(ctx, "", map[string]any{
		"jsonrpc": "2.0", "id": 0, "method": "initialize",
		"params": map[string]any{
			"protocolVersion": protocolVersion, "capabilities": map[string]any{},
			"clientInfo": map[string]string{"name": "atomcp-bench", "version": "1"},
		},
	})
	if err != nil {
		return "", fmt.Errorf("initialize: %w", err)
	}
	if msg == nil || msg.Error != nil {
		return "", fmt.Errorf("initialize: %+v", msg)
	}
	sid := resp.Header.Get("Mcp-Session-Id")
	if sid == "" {
		return "", fmt.Errorf("initialize: no Mcp-Session-Id in the answer")
	}
	resp, _, err = w.post(ctx, sid, map[string]any{"jsonrpc": "2.0", "method": "notifications/initialized"})
	if err != nil {
		return "", fmt.Errorf("notifications/initialized: %w", err)
	}
	if resp.StatusCode != http.StatusAccepted {
		return "", fmt.Errorf("notifications/initialized: HTTP %d", resp.StatusCode)
	}
	return sid, nil
}

// toolResult is the part of a tools/call result the checks read.
type toolResult struct {
	IsError bool `json:"isError"`
	Content []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	} `json:"content"`
	StructuredContent json.RawMessage `json:"structuredContent"`
}

// callTool sends tools/call with params (name and arguments) and returns
// the result; a JSON-RPC error or a tool error is an error.
func (w *wire) callTool(ctx context.Context, session string, params json.RawMessage) (*toolResult, error) {
	_, msg, err := w.post(ctx, session, map[string]any{"jsonrpc": "2.0", "id": "check-1", "method": "tools/call", "params": params})
	if err != nil {
		return nil, err
	}
	if msg.Error != nil {
		return nil, fmt.Errorf("JSON-RPC error %d: %s", msg.Error.Code, msg.Error.Message)
	}
	var r toolResult
	if err := json.Unmarshal(msg.Result, &r); err != nil {
		return nil, fmt.Errorf("tools/call result: %v", err)
	}
	if r.IsError {
		text := ""
		if len(r.Content) > 0 {
			text = r.Content[0].Text
		}
		return nil, fmt.Errorf("tool error: %s", text)
	}
	return &r, nil
}
