package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/atomcp/atomcp/internal/doctor"
)

// runDoctorCmd runs `atomcp doctor args…` and returns its stdout, stderr
// and exit code.
func runDoctorCmd(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	code := 0
	old := doctorExit
	doctorExit = func(c int) { code = c }
	t.Cleanup(func() { doctorExit = old })
	cmd := newRootCmd()
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetArgs(append([]string{"doctor"}, args...))
	if err := cmd.ExecuteContext(t.Context()); err != nil && err != errDoctorExited {
		t.Fatalf("atomcp doctor %v: %v\n%s", args, err, errOut.String())
	}
	return out.String(), errOut.String(), code
}

// openMCP is an MCP endpoint without authentication, with CORS, at
// /api/mcp; tokens it is sent are ignored.
func openMCP(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if o := r.Header.Get("Origin"); o != "" {
			w.Header().Set("Access-Control-Allow-Origin", o)
			w.Header().Set("Access-Control-Expose-Headers", "Mcp-Session-Id, MCP-Protocol-Version, WWW-Authenticate")
			if r.Method == http.MethodOptions {
				w.Header().Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Mcp-Session-Id, MCP-Protocol-Version")
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		if r.URL.Path != "/api/mcp" {
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodPost {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		var req struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
		}
		_ = json.NewDecoder(r.Body).Decode(&req)
		w.Header().Set("Content-Type", "application/json")
		switch req.Method {
		case "initialize":
			_, _ = io.WriteString(w, `{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-11-25","capabilities":{},"serverInfo":{"name":"open","version":"1"}}}`)
		case "tools/list":
			_, _ = io.WriteString(w, `{"jsonrpc":"2.0","id":2,"result":{"tools":[{"name":"echo"}]}}`)
		default:
			w.WriteHeader(http.StatusAccepted)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestDoctorCommandExitCodes(t *testing.T) {
	srv := openMCP(t)

	out, _, code := runDoctorCmd(t, "", srv.URL+"/api/mcp")
	if code != 0 || !strings.Contains(out, "Reachability\n  ✓") || !strings.Contains(out, "0 failed") {
		t.Errorf("a working server: exit %d\n%s", code, out)
	}

	out, _, code = runDoctorCmd(t, "", srv.URL+"/mcp")
	if code != 1 || !strings.Contains(out, "✗ 404: no MCP endpoint at this path") || !strings.Contains(out, "fix: Check the path") || !strings.Contains(out, "[reach.endpoint]") {
		t.Errorf("a wrong path: exit %d\n%s", code, out)
	}

	out, _, code = runDoctorCmd(t, "", "not a url")
	if code != 1 || !strings.Contains(out, "[reach.url]") {
		t.Errorf("not a URL: exit %d\n%s", code, out)
	}

	for _, args := range [][]string{
		{},                          // neither URL nor --config
		{srv.URL, srv.URL},          // two URLs
		{"--no-such-flag", srv.URL}, // a bad flag
		{"--origin", "claude.ai", srv.URL},
		{"--client", "claude", srv.URL}, // an unknown client
		{"--client", "cursor"},          // a client but no URL
		{"--format", "xml", srv.URL},    // an unknown format
		{"--json", "--format", "sarif", srv.URL},
	} {
		_, errOut, code := runDoctorCmd(t, "", args...)
		if code != 2 || !strings.Contains(errOut, "atomcp doctor:") {
			t.Errorf("%v: exit %d, stderr %q", args, code, errOut)
		}
	}
}

// TestDoctorCommandJSONAndVerbose: --json is the report, -v puts every
// exchange into it, and the token from stdin never appears whole.
func TestDoctorCommandJSONAndVerbose(t *testing.T) {
	srv := openMCP(t)
	const token = "opaque-token-abcdefghijklmnopqrstuvwxyz-0123456789"
	out, errOut, code := runDoctorCmd(t, token+"\n", srv.URL+"/api/mcp", "--json", "-v", "--token", "-")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	var rep doctor.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if rep.Summary.Fail != 0 || len(rep.Find(doctor.IDTokenToolsList)) != 1 || rep.Find(doctor.IDTokenToolsList)[0].Status != doctor.Pass {
		t.Errorf("report %+v", rep)
	}
	redacted := 0
	for _, x := range rep.Exchanges {
		if a := x.RequestHeaders["Authorization"]; a != "" {
			redacted++
			if a != fmt.Sprintf("Bearer opaque… (%d chars)", len(token)) {
				t.Errorf("Authorization shown as %q", a)
			}
		}
	}
	if redacted == 0 || len(rep.Exchanges) < 5 {
		t.Errorf("%d exchanges, %d with a token", len(rep.Exchanges), redacted)
	}
	if strings.Contains(out, token) || strings.Contains(errOut, token) {
		t.Error("the token is printed")
	}

	// -v without --json traces on stderr.
	out, errOut, _ = runDoctorCmd(t, "", srv.URL+"/api/mcp", "-v", "--token", token)
	if !strings.Contains(errOut, "> POST "+srv.URL+"/api/mcp") || !strings.Contains(errOut, fmt.Sprintf("> Authorization: Bearer opaque… (%d chars)", len(token))) || strings.Contains(out+errOut, token) {
		t.Errorf("-v trace:\n%s", errOut)
	}
}

func TestDoctorCommandConfigOnly(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	t.Setenv("ATOMCP_AUTH", "") // restored after the test
	os.Unsetenv("ATOMCP_AUTH")
	if err := os.WriteFile(dir+"/.env", []byte("ATOMCP_AUTH=none\nATOMCP_ADDR=127.0.0.1:8123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, code := runDoctorCmd(t, "", "--config")
	if code != 0 || !strings.Contains(out, "atomcp doctor --config .env") || !strings.Contains(out, ".env loads: auth none") {
		t.Errorf("exit %d\n%s", code, out)
	}
	// --config FILE with a space, before or after the URL.
	if err := os.WriteFile(dir+"/prod.env", []byte("ATOMCP_AUTH=none\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := openMCP(t)
	for _, args := range [][]string{{"--config", "prod.env", srv.URL + "/api/mcp"}, {srv.URL + "/api/mcp", "--config", "prod.env"}} {
		out, errOut, code := runDoctorCmd(t, "", args...)
		if code != 0 || !strings.Contains(out, "--config prod.env") || !strings.Contains(out, "prod.env loads") {
			t.Errorf("%v: exit %d\n%s%s", args, code, out, errOut)
		}
	}
}

// TestDoctorCommandClientsAndSARIF: --client prints a verdict per client,
// --format sarif is SARIF 2.1.0 on stdout and --sarif FILE writes it
// besides the text.
func TestDoctorCommandClientsAndSARIF(t *testing.T) {
	srv := openMCP(t)
	out, errOut, code := runDoctorCmd(t, "", srv.URL+"/api/mcp", "--client", "claude-ai,cursor")
	if code != 0 || !strings.Contains(out, "claude.ai / Claude Desktop connectors [--client claude-ai]: ready") ||
		!strings.Contains(out, "[--client cursor]: ready") || !strings.Contains(out, "ready: claude-ai, cursor; would fail: none") {
		t.Errorf("exit %d\n%s\n%s", code, out, errOut)
	}

	out, _, code = runDoctorCmd(t, "", srv.URL+"/mcp", "--format", "sarif")
	var log struct {
		Version string `json:"version"`
		Runs    []struct {
			Results []struct {
				RuleID string `json:"ruleId"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(out), &log); err != nil || code != 1 || log.Version != "2.1.0" || len(log.Runs) != 1 ||
		len(log.Runs[0].Results) == 0 || log.Runs[0].Results[0].RuleID != doctor.IDReachEndpoint {
		t.Errorf("SARIF: exit %d, %v\n%s", code, err, out)
	}

	path := t.TempDir() + "/doctor.sarif"
	out, _, _ = runDoctorCmd(t, "", srv.URL+"/mcp", "--sarif", path)
	data, err := os.ReadFile(path)
	if err != nil || !strings.Contains(string(data), `"ruleId": "reach.endpoint"`) || !strings.Contains(out, "[reach.endpoint]") {
		t.Errorf("--sarif: %v\n%s\n%s", err, data, out)
	}
}
