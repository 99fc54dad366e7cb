package clientcli

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/atomcp/atomcp/internal/atoms"
	"github.com/atomcp/atomcp/internal/conformance"
	"github.com/atomcp/atomcp/internal/httpserver"
	"github.com/atomcp/atomcp/internal/store/storeopen"
)

// TestTasksAgainstTheConformanceFixture runs the task commands against
// atomcp's own server (the conformance fixture, behind atomcp's HTTP
// front), not only a bare go-sdk server.
func TestTasksAgainstTheConformanceFixture(t *testing.T) {
	ctx := testCtx(t)
	st, err := storeopen.Open(ctx, filepath.Join(t.TempDir(), "atomcp.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	fx := conformance.New(atoms.New(st), "test", nil, httpserver.Options{ListenLoopback: true, Ready: st.Ping}, nil)
	if err := fx.Tasks.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = fx.Tasks.Close(c)
	})
	ts := httptest.NewServer(fx.HTTP)
	t.Cleanup(ts.Close)
	url := ts.URL + "/api/mcp"

	out, errOut, err := run(ctx, "tools", "call", "--task", url, "slow_compute", "--arg", "seconds=0.3", "--arg", "label=x")
	if err != nil || out != "Computed \"x\" in 0.3s\n" || !strings.Contains(errOut, "started (working)") {
		t.Fatalf("slow_compute: %v, stdout %q, stderr %q", err, out, errOut)
	}
	_, _, err = run(ctx, "tools", "call", "--task", url, "failing_job")
	if err == nil || !strings.Contains(err.Error(), "the job failed, as it always does") {
		t.Fatalf("failing_job: %v; want the tool's error", err)
	}
	_, _, err = run(ctx, "tools", "call", "--task", url, "protocol_error_job")
	if err == nil || !strings.Contains(err.Error(), "failed: the job broke at the protocol level") {
		t.Fatalf("protocol_error_job: %v; want the task's error", err)
	}
}
