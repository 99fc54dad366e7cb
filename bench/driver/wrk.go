package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/atomcp/atomcp/bench/benchkit"
)

// wrkResult is the BENCH_RESULT line of bench/wrk/toolcall.lua.
type wrkResult struct {
	Requests      int64   `json:"requests"`
	DurationUS    int64   `json:"duration_us"`
	Bytes         int64   `json:"bytes"`
	ConnectErrors int64   `json:"connect_errors"`
	ReadErrors    int64   `json:"read_errors"`
	WriteErrors   int64   `json:"write_errors"`
	StatusErrors  int64   `json:"status_errors"`
	Timeouts      int64   `json:"timeouts"`
	AppErrors     int64   `json:"app_errors"`
	P50US         int64   `json:"p50_us"`
	P90US         int64   `json:"p90_us"`
	P99US         int64   `json:"p99_us"`
	MaxUS         int64   `json:"max_us"`
	MeanUS        float64 `json:"mean_us"`
	FirstError    string  `json:"first_error"`
}

// RPS is requests per second.
func (r *wrkResult) RPS() float64 {
	if r.DurationUS == 0 {
		return 0
	}
	return float64(r.Requests) / (float64(r.DurationUS) / 1e6)
}

// Errors counts every failed request: socket errors, non-2xx answers,
// timeouts, and answers that were not a JSON-RPC result (wrk counts read
// errors for a connection the server closed, so they count too).
func (r *wrkResult) Errors() int64 {
	return r.ConnectErrors + r.ReadErrors + r.WriteErrors + r.StatusErrors + r.Timeouts + r.AppErrors
}

// parseWrk finds the BENCH_RESULT line in wrk's output.
func parseWrk(out []byte) (*wrkResult, error) {
	for _, line := range strings.Split(string(out), "\n") {
		if js, ok := strings.CutPrefix(line, "BENCH_RESULT "); ok {
			var r wrkResult
			if err := json.Unmarshal([]byte(js), &r); err != nil {
				return nil, fmt.Errorf("wrk result line: %v: %s", err, js)
			}
			return &r, nil
		}
	}
	return nil, fmt.Errorf("wrk printed no BENCH_RESULT line:\n%s", out)
}

// wrkOptions are the load settings.
type wrkOptions struct {
	threads     int
	connections int
	timeout     time.Duration
}

// runWrk drives srv for d and returns the result.
func runWrk(ctx context.Context, root string, srv *server, o wrkOptions, d time.Duration) (*wrkResult, error) {
	args := []string{
		"-t", strconv.Itoa(o.threads), "-c", strconv.Itoa(o.connections),
		"-d", fmt.Sprintf("%ds", int(d.Seconds())), "--timeout", fmt.Sprintf("%ds", int(o.timeout.Seconds())),
		"-s", filepath.Join(root, "bench", "wrk", "toolcall.lua"), srv.url,
	}
	cmd := exec.CommandContext(ctx, "wrk", args...)
	cmd.Env = append(benchkit.CleanEnviron(),
		"BENCH_PARAMS="+string(srv.params),
		"BENCH_TOKEN="+srv.token,
		"BENCH_SESSIONS="+strings.Join(srv.sessions, ","),
		"BENCH_PROTOCOL="+protocolVersion,
	)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("wrk: %v\n%s", err, out.String())
	}
	return parseWrk(out.Bytes())
}

func sha256hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
