// Package benchkit holds what the benchmark driver (bench/driver) and the
// soak run (bench/soak) both need: a clean environment for the servers
// they start, a free loopback port, a server process that announces its
// URL, its resident memory, and an atomcp database prepared for one user
// at a high rate.
package benchkit

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Account is the account the atomcp runs act as.
const Account = "bench@example.com"

// HighRateEnv turns off atomcp's per-user and per-address limits. One
// user drives thousands of requests a second here: the per-user limits
// (10/s by default, docs/security.md) would measure the limiter, and the
// session measurements open more connections than the per-address cap.
// Both are off, as behind a load balancer that does its own limiting.
var HighRateEnv = []string{
	"ATOMCP_TOOL_RATE=0",
	"ATOMCP_TOOL_CONCURRENCY=0",
	"ATOMCP_MAX_CONNS_PER_CLIENT=0",
}

// CleanEnviron is this process's environment without any atomcp setting,
// so that the servers run on their defaults plus what the caller sets.
func CleanEnviron() []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "ATOMCP_") || strings.HasPrefix(k, "ATOMS_") || strings.HasPrefix(k, "FASTMCP_") ||
			strings.HasPrefix(k, "WORKOS_") || k == "LOG_LEVEL" || strings.HasPrefix(k, "BENCH_") {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// FreePort is a TCP port on 127.0.0.1 that nothing listens on now.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// BuildAtomcp builds ./cmd/atomcp of the module at root into dir.
func BuildAtomcp(ctx context.Context, root, dir string) (string, error) {
	bin := filepath.Join(dir, "atomcp")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/atomcp")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/atomcp: %v\n%s", err, out)
	}
	return bin, nil
}

// Admin runs `atomcp ARGS` in dir with environ and stdin and returns its
// standard output.
func Admin(ctx context.Context, atomcp, dir string, environ []string, stdin string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, atomcp, args...)
	cmd.Dir, cmd.Env, cmd.Stdin = dir, environ, strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("atomcp %s: %v\n%s", strings.Join(args[:min(2, len(args))], " "), err, errOut.String())
	}
	return out.String(), nil
}

// PrepareAtomcp gives the database of environ's ATOMCP_DATABASE_URL the
// Account, the demo data (`atomcp seed --demo`) and a personal access
// token valid for a day, which it returns.
func PrepareAtomcp(ctx context.Context, atomcp, dir string, environ []string) (string, error) {
	if _, err := Admin(ctx, atomcp, dir, environ, "bench-password-1\n", "users", "add", Account); err != nil {
		return "", err
	}
	if _, err := Admin(ctx, atomcp, dir, environ, "", "seed", "--demo", "--for", Account); err != nil {
		return "", err
	}
	token, err := Admin(ctx, atomcp, dir, environ, "", "tokens", "create", "--user", Account, "--ttl", "1d", "--name", "benchmark", "-q")
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(token), nil
}

// servingLine finds the URL a server announces: "… serving URL" on
// stdout, or atomcp's "mcp_url" log attribute.
var servingLine = regexp.MustCompile(`serving (http://\S+)|"mcp_url":"([^"]+)"`)

// Proc is a server process started by Start.
type Proc struct {
	Cmd  *exec.Cmd
	URL  string        // the URL it announced
	Log  string        // the file of its stdout and stderr
	Done chan struct{} // closed when it has exited
}

// Start runs name with args in dir (created if missing) with environ,
// its output going to dir/server.log, and waits up to a minute until it
// announces its URL. started, when not nil, is told the process id as
// soon as there is one.
func Start(ctx context.Context, dir string, environ []string, started func(pid int), name string, args ...string) (*Proc, error) {
	return StartWhen(ctx, dir, environ, started, announced, name, args...)
}

// announced is Start's readiness check: the URL in the log.
func announced(log []byte) (string, bool) {
	if m := servingLine.FindSubmatch(log); m != nil {
		return string(m[1]) + string(m[2]), true
	}
	return "", false
}

// StartWhen is Start with another readiness check: ready is called with
// the log so far every 50 ms until it returns the server's URL and true
// (for a server that logs only warnings: poll its /readyz).
func StartWhen(ctx context.Context, dir string, environ []string, started func(pid int), ready func(log []byte) (string, bool), name string, args ...string) (*Proc, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, "server.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = environ
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	if started != nil {
		started(cmd.Process.Pid)
	}
	p := &Proc{Cmd: cmd, Done: make(chan struct{}), Log: logPath}
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(p.Done)
	}()
	deadline := time.Now().Add(60 * time.Second)
	for {
		b, _ := os.ReadFile(logPath)
		if u, ok := ready(b); ok {
			p.URL = u
			return p, nil
		}
		select {
		case <-p.Done:
			// Read again: it may have written its last words after b was read.
			b, _ = os.ReadFile(logPath)
			return nil, fmt.Errorf("%s exited at start-up:\n%s", filepath.Base(name), Tail(b, 20))
		case <-ctx.Done():
			p.Stop()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.Stop()
			return nil, fmt.Errorf("%s did not start within 60 s:\n%s", filepath.Base(name), Tail(b, 20))
		}
	}
}

// Pid is the process id.
func (p *Proc) Pid() int { return p.Cmd.Process.Pid }

// Exited says whether the process has ended.
func (p *Proc) Exited() bool {
	select {
	case <-p.Done:
		return true
	default:
		return false
	}
}

// Stop ends the process: SIGTERM, then SIGKILL after 10 s.
func (p *Proc) Stop() {
	if p == nil || p.Cmd.Process == nil || p.Exited() {
		return
	}
	_ = p.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.Done:
	case <-time.After(10 * time.Second):
		_ = p.Cmd.Process.Kill()
		<-p.Done
	}
}

// Memory is a process's resident memory from /proc/PID/status, in KiB:
// VmRSS, and its anonymous and file-backed parts (a memory-mapped SQLite
// database counts in RssFile).
type Memory struct {
	RSS, Anon, File int
}

// ReadMemory reads the resident memory of process pid.
func ReadMemory(pid int) (Memory, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return Memory{}, err
	}
	var m Memory
	found := false
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
		switch k {
		case "VmRSS":
			m.RSS, found = n, err == nil
		case "RssAnon":
			m.Anon = n
		case "RssFile":
			m.File = n
		}
	}
	if !found {
		return Memory{}, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
	}
	return m, nil
}

// RSSKiB is the resident memory (VmRSS) of process pid.
func RSSKiB(pid int) (int, error) {
	m, err := ReadMemory(pid)
	return m.RSS, err
}

// Tail is the last n lines of b.
func Tail(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
