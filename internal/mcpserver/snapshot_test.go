package mcpserver

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/atomcp/atomcp/internal/atoms"
	"github.com/atomcp/atomcp/internal/store/sqlite"
)

// update rewrites the snapshots under testdata/ instead of comparing with
// them: go test ./internal/mcpserver -run Snapshot -update
var update = flag.Bool("update", false, "rewrite the snapshot files under testdata/")

// The snapshots pin what a model sees of the server: each tool's name,
// description, annotations and schemas, the prompts and the resource
// templates. Much of it is generated at run time (entity_tool's data
// schema comes from domain.Kinds()), so a one-line change elsewhere can
// change the contract with every client; the diff of testdata/ shows it.

// productServer is the server `atomcp serve` runs, on a fresh SQLite store.
func productServer(t *testing.T) *mcp.ClientSession {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "snapshot.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return connect(t, New(atoms.New(st), Options{}))
}

func TestSnapshotTools(t *testing.T) {
	cs := productServer(t)
	dir := filepath.Join("testdata", "tools")
	seen := map[string]bool{}
	var total int
	for tool, err := range cs.Tools(context.Background(), nil) {
		if err != nil {
			t.Fatal(err)
		}
		name := tool.Name + ".json"
		seen[name] = true
		b, err := json.Marshal(tool)
		if err != nil {
			t.Fatal(err)
		}
		total += len(b)
		checkSnapshot(t, filepath.Join(dir, name), tool)
	}
	t.Logf("tools/list: %d bytes of tools (compact JSON)", total)
	// A tool that is gone must not leave its snapshot behind.
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if seen[filepath.Base(f)] {
			continue
		}
		if *update {
			if err := os.Remove(f); err != nil {
				t.Fatal(err)
			}
			continue
		}
		t.Errorf("%s: the server has no such tool; if it was removed on purpose, run go test ./internal/mcpserver -run Snapshot -update", f)
	}
}

func TestSnapshotPrompts(t *testing.T) {
	cs := productServer(t)
	var prompts []*mcp.Prompt
	for p, err := range cs.Prompts(context.Background(), nil) {
		if err != nil {
			t.Fatal(err)
		}
		prompts = append(prompts, p)
	}
	checkSnapshot(t, filepath.Join("testdata", "prompts.json"), prompts)
}

func TestSnapshotResourceTemplates(t *testing.T) {
	cs := productServer(t)
	var templates []*mcp.ResourceTemplate
	for rt, err := range cs.ResourceTemplates(context.Background(), nil) {
		if err != nil {
			t.Fatal(err)
		}
		templates = append(templates, rt)
	}
	checkSnapshot(t, filepath.Join("testdata", "resource_templates.json"), templates)
}

// checkSnapshot compares v, as indented JSON, with the file at path, or
// rewrites the file under -update. The client decodes schemas into maps,
// so their keys come out sorted: the files do not depend on the order in
// which the server happened to write them.
func checkSnapshot(t *testing.T, path string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		t.Errorf("%s: no snapshot yet; run go test ./internal/mcpserver -run Snapshot -update and commit it", path)
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s: what clients see changed (- snapshot, + now):\n%s\nIf the change is intended, run go test ./internal/mcpserver -run Snapshot -update and commit the new snapshot.",
			path, lineDiff(string(want), string(got)))
	}
}

// lineDiff is a small line diff (longest common subsequence) of two texts,
// showing changed lines with two lines of context around them.
func lineDiff(a, b string) string {
	x, y := strings.Split(a, "\n"), strings.Split(b, "\n")
	// lcs[i][j] is the length of the longest common subsequence of x[i:] and y[j:].
	lcs := make([][]int, len(x)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(y)+1)
	}
	for i := len(x) - 1; i >= 0; i-- {
		for j := len(y) - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	type line struct {
		op   byte // ' ', '-' or '+'
		text string
		n    int // line number in a (for ' ' and '-') or b (for '+')
	}
	var lines []line
	i, j := 0, 0
	for i < len(x) || j < len(y) {
		switch {
		case i < len(x) && j < len(y) && x[i] == y[j]:
			lines = append(lines, line{' ', x[i], i + 1})
			i, j = i+1, j+1
		case i < len(x) && (j == len(y) || lcs[i+1][j] >= lcs[i][j+1]):
			lines = append(lines, line{'-', x[i], i + 1})
			i++
		default:
			lines = append(lines, line{'+', y[j], j + 1})
			j++
		}
	}
	// Show each changed line with two lines of context on either side.
	show := make([]bool, len(lines))
	for k, l := range lines {
		if l.op == ' ' {
			continue
		}
		for c := max(0, k-2); c <= min(len(lines)-1, k+2); c++ {
			show[c] = true
		}
	}
	var out strings.Builder
	for k, l := range lines {
		if !show[k] {
			continue
		}
		if k > 0 && !show[k-1] {
			out.WriteString("   ...\n")
		}
		fmt.Fprintf(&out, "%c %4d %s\n", l.op, l.n, l.text)
	}
	return out.String()
}
