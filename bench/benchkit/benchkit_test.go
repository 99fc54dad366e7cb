package benchkit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCleanEnviron(t *testing.T) {
	t.Setenv("ATOMCP_AUTH", "none")
	t.Setenv("FASTMCP_SERVER_AUTH", "x")
	t.Setenv("BENCH_TOKEN", "secret")
	t.Setenv("HOME_FOR_TEST", "kept")
	kept := false
	for _, kv := range CleanEnviron() {
		if strings.HasPrefix(kv, "ATOMCP_") || strings.HasPrefix(kv, "FASTMCP_") || strings.HasPrefix(kv, "BENCH_") {
			t.Errorf("%s leaks into the servers' environment", kv)
		}
		kept = kept || kv == "HOME_FOR_TEST=kept"
	}
	if !kept {
		t.Error("an unrelated variable was dropped")
	}
}

func TestReadMemory(t *testing.T) {
	m, err := ReadMemory(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if m.RSS <= 0 || m.Anon <= 0 || m.Anon+m.File > m.RSS+m.RSS/10 {
		t.Errorf("implausible memory of this test process: %+v", m)
	}
	if _, err := ReadMemory(-1); err == nil {
		t.Error("no error for a process that does not exist")
	}
}

// A process that exits before announcing a URL is an error naming it,
// with its output.
func TestStartExitsEarly(t *testing.T) {
	_, err := Start(t.Context(), filepath.Join(t.TempDir(), "p"), nil, nil, "/bin/sh", "-c", "echo no luck; exit 3")
	if err == nil || !strings.Contains(err.Error(), "exited at start-up") || !strings.Contains(err.Error(), "no luck") {
		t.Fatalf("got %v", err)
	}
}

func TestStartFindsURL(t *testing.T) {
	var pid int
	p, err := Start(t.Context(), t.TempDir(), nil, func(n int) { pid = n }, "/bin/sh", "-c", `echo '{"msg":"up","mcp_url":"http://127.0.0.1:9/api/mcp"}'; exec sleep 30`)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	if p.URL != "http://127.0.0.1:9/api/mcp" || pid != p.Pid() {
		t.Errorf("URL %q, pid %d of %d", p.URL, pid, p.Pid())
	}
	p.Stop()
	if !p.Exited() {
		t.Error("still running after Stop")
	}
}
