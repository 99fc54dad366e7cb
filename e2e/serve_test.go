package e2e

import (
	"bytes"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// TestServeLifecycle is the foundation's acceptance test: tools listed,
// an organization → project → document → requirement chain created, read
// back by id and by a misspelled name, soft-deleted and restored, and all
// of it still there after a restart.
func TestServeLifecycle(t *testing.T) {
	for _, mode := range []struct {
		name        string
		env         []string
		version     string
		wantSession bool
	}{
		{"2025-11-25 with sessions", nil, "2025-11-25", true},
		{"2026-07-28 at the same URL", nil, "2026-07-28", false},
		{"ATOMCP_STATELESS with a 2025-11-25 client", []string{"ATOMCP_STATELESS=true"}, "2025-11-25", false},
	} {
		t.Run(mode.name, func(t *testing.T) {
			dir := t.TempDir()
			srv := startServer(t, dir, mode.env...)
			cs := connectVersion(t, srv.URL, mode.version)
			if hasSession := cs.ID() != ""; hasSession != mode.wantSession {
				t.Fatalf("session id %q; want a session: %v", cs.ID(), mode.wantSession)
			}

			tools, err := cs.ListTools(t.Context(), nil)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, tool := range tools.Tools {
				names = append(names, tool.Name)
			}
			for _, want := range []string{"workspace_tool", "entity_tool"} {
				if !slices.Contains(names, want) {
					t.Fatalf("tools/list = %v, missing %s", names, want)
				}
			}

			org := entityOf(t, mustCall(t, cs, "entity_tool", map[string]any{"entity_type": "organization", "operation": "create", "data": map[string]any{"name": "Acme Space"}}))
			proj := entityOf(t, mustCall(t, cs, "entity_tool", map[string]any{"entity_type": "project", "operation": "create", "data": map[string]any{"organization_id": org["id"], "name": "Lunar Lander"}}))
			doc := entityOf(t, mustCall(t, cs, "entity_tool", map[string]any{"entity_type": "document", "operation": "create", "data": map[string]any{"project_id": proj["id"], "name": "Landing Requirements"}}))
			req := entityOf(t, mustCall(t, cs, "entity_tool", map[string]any{"entity_type": "requirement", "operation": "create", "data": map[string]any{
				"document_id": doc["id"], "name": "Touchdown velocity below 2 m/s", "external_id": "REQ-001", "priority": "high",
			}}))
			if req["status"] != "active" || req["priority"] != "high" || req["project_id"] != proj["id"] {
				t.Fatalf("requirement defaults/derivation wrong: %v", req)
			}

			byID := entityOf(t, mustCall(t, cs, "entity_tool", map[string]any{"entity_type": "requirement", "operation": "read", "entity_id": req["id"]}))
			if byID["name"] != "Touchdown velocity below 2 m/s" {
				t.Fatalf("read by id = %v", byID)
			}
			byName := entityOf(t, mustCall(t, cs, "entity_tool", map[string]any{"entity_type": "requirement", "operation": "read", "entity_id": "Touchdown velocty below 2 m/s"}))
			if byName["id"] != req["id"] {
				t.Fatalf("read by misspelled name found %v, want %v", byName["id"], req["id"])
			}

			mustCall(t, cs, "entity_tool", map[string]any{"entity_type": "requirement", "operation": "delete", "entity_id": req["id"]})
			if r := call(t, cs, "entity_tool", map[string]any{"entity_type": "requirement", "operation": "read", "entity_id": req["id"]}); !r.IsError {
				t.Fatalf("read of a deleted requirement succeeded: %v", r.Data)
			}
			restored := entityOf(t, mustCall(t, cs, "entity_tool", map[string]any{"entity_type": "requirement", "operation": "restore", "entity_id": req["id"]}))
			if restored["is_deleted"] != false {
				t.Fatalf("restore left is_deleted = %v", restored["is_deleted"])
			}

			cs.Close()
			srv.stop(t)

			srv = startServer(t, dir, mode.env...)
			cs = connectVersion(t, srv.URL, mode.version)
			again := entityOf(t, mustCall(t, cs, "entity_tool", map[string]any{"entity_type": "requirement", "operation": "read", "entity_id": "REQ-001"}))
			if again["id"] != req["id"] || again["document_id"] != doc["id"] {
				t.Fatalf("after restart, REQ-001 = %v", again)
			}
			list := mustCall(t, cs, "entity_tool", map[string]any{"entity_type": "project", "operation": "list", "filters": map[string]any{"organization_id": "Acme Space"}})
			if list["total"] != float64(1) {
				t.Fatalf("after restart, projects of Acme Space = %v", list)
			}
		})
	}
}

// TestHTTPBadInput: malformed bodies get JSON-RPC errors or 413, never a 500.
func TestHTTPBadInput(t *testing.T) {
	srv := startServer(t, t.TempDir(), "ATOMCP_MAX_BODY_BYTES=65536")
	post := func(body []byte) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	for _, tc := range []struct {
		name string
		body []byte
		want int
	}{
		{"malformed JSON", []byte(`{"jsonrpc": "2.0", "id": 1, "method": `), http.StatusBadRequest},
		{"garbage batch", []byte(`[1, "two", {"three": 3}]`), http.StatusBadRequest},
		{"not JSON at all", []byte("hello"), http.StatusBadRequest},
		{"over the body limit", []byte(`{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"` + strings.Repeat("x", 70000) + `"}}`), http.StatusRequestEntityTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := post(tc.body)
			body := readAll(resp.Body)
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d; body %s", resp.StatusCode, tc.want, body)
			}
			if strings.Contains(body, "goroutine ") || strings.Contains(body, ".go:") {
				t.Fatalf("response leaks a stack trace: %s", body)
			}
		})
	}
	// Health endpoints.
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200, "/nope": 404} {
		resp, err := http.Get(srv.Base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s = %d, want %d", path, resp.StatusCode, want)
		}
	}
}
