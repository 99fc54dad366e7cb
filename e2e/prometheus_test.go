package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
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

	cs := connect(t, s.URL)
	deadline := time.Now().Add(6 * time.Second)
	calls := 0
	for time.Now().Before(deadline) && calls < 2000 {
		mustCall(t, cs, "workspace_tool", map[string]any{"operation": "list_workspaces"})
		calls++
		time.Sleep(20 * time.Millisecond)
	}

	// The rate over the scrapes so far; Prometheus needs two scrapes of a
	// series, so poll for a while.
	query := `sum(rate(atomcp_mcp_requests_total{method="tools/call",tool="workspace_tool",outcome="ok"}[5s]))`
	var last string
	for i := 0; i < 40; i++ {
		v, body, err := promQuery(promAddr, query)
		last = body
		if err == nil && v > 0 {
			t.Logf("%d calls; Prometheus reports %s = %.1f/s", calls, query, v)
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("Prometheus never saw a tool-call rate above 0 after %d calls; last answer: %s", calls, last)
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
