package e2e

import (
	"bufio"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// startServerEnv runs `atomcp serve` in dir with exactly env (plus PATH,
// HOME, JSON logs and a database in dir): unlike startServer it sets no
// address or auth provider, so that a .env in dir decides them. base is
// the server's base URL, known to the caller from that .env.
func startServerEnv(t *testing.T, dir, base string, env ...string) *server {
	t.Helper()
	cmd := exec.Command(binary, "serve")
	cmd.Dir = dir
	cmd.Env = append([]string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + dir,
		"ATOMCP_LOG_FORMAT=json",
		"ATOMCP_DATABASE_URL=sqlite://" + filepath.Join(dir, "atomcp.db"),
	}, env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{t: t, cmd: cmd, Base: base, URL: base + "/api/mcp", stderr: &logTail{lines: make(chan string, 1000)}, done: make(chan error, 1)}
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			select {
			case s.stderr.lines <- sc.Text():
			default:
			}
		}
		close(s.stderr.lines)
	}()
	go func() { s.done <- cmd.Wait() }()
	t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			_ = s.cmd.Process.Kill()
			<-s.done
		}
	})
	s.waitLog(t, "atomcp serving")
	return s
}

// bearerTransport adds a bearer token to every request.
type bearerTransport struct{ token string }

func (b bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}

// connectWithToken connects a go-sdk client that sends token.
func connectWithToken(t *testing.T, url, token string) (*mcp.ClientSession, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client := mcp.NewClient(&mcp.Implementation{Name: "atomcp-e2e", Version: "1"}, nil)
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{
		Endpoint:   url,
		HTTPClient: &http.Client{Transport: bearerTransport{token}},
		MaxRetries: -1,
	}, nil)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { cs.Close() })
	return cs, nil
}

// rawPost sends one JSON-RPC body to the MCP endpoint.
func rawPost(t *testing.T, url string, header map[string]string, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

const initializeBody = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`

// syncLog makes sure every log line written before now has been read:
// it requests a unique path and reads lines until the request log line
// for it arrives (lines are written in order).
func (s *server) syncLog(t *testing.T) {
	t.Helper()
	marker := "/log-marker-" + strings.ReplaceAll(time.Now().Format("150405.000000000"), ".", "")
	resp, err := http.Get(s.Base + marker)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	timeout := time.After(60 * time.Second)
	for {
		select {
		case line, ok := <-s.stderr.lines:
			if !ok {
				t.Fatalf("atomcp exited; log:\n%s", strings.Join(s.stderr.all, "\n"))
			}
			s.stderr.all = append(s.stderr.all, line)
			if strings.Contains(line, marker) {
				return
			}
		case <-timeout:
			t.Fatalf("the request log line for %s did not come within 60s", marker)
		}
	}
}
