package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// prometheusBinary finds Debian's prometheus (scripts/install-prometheus.sh
// installs it); without it the test is skipped, except in CI.
func prometheusBinary(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("prometheus")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("prometheus is not installed; CI must run scripts/install-prometheus.sh")
		}
		t.Skip("prometheus is not installed (run scripts/install-prometheus.sh); skipping the real-scrape test")
	}
	return p
}

// TestPrometheusScrapesAtomcp runs the real Prometheus server against
// atomcp's separate metrics listener (ATOMCP_METRICS_ADDR) for a few
// seconds of tool calls, then asks its HTTP API for the rate of tool
// calls, as a dashboard would.
func TestPrometheusScrapesAtomcp(t *testing.T) {
	bin := prometheusBinary(t)
	dir := t.TempDir()
	metricsAddr := freeAddr(t)
	s := startServer(t, dir, "ATOMCP_METRICS_ADDR="+metricsAddr)
	if resp, err := http.Get(s.Base + "/metrics"); err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("/metrics on the main listener = %d with ATOMCP_METRICS_ADDR set; want 404", resp.StatusCode)
		}
	}

	promAddr := freeAddr(t)
	cfg := fmt.Sprintf("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: atomcp\n    static_configs:\n      - targets: ['%s']\n", metricsAddr)
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	prom := exec.Command(bin, "--config.file="+cfgPath, "--storage.tsdb.path="+filepath.Join(dir, "tsdb"),
		"--web.listen-address="+promAddr, "--log.level=warn")
	prom.Stdout, prom.Stderr = os.Stderr, os.Stderr
	if err := prom.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = prom.Process.Kill(); _ = prom.Wait() })

	// Tool calls go on in the background while Prometheus scrapes (each
	// second) and the test polls its API; bounded in count and time.
	cs := connect(t, s.URL)
	stop := make(chan struct{})
	var calls atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		deadline := time.Now().Add(45 * time.Second)
		for time.Now().Before(deadline) && calls.Load() < 3000 {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "workspace_tool", Arguments: map[string]any{"operation": "list_workspaces"}}); err == nil {
				calls.Add(1)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	defer func() { close(stop); <-done }()
	time.Sleep(4 * time.Second)

	// Prometheus needs two scrapes of a series for a rate: poll.
	query := `sum(rate(atomcp_mcp_requests_total{method="tools/call",tool="workspace_tool",outcome="ok"}[15s]))`
	var last string
	for i := 0; i < 60; i++ {
		v, body, err := promQuery(promAddr, query)
		last = body
		if err == nil && v > 0 {
			t.Logf("%d calls so far; Prometheus reports %s = %.1f/s", calls.Load(), query, v)
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("Prometheus never saw a tool-call rate above 0 after %d calls; last answer: %s", calls.Load(), last)
}

// promQuery runs an instant query and returns its single value.
func promQuery(addr, query string) (float64, string, error) {
	resp, err := http.Get("http://" + addr + "/api/v1/query?query=" + url.QueryEscape(query))
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	var out struct {
		Status string `json:"status"`
		Data   struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return 0, "", err
	}
	b, _ := json.Marshal(out)
	if out.Status != "success" || len(out.Data.Result) == 0 {
		return 0, string(b), fmt.Errorf("no result")
	}
	s, _ := out.Data.Result[0].Value[1].(string)
	v, err := strconv.ParseFloat(s, 64)
	return v, string(b), err
}
