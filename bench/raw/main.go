// Command raw is the ceiling of atomcp's benchmark (bench/README.md): a
// plain net/http handler that answers the benchmark's JSON-RPC tools/call
// (and initialize) with the echo result, without any MCP library and
// without a bearer check. Nothing on this machine can answer the same
// request much faster over HTTP/1.1 in Go.
//
//	raw [-addr 127.0.0.1:0]
//
// It prints "raw serving http://ADDR/mcp" once it listens.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
)

type request struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Method  string          `json:"method"`
	Params  struct {
		Name      string `json:"name"`
		Arguments struct {
			Message string `json:"message"`
		} `json:"arguments"`
	} `json:"params"`
}

type text struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type response struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  any             `json:"result,omitempty"`
	Error   *rpcError       `json:"error,omitempty"`
}

type rpcError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func handle(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	var req request
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil || req.JSONRPC != "2.0" {
		http.Error(w, "not a JSON-RPC request", http.StatusBadRequest)
		return
	}
	resp := response{JSONRPC: "2.0", ID: req.ID}
	switch {
	case req.Method == "initialize":
		resp.Result = map[string]any{"protocolVersion": "2025-11-25", "capabilities": map[string]any{"tools": map[string]any{}},
			"serverInfo": map[string]string{"name": "bench-raw", "version": "1.0.0"}}
	case req.Method == "tools/call" && req.Params.Name == "echo":
		resp.Result = map[string]any{"content": []text{{Type: "text", Text: req.Params.Arguments.Message}}}
	default:
		resp.Error = &rpcError{Code: -32601, Message: "method not found"}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp)
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	flag.Parse()
	mux := http.NewServeMux()
	mux.HandleFunc("/mcp", handle)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("raw serving http://%s/mcp\n", ln.Addr())
	srv := &http.Server{Handler: mux}
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
		<-sig
		srv.Close()
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}
