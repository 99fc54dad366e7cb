package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// TestStdioAndSeed: `atomcp seed --demo` fills the database once (a second
// run changes nothing), and `atomcp stdio` serves the same tools over stdio
// as the local user, who sees the demo organization.
func TestStdioAndSeed(t *testing.T) {
	dir := t.TempDir()
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "ATOMCP_DATABASE_URL=sqlite://" + filepath.Join(dir, "atomcp.db")}
	seed := func() string {
		cmd := exec.Command(binary, "seed", "--demo")
		cmd.Dir, cmd.Env = dir, env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("seed --demo: %v\n%s", err, out)
		}
		return string(out)
	}
	if out := seed(); !strings.Contains(out, "20 requirements") {
		t.Fatalf("first seed said %q", out)
	}
	if out := seed(); !strings.Contains(out, "already exists") {
		t.Fatalf("second seed said %q", out)
	}

	cmd := exec.Command(binary, "stdio")
	cmd.Dir, cmd.Env = dir, env
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "stdio-e2e", Version: "1"}, nil).Connect(ctx, &mcp.CommandTransport{Command: cmd}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	tools, err := cs.ListTools(ctx, nil)
	if err != nil || len(tools.Tools) < 5 {
		t.Fatalf("tools over stdio = %v, %v", tools, err)
	}
	list := mustCall(t, cs, "entity_tool", map[string]any{"entity_type": "requirement", "operation": "list", "filters": map[string]any{"priority": "critical"}, "limit": 100})
	if list["total"] != float64(6) {
		t.Fatalf("critical demo requirements over stdio = %v; want 6", list["total"])
	}
	an := mustCall(t, cs, "query_tool", map[string]any{"query_type": "analyze", "project_id": "Delivery Drone"})
	if c := an["coverage"].(map[string]any); c["requirements"] != float64(20) || c["covered_requirements"] != float64(7) {
		t.Fatalf("analyze of the demo project = %v", an)
	}
}
