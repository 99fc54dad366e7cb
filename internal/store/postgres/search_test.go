package postgres_test

import (
	"slices"
	"testing"
	"time"

	"github.com/atomcp/atomcp/internal/domain"
)

// The rank windows of full-text search are newest first by
// search_index.seq: every index write takes the next one, and the
// migration that adds it numbers the rows already indexed by their
// entity's updated_at.
func TestSearchRecency(t *testing.T) {
	s := openMigrated(t)
	ctx := t.Context()
	at := time.Date(2025, 5, 6, 7, 8, 9, 0, time.UTC)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.CreateEntity(ctx, org("o", "o", at)))
	must(s.CreateEntity(ctx, &domain.Entity{Type: domain.Project, ID: "p", OrganizationID: "o", Fields: map[string]any{"name": "p"}, CreatedAt: at, UpdatedAt: at}))
	must(s.CreateEntity(ctx, &domain.Entity{Type: domain.Document, ID: "d", OrganizationID: "o", Fields: map[string]any{"project_id": "p", "name": "d"}, CreatedAt: at, UpdatedAt: at}))
	req := func(id string, hours int) *domain.Entity {
		ts := at.Add(time.Duration(hours) * time.Hour)
		e := &domain.Entity{Type: domain.Requirement, ID: id, OrganizationID: "o",
			Fields: map[string]any{"document_id": "d", "project_id": "p", "name": id}, CreatedAt: ts, UpdatedAt: ts}
		must(s.CreateEntity(ctx, e))
		return e
	}
	// Written in the order r3, r1, r2; updated_at says r1, r2, r3.
	r3 := req("r3", 3)
	req("r1", 1)
	req("r2", 2)
	order := func() []string {
		t.Helper()
		ids, err := s.SearchRecency(ctx)
		must(err)
		return slices.DeleteFunc(ids, func(id string) bool { return id == "o" || id == "p" || id == "d" })
	}
	if got := order(); !slices.Equal(got, []string{"r3", "r1", "r2"}) {
		t.Fatalf("index order %v; want the write order r3, r1, r2", got)
	}
	r3.Fields["status"] = "draft"
	must(s.UpdateEntity(ctx, r3))
	if got := order(); !slices.Equal(got, []string{"r1", "r2", "r3"}) {
		t.Fatalf("after updating r3, index order %v; want r1, r2, r3", got)
	}

	// The migration numbers the rows by updated_at; later writes come after.
	r3.UpdatedAt = at // now the oldest
	must(s.UpdateEntity(ctx, r3))
	must(s.ReplaySearchRecency(ctx))
	if got := order(); !slices.Equal(got, []string{"r3", "r1", "r2"}) {
		t.Fatalf("after the migration, index order %v; want by updated_at r3, r1, r2", got)
	}
	req("r0", 0)
	if got := order(); !slices.Equal(got, []string{"r3", "r1", "r2", "r0"}) {
		t.Fatalf("a write after the migration: index order %v; want r0 last", got)
	}
}
