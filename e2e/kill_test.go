package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// sentSignal is a RoundTripper that reports when a request whose body
// contains marker has been handed to the server in full.
type sentSignal struct {
	marker string
	once   sync.Once
	sent   chan struct{}
}

func (s *sentSignal) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil && req.GetBody != nil {
		body, _ := req.GetBody()
		b, _ := io.ReadAll(body)
		if strings.Contains(string(b), s.marker) {
			req = req.Clone(req.Context())
			req.Body = &eofSignal{r: strings.NewReader(string(b)), onEOF: func() { s.once.Do(func() { close(s.sent) }) }}
		}
	}
	return http.DefaultTransport.RoundTrip(req)
}

// eofSignal calls onEOF once the whole body has been read by the transport.
type eofSignal struct {
	r     io.Reader
	onEOF func()
}

func (e *eofSignal) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err == io.EOF {
		e.onEOF()
	}
	return n, err
}

func (e *eofSignal) Close() error { return nil }

// TestKillDuringBatchCreate: SIGKILL while a batch_create is being served
// leaves all of the batch or none of it.
func TestKillDuringBatchCreate(t *testing.T) {
	dir := t.TempDir()
	srv := startServer(t, dir)
	cs := connect(t, srv.URL)
	org := entityOf(t, mustCall(t, cs, "entity_tool", map[string]any{"entity_type": "organization", "operation": "create", "data": map[string]any{"name": "Kill Test"}}))
	proj := entityOf(t, mustCall(t, cs, "entity_tool", map[string]any{"entity_type": "project", "operation": "create", "data": map[string]any{"organization_id": org["id"], "name": "P"}}))
	doc := entityOf(t, mustCall(t, cs, "entity_tool", map[string]any{"entity_type": "document", "operation": "create", "data": map[string]any{"project_id": proj["id"], "name": "D"}}))

	const n = 1000
	batch := make([]any, n)
	for i := range batch {
		batch[i] = map[string]any{"document_id": doc["id"], "name": fmt.Sprintf("Batch requirement %d", i), "external_id": fmt.Sprintf("KILL-%04d", i), "content": strings.Repeat("lorem ipsum ", 50)}
	}
	signal := &sentSignal{marker: "KILL-0000", sent: make(chan struct{})}
	client := mcp.NewClient(&mcp.Implementation{Name: "killer", Version: "1"}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	killSession, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: srv.URL, HTTPClient: &http.Client{Transport: signal}, MaxRetries: -1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		_, _ = killSession.CallTool(ctx, &mcp.CallToolParams{Name: "entity_tool", Arguments: map[string]any{"entity_type": "requirement", "operation": "batch_create", "batch": batch}})
	}()
	select {
	case <-signal.sent:
	case <-ctx.Done():
		t.Fatal("the batch request was never sent")
	}
	srv.kill(t)
	cancel()

	srv = startServer(t, dir)
	cs = connect(t, srv.URL)
	list := mustCall(t, cs, "entity_tool", map[string]any{"entity_type": "requirement", "operation": "list", "filters": map[string]any{"document_id": doc["id"]}, "limit": 1})
	total := list["total"].(float64)
	if total != 0 && total != n {
		t.Fatalf("after SIGKILL during batch_create, %v of %d requirements exist; want all or none", total, n)
	}
	t.Logf("after SIGKILL: %v of %d requirements (all or none holds)", total, n)
}
