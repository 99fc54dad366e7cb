package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestBackupWhileServing: atomcp db backup while atomcp serve takes
// writes; the backup restores to a fresh path that a new server serves
// with every requirement committed before the backup started; restoring
// over the running server's database is refused.
func TestBackupWhileServing(t *testing.T) {
	dir, fresh := t.TempDir(), t.TempDir()
	srv := startServer(t, dir)
	cs := connect(t, srv.URL)
	org := entityOf(t, mustCall(t, cs, "entity_tool", map[string]any{"entity_type": "organization", "operation": "create", "data": map[string]any{"name": "Backup Test"}}))
	proj := entityOf(t, mustCall(t, cs, "entity_tool", map[string]any{"entity_type": "project", "operation": "create", "data": map[string]any{"organization_id": org["id"], "name": "P"}}))
	doc := entityOf(t, mustCall(t, cs, "entity_tool", map[string]any{"entity_type": "document", "operation": "create", "data": map[string]any{"project_id": proj["id"], "name": "D"}}))

	var (
		mu        sync.Mutex
		committed = map[string]string{} // id → name
		writeErr  error
		stop      = make(chan struct{})
		done      = make(chan struct{})
		enough    = make(chan struct{})
	)
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			name := fmt.Sprintf("Live write %d", i)
			// tryCall, not call: only the test's own goroutine may fail it.
			r, err := tryCall(cs, "entity_tool", map[string]any{"entity_type": "requirement", "operation": "create",
				"data": map[string]any{"document_id": doc["id"], "name": name}}, time.Minute)
			e, _ := r.Data["entity"].(map[string]any)
			if err != nil || r.IsError || e == nil {
				mu.Lock()
				writeErr = fmt.Errorf("write %d failed: %v %s", i, err, r.Text)
				mu.Unlock()
				return
			}
			mu.Lock()
			committed[e["id"].(string)] = name
			if len(committed) == 40 {
				close(enough)
			}
			mu.Unlock()
		}
	}()
	select {
	case <-enough:
	case <-done:
		t.Fatalf("writer stopped: %v", writeErr)
	case <-time.After(2 * time.Minute):
		t.Fatal("40 writes took over two minutes")
	}
	mu.Lock()
	before := make(map[string]string, len(committed))
	for id, name := range committed {
		before[id] = name
	}
	mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	atomcp := func(db string, args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, binary, args...)
		cmd.Env = append(os.Environ(), "ATOMCP_DATABASE_URL=sqlite://"+db)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	backup := filepath.Join(t.TempDir(), "backup.db")
	out, err := atomcp(filepath.Join(dir, "atomcp.db"), "db", "backup", backup)
	close(stop)
	<-done
	if err != nil {
		t.Fatalf("db backup while serving: %v\n%s", err, out)
	}
	if writeErr != nil {
		t.Fatalf("the server failed a write during the backup: %v", writeErr)
	}
	mu.Lock()
	t.Logf("%s; %d writes committed before it, %d in all", strings.TrimSpace(out), len(before), len(committed))
	mu.Unlock()

	// The running server's database cannot be replaced under it.
	if out, err := atomcp(filepath.Join(dir, "atomcp.db"), "db", "restore", backup); err == nil || !strings.Contains(out, "stop atomcp serve") {
		t.Errorf("db restore over the running server's database = %v\n%s; want a refusal saying to stop it", err, out)
	}

	if out, err := atomcp(filepath.Join(fresh, "atomcp.db"), "db", "restore", backup); err != nil {
		t.Fatalf("db restore to a fresh path: %v\n%s", err, out)
	}
	srv.stop(t)
	restored := startServer(t, fresh)
	rcs := connect(t, restored.URL)
	list := mustCall(t, rcs, "entity_tool", map[string]any{"entity_type": "requirement", "operation": "list", "limit": 500, "filters": map[string]any{"document_id": doc["id"]}})
	got := map[string]string{}
	for _, it := range list["items"].([]any) {
		m := it.(map[string]any)
		got[m["id"].(string)] = m["name"].(string)
	}
	for id, name := range before {
		if got[id] != name {
			t.Errorf("requirement %s (%q), committed before the backup, is %q in the restored database", id, name, got[id])
		}
	}
	mustCall(t, rcs, "entity_tool", map[string]any{"entity_type": "requirement", "operation": "create", "data": map[string]any{"document_id": doc["id"], "name": "After the restore"}})
	restored.stop(t)
}
