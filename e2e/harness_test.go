// Package e2e holds black-box tests of the built atomcp binary, driven by
// real MCP clients over HTTP.
package e2e

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

var binary string

func TestMain(m *testing.M) {
	// -short (make check) skips the package: building atomcp with -race
	// and starting it dozens of times is most of a plain `go test ./...`.
	flag.Parse()
	if testing.Short() {
		fmt.Println("e2e: skipped with -short; make test runs it")
		os.Exit(0)
	}
	dir, err := os.MkdirTemp("", "atomcp-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "atomcp")
	build := exec.Command("go", "build", "-race", "-o", binary, "../cmd/atomcp")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build atomcp:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// server is one running atomcp serve process.
type server struct {
	t      *testing.T
	cmd    *exec.Cmd
	URL    string // MCP endpoint
	Base   string
	stderr *logTail
	done   chan error
}

// logTail keeps the process's log lines for failure messages and lets a
// test wait for a given line.
type logTail struct {
	lines chan string
	all   []string
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startServer runs `atomcp serve` in dir on a free loopback port with
// ATOMCP_AUTH=none (env may override it) and waits for its "atomcp
// serving" log line.
func startServer(t *testing.T, dir string, env ...string) *server {
	t.Helper()
	addr := freeAddr(t)
	return startServerEnv(t, dir, "http://"+addr, append([]string{"ATOMCP_ADDR=" + addr, "ATOMCP_AUTH=none"}, env...)...)
}

// waitLog reads log lines until one has the message msg.
func (s *server) waitLog(t *testing.T, msg string) map[string]any {
	t.Helper()
	timeout := time.After(60 * time.Second)
	for {
		select {
		case line, ok := <-s.stderr.lines:
			if !ok {
				t.Fatalf("atomcp exited before logging %q; log:\n%s", msg, strings.Join(s.stderr.all, "\n"))
			}
			s.stderr.all = append(s.stderr.all, line)
			var rec map[string]any
			if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == msg {
				return rec
			}
		case <-timeout:
			t.Fatalf("no %q log line within 60s; log:\n%s", msg, strings.Join(s.stderr.all, "\n"))
		}
	}
}

// rest returns the log lines not read yet (the process must have exited).
func (s *server) rest() string {
	for line := range s.stderr.lines {
		s.stderr.all = append(s.stderr.all, line)
	}
	return strings.Join(s.stderr.all, "\n")
}

// stop sends SIGTERM and waits for a clean exit.
func (s *server) stop(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-s.done:
		if err != nil {
			t.Fatalf("atomcp exited with %v after SIGTERM", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("atomcp did not stop within 60s of SIGTERM")
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (s *server) kill(t *testing.T) {
	t.Helper()
	_ = s.cmd.Process.Kill()
	<-s.done
}

func connect(t *testing.T, url string) *mcp.ClientSession {
	t.Helper()
	return connectVersion(t, url, "")
}

// connectVersion connects asking for a protocol revision ("" = the newest:
// 2026-07-28, which has no sessions; 2025-11-25 initializes a session).
func connectVersion(t *testing.T, url, version string) *mcp.ClientSession {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client := mcp.NewClient(&mcp.Implementation{Name: "atomcp-e2e", Version: "1"}, nil)
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url, MaxRetries: -1}, &mcp.ClientSessionOptions{ProtocolVersion: version})
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

// result is a decoded tool result.
type result struct {
	IsError bool
	Text    string
	Data    map[string]any
}

func call(t *testing.T, cs *mcp.ClientSession, tool string, args map[string]any) result {
	t.Helper()
	r, err := tryCall(cs, tool, args, 60*time.Second)
	if err != nil {
		t.Fatalf("%s %v: protocol error: %v", tool, args, err)
	}
	return r
}

// tryCall is call without failing the test: a protocol error is returned.
func tryCall(cs *mcp.ClientSession, tool string, args map[string]any, timeout time.Duration) (result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		return result{}, err
	}
	var r result
	r.IsError = res.IsError
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			r.Text += tc.Text
		}
	}
	if res.StructuredContent != nil {
		b, _ := json.Marshal(res.StructuredContent)
		_ = json.Unmarshal(b, &r.Data)
	}
	return r, nil
}

// mustCall calls a tool and fails the test on a tool error.
func mustCall(t *testing.T, cs *mcp.ClientSession, tool string, args map[string]any) map[string]any {
	t.Helper()
	r := call(t, cs, tool, args)
	if r.IsError {
		t.Fatalf("%s %v: tool error: %s", tool, args, r.Text)
	}
	return r.Data
}

func entityOf(t *testing.T, data map[string]any) map[string]any {
	t.Helper()
	e, ok := data["entity"].(map[string]any)
	if !ok {
		t.Fatalf("no entity in result %v", data)
	}
	return e
}

func readAll(r io.Reader) string {
	b, _ := io.ReadAll(r)
	return string(b)
}
