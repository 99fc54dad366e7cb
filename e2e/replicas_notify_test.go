package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/atomcp/atomcp/internal/pgtest"
)

// A client subscribed to a project's traceability matrix on replica 1
// hears of a change made through replica 3: the replicas tell each other
// with PostgreSQL LISTEN/NOTIFY (internal/fanout). The wait is generous;
// the test asserts that the notification arrives, not how fast.
func TestReplicasNotifySubscribers(t *testing.T) {
	db := pgtest.NewDB(t).String()
	dir := t.TempDir()
	var replicas []*server
	for range 3 {
		replicas = append(replicas, startServer(t, dir, "ATOMCP_DATABASE_URL="+db))
	}

	updated := make(chan string, 16)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	client := mcp.NewClient(&mcp.Implementation{Name: "atomcp-e2e-subscriber", Version: "1"}, &mcp.ClientOptions{
		ResourceUpdatedHandler: func(_ context.Context, req *mcp.ResourceUpdatedNotificationRequest) {
			updated <- req.Params.URI
		},
	})
	// 2025-11-25: a session, whose standing stream carries the notification.
	sub, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: replicas[0].URL, MaxRetries: -1},
		&mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
	if err != nil {
		t.Fatalf("connect to replica 1: %v", err)
	}
	defer sub.Close()

	writer := connectVersion(t, replicas[2].URL, "2025-11-25")
	org := entityOf(t, mustCall(t, writer, "entity_tool", map[string]any{"entity_type": "organization", "operation": "create", "data": map[string]any{"name": "Fan-out Org"}}))
	project := entityOf(t, mustCall(t, writer, "entity_tool", map[string]any{"entity_type": "project", "operation": "create",
		"data": map[string]any{"name": "Fan-out", "organization_id": org["id"]}}))
	uri := "atoms://projects/" + project["id"].(string) + "/traceability-matrix"
	if err := sub.Subscribe(ctx, &mcp.SubscribeParams{URI: uri}); err != nil {
		t.Fatalf("subscribe on replica 1: %v", err)
	}

	wait := func(where string) {
		t.Helper()
		deadline := time.After(20 * time.Second)
		for {
			select {
			case got := <-updated:
				if got == uri {
					return
				}
			case <-deadline:
				t.Fatalf("the subscriber on replica 1 heard nothing of a change made on %s within 20s", where)
			}
		}
	}
	mustCall(t, writer, "entity_tool", map[string]any{"entity_type": "test", "operation": "create",
		"data": map[string]any{"project_id": project["id"], "title": "Made on replica 3"}})
	wait("replica 3")
	// And a change made on replica 1 itself (its own listener, beside the
	// one of the server that only lists the tools for the metrics).
	local := connectVersion(t, replicas[0].URL, "2025-11-25")
	mustCall(t, local, "entity_tool", map[string]any{"entity_type": "test", "operation": "create",
		"data": map[string]any{"project_id": project["id"], "title": "Made on replica 1"}})
	wait("replica 1")
	for _, r := range replicas {
		r.stop(t)
	}
}
