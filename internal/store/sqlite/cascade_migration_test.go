package sqlite_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

// Migration 0014 hides the live rows an older atomcp left under a deleted
// parent, with that parent's delete, so that restoring it brings them back.
func TestCascadeMigrationBackfill(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "atomcp.db")
	s := openMigrated(t, path)
	org := newEntity(domain.Organization, "", map[string]any{"name": "Old", "slug": "old"})
	project := newEntity(domain.Project, org.ID, map[string]any{"organization_id": org.ID, "name": "P", "slug": "p"})
	doc := newEntity(domain.Document, org.ID, map[string]any{"project_id": project.ID, "name": "D"})
	req := newEntity(domain.Requirement, org.ID, map[string]any{"document_id": doc.ID, "project_id": project.ID, "name": "Leftover"})
	for _, e := range []*domain.Entity{org, project, doc, req} {
		if err := s.CreateEntity(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	// Back to the schema before 0014, with the project deleted the old
	// way: its document and requirement left live.
	raw := rawDB(t, path)
	stmts := []string{`UPDATE projects SET is_deleted = 1, deleted_at = '2026-01-01T00:00:00.000000000Z' WHERE id = '` + project.ID + `'`}
	for _, table := range []string{"organizations", "projects", "documents", "blocks", "requirements", "tests"} {
		stmts = append(stmts, `DROP INDEX `+table+`_deleted_with`, `ALTER TABLE `+table+` DROP COLUMN deleted_with`)
	}
	stmts = append(stmts, `DELETE FROM schema_migrations WHERE version = 14`)
	for _, q := range stmts {
		if _, err := raw.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	raw.Close()
	if applied, err := s.Migrate(ctx); err != nil || len(applied) != 1 || applied[0] != 14 {
		t.Fatalf("Migrate = %v, %v; want [14]", applied, err)
	}
	for _, e := range []*domain.Entity{doc, req} {
		got, err := s.GetEntity(ctx, e.Type, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !got.IsDeleted || got.DeletedWith != project.ID || got.DeletedAt == nil {
			t.Errorf("%s after 0014: deleted %v with %q at %v; want hidden with the project", e.Type, got.IsDeleted, got.DeletedWith, got.DeletedAt)
		}
	}
	if hits, _, err := s.SearchText(ctx, store.SearchQuery{OrganizationIDs: []string{org.ID}, Text: "leftover", Limit: 5}); err != nil || len(hits) != 0 {
		t.Errorf("search finds the hidden requirement: %d hits, %v", len(hits), err)
	}
	restored, err := s.RestoreEntity(ctx, domain.Project, project.ID, time.Now(), "u")
	if err != nil || restored[domain.Document] != 1 || restored[domain.Requirement] != 1 {
		t.Fatalf("restore of the project = %v, %v; want its document and requirement back", restored, err)
	}
	if hits, _, err := s.SearchText(ctx, store.SearchQuery{OrganizationIDs: []string{org.ID}, Text: "leftover", Limit: 5}); err != nil || len(hits) != 1 {
		t.Errorf("search after the restore: %d hits, %v; want 1", len(hits), err)
	}
}
