package fanout

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/atomcp/atomcp/internal/atoms"
	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/pgtest"
	"github.com/atomcp/atomcp/internal/store/postgres"
)

// Many changes go out as several payloads under PostgreSQL's limit, each
// organization and project once, none lost.
func TestEncodeSplitsAndDedupes(t *testing.T) {
	var changes []atoms.Change
	for i := range 500 {
		p := fmt.Sprintf("%08d-0000-0000-0000-000000000000", i)
		changes = append(changes, atoms.Change{OrganizationID: "org", ProjectID: p, Type: "test", ID: "x"},
			atoms.Change{OrganizationID: "org", ProjectID: p, Type: "requirement", ID: "y"})
	}
	payloads, err := encode("me", changes)
	if err != nil {
		t.Fatal(err)
	}
	if len(payloads) < 2 {
		t.Fatalf("%d payloads for 500 projects; want them split", len(payloads))
	}
	seen := map[string]int{}
	for _, p := range payloads {
		if len(p) > maxPayload {
			t.Fatalf("payload of %d bytes; the limit is %d", len(p), maxPayload)
		}
		var m message
		if err := json.Unmarshal([]byte(p), &m); err != nil || m.Origin != "me" {
			t.Fatalf("payload %q: %v", p, err)
		}
		for _, r := range m.Changes {
			seen[r.ProjectID]++
		}
	}
	if len(seen) != 500 {
		t.Fatalf("%d projects announced; want 500", len(seen))
	}
	for p, n := range seen {
		if n != 1 {
			t.Fatalf("project %s announced %d times", p, n)
		}
	}
}

// Two services on one database, each with its fanout, as two replicas:
// a change committed through one reaches the other's listeners, also
// after the listening connection was cut (it reconnects by itself).
func TestChangesReachOtherReplica(t *testing.T) {
	url := pgtest.NewDB(t).String()
	ctx := t.Context()
	var svcs [2]*atoms.Service
	for i := range svcs {
		st, err := postgres.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		if _, err := st.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		svcs[i] = atoms.New(st)
		f, err := Start(ctx, st.Pool(), svcs[i], nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(f.Stop)
	}
	heard := make(chan atoms.Change, 100)
	svcs[1].OnChange(func(_ context.Context, cs []atoms.Change) {
		for _, c := range cs {
			heard <- c
		}
	})
	a, err := svcs[0].Actor(ctx, atoms.Caller{Issuer: "t", Subject: "writer", Email: "w@example.com", EmailVerified: true})
	if err != nil {
		t.Fatal(err)
	}
	drain(heard) // the personal organization, if it arrived already
	org, err := svcs[0].CreateEntity(ctx, a, domain.Organization, map[string]any{"name": "Fanned"})
	if err != nil {
		t.Fatal(err)
	}
	project, err := svcs[0].CreateEntity(ctx, a, domain.Project, map[string]any{"name": "P", "organization_id": org.ID})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, heard, project.ID, nil)

	// Cut the listening connections; changes made while a replica is not
	// listening are lost, so keep writing until one is heard again.
	st0 := svcs[0].Store().(*postgres.Store)
	var cut int
	if err := st0.Pool().QueryRow(ctx, `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE 'LISTEN %'`).Scan(&cut); err != nil {
		t.Fatal(err)
	}
	if cut != 2 {
		t.Fatalf("cut %d listening connections; want the two replicas'", cut)
	}
	i := 0
	waitFor(t, heard, project.ID, func() {
		i++
		if _, err := svcs[0].CreateEntity(ctx, a, domain.Test, map[string]any{"title": fmt.Sprintf("T%d", i), "project_id": project.ID}); err != nil {
			t.Fatal(err)
		}
	})
}

func drain(ch chan atoms.Change) {
	for {
		select {
		case <-ch:
		default:
			return
		}
	}
}

// waitFor waits (generously) until a change of the project is heard,
// calling poke every 200ms meanwhile when it is set.
func waitFor(t *testing.T, heard chan atoms.Change, projectID string, poke func()) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	if poke != nil {
		poke()
	}
	var got []string
	for {
		select {
		case c := <-heard:
			if c.ProjectID == projectID {
				return
			}
			got = append(got, c.OrganizationID+"/"+c.ProjectID)
		case <-tick.C:
			if poke != nil {
				poke()
			}
		case <-deadline:
			t.Fatalf("no change of project %s reached the other replica within 30s (heard %s)", projectID, strings.Join(got, ", "))
		}
	}
}
