package tools_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// update rewrites the responses in testdata/transcripts instead of
// comparing with them: go test ./internal/atoms/tools -run Transcript -update
var update = flag.Bool("update", false, "rewrite the responses in testdata/transcripts")

// TestTranscripts replays each file under testdata/transcripts against the
// tools, as one client, and compares every response with the one recorded
// below its call: the exact text content a model reads (and the structured
// content, when it is not that same text). Unlike the tool tests, which look
// at parsed results, this pins the bytes.
func TestTranscripts(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "transcripts", "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no transcripts")
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) { replay(t, f) })
	}
}

func replay(t *testing.T, path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cs := newEnv(t).client(t, alice)
	norm := newNormalizer()
	var got bytes.Buffer
	for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		if !strings.HasPrefix(line, ">>> ") {
			if !strings.HasPrefix(line, "<<< ") && !strings.HasPrefix(line, "    ") {
				got.WriteString(line + "\n") // comments and blank lines stay
			}
			continue
		}
		got.WriteString(line + "\n")
		tool, args, _ := strings.Cut(strings.TrimPrefix(line, ">>> "), " ")
		got.WriteString(norm.apply(respond(t, cs, tool, args)))
	}
	if *update {
		if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if want := string(data); got.String() != want {
		t.Errorf("%s: the responses changed.\n--- recorded\n%s\n--- now\n%s\nIf the change is intended, run go test ./internal/atoms/tools -run Transcript -update and commit the file.",
			path, firstDifference(want, got.String()), firstDifference(got.String(), want))
	}
}

// respond makes one call and renders its response as indented lines under
// a "<<< ok" or "<<< error" line.
func respond(t *testing.T, cs *mcp.ClientSession, tool, args string) string {
	t.Helper()
	if tool == "initialize" {
		b, err := json.Marshal(cs.InitializeResult())
		if err != nil {
			t.Fatal(err)
		}
		return "<<< ok\n    " + string(b) + "\n"
	}
	var params mcp.CallToolParams
	params.Name = tool
	if err := json.Unmarshal([]byte(args), &params.Arguments); err != nil {
		t.Fatalf("%s: arguments: %v", tool, err)
	}
	res, err := cs.CallTool(context.Background(), &params)
	if err != nil {
		t.Fatalf("%s %s: protocol error: %v", tool, args, err)
	}
	var b strings.Builder
	b.WriteString("<<< ok\n")
	if res.IsError {
		b.Reset()
		b.WriteString("<<< error\n")
	}
	text := ""
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			text += tc.Text
			fmt.Fprintf(&b, "    text: %s\n", strings.ReplaceAll(tc.Text, "\n", "\n    "))
		}
	}
	if res.StructuredContent != nil {
		sc, err := json.Marshal(res.StructuredContent)
		if err != nil {
			t.Fatal(err)
		}
		// Shown only when it says more than the text (go-sdk sends a
		// result's JSON as both).
		var v any
		if json.Unmarshal([]byte(text), &v) == nil {
			if canon, _ := json.Marshal(v); string(canon) == string(sc) {
				return b.String()
			}
		}
		if string(sc) != text {
			fmt.Fprintf(&b, "    structured: %s\n", sc)
		}
	}
	return b.String()
}

var (
	uuidPattern = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	timePattern = regexp.MustCompile(`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})`)
)

// normalizer replaces ids by id-1, id-2 … in order of first appearance
// across a transcript, so that the same entity keeps its name, and times
// by <time>.
type normalizer struct{ ids map[string]string }

func newNormalizer() *normalizer { return &normalizer{ids: map[string]string{}} }

func (n *normalizer) apply(s string) string {
	s = uuidPattern.ReplaceAllStringFunc(s, func(id string) string {
		if _, ok := n.ids[id]; !ok {
			n.ids[id] = fmt.Sprintf("id-%d", len(n.ids)+1)
		}
		return n.ids[id]
	})
	return timePattern.ReplaceAllString(s, "<time>")
}

// firstDifference returns the lines of a from the first one that differs
// from b, with the line before it, at most five lines.
func firstDifference(a, b string) string {
	x, y := strings.Split(a, "\n"), strings.Split(b, "\n")
	i := 0
	for i < len(x) && i < len(y) && x[i] == y[i] {
		i++
	}
	from, to := max(0, i-1), min(len(x), i+4)
	return strings.Join(x[from:to], "\n")
}
