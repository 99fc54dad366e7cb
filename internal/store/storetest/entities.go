package storetest

import (
	"math"
	"testing"

	"github.com/atomcp/atomcp/internal/domain"
)

var entityTests = []test{
	{"CreateGetEveryKind", testCreateGetEveryKind},
	{"GetNotFound", testGetNotFound},
	{"CreateInvalid", testCreateInvalid},
	{"CreateDuplicateID", testCreateDuplicateID},
	{"MissingReference", testMissingReference},
	{"Update", testUpdate},
	{"SoftDeleteAndRestore", testSoftDeleteAndRestore},
	{"HardDelete", testHardDelete},
	{"Nulls", testNulls},
	{"ValueRoundTrip", testValueRoundTrip},
}

func testCreateGetEveryKind(t *testing.T, f *fixture) {
	org := f.create(f.newEntity(domain.Organization, "", map[string]any{
		"name": "Acme", "slug": "acme", "type": "business", "description": "makes everything",
	}))
	project := f.create(f.newEntity(domain.Project, org.ID, map[string]any{
		"organization_id": org.ID, "name": "Rocket", "slug": "rocket", "description": "to the moon", "status": "active",
	}))
	doc := f.create(f.newEntity(domain.Document, org.ID, map[string]any{
		"project_id": project.ID, "name": "Spec", "description": "d", "content": "# Spec\n\nline two", "version": int64(3),
	}))
	block := f.create(f.newEntity(domain.Block, org.ID, map[string]any{
		"document_id": doc.ID, "type": "heading", "content": "Spec", "position": int64(7),
	}))
	req := f.create(f.newEntity(domain.Requirement, org.ID, map[string]any{
		"document_id": doc.ID, "project_id": project.ID, "block_id": block.ID,
		"name": "Thrust", "description": "enough thrust", "content": "shall lift", "external_id": "REQ-001",
		"status": "approved", "priority": "critical", "type": "system", "version": int64(2),
		"properties": map[string]any{"owner": "ops", "weight": 1.5, "tags": []any{"a", "b"}, "none": nil},
	}))
	tst := f.create(f.newEntity(domain.Test, org.ID, map[string]any{
		"project_id": project.ID, "title": "Static fire", "description": "fire it",
		"status": "passed", "priority": "high", "is_active": false,
	}))

	// Every kind in the domain is covered, so a new kind gets a reminder.
	created := []*domain.Entity{org, project, doc, block, req, tst}
	if len(created) != len(domain.Kinds()) {
		t.Errorf("test covers %d kinds; domain has %d", len(created), len(domain.Kinds()))
	}
	for _, want := range created {
		t.Run(string(want.Type), func(t *testing.T) {
			f := f.sub(t)
			sameEntity(t, f.get(want.Type, want.ID), want)
		})
	}
	if got := f.get(domain.Organization, org.ID); got.OrganizationID != org.ID {
		t.Errorf("organization's OrganizationID = %q; want its own id %q", got.OrganizationID, org.ID)
	}
}

func testGetNotFound(t *testing.T, f *fixture) {
	org := f.org("o")
	_, err := f.s.GetEntity(f.ctx, domain.Project, "no-such-id")
	wantErr(t, err, domain.ErrNotFound)
	// An id of another kind is not found either.
	_, err = f.s.GetEntity(f.ctx, domain.Project, org.ID)
	wantErr(t, err, domain.ErrNotFound)
	_, err = f.s.GetEntity(f.ctx, "spaceship", org.ID)
	wantErr(t, err, domain.ErrInvalid, "spaceship")
}

func testCreateInvalid(t *testing.T, f *fixture) {
	org := f.org("o")
	project := f.project(org, "p")
	tests := []struct {
		name  string
		e     *domain.Entity
		words []string
	}{
		{"unknown type", f.newEntity("spaceship", org.ID, map[string]any{"name": "x"}), []string{"spaceship"}},
		{"no id", func() *domain.Entity {
			e := f.newEntity(domain.Test, org.ID, map[string]any{"project_id": project.ID, "title": "t"})
			e.ID = ""
			return e
		}(), nil},
		{"unknown field", f.newEntity(domain.Test, org.ID, map[string]any{"project_id": project.ID, "title": "t", "colour": "red"}), []string{"colour"}},
		{"string for int", f.newEntity(domain.Document, org.ID, map[string]any{"project_id": project.ID, "name": "d", "version": "two"}), []string{"version"}},
		{"string for bool", f.newEntity(domain.Test, org.ID, map[string]any{"project_id": project.ID, "title": "t", "is_active": "yes"}), []string{"is_active"}},
		{"int for string", f.newEntity(domain.Test, org.ID, map[string]any{"project_id": project.ID, "title": 5}), []string{"title"}},
		{"required field missing", f.newEntity(domain.Test, org.ID, map[string]any{"project_id": project.ID}), nil},
		{"no organization", f.newEntity(domain.Test, "", map[string]any{"project_id": project.ID, "title": "t"}), nil},
		{"organization not its own", func() *domain.Entity {
			e := f.newEntity(domain.Organization, "", map[string]any{"name": "x", "slug": "x"})
			e.OrganizationID = org.ID
			return e
		}(), nil},
		{"project field and entity disagree", f.newEntity(domain.Project, org.ID, map[string]any{"organization_id": "other", "name": "p2", "slug": "p2"}), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := f.sub(t)
			err := f.s.CreateEntity(f.ctx, tc.e)
			wantErr(t, err, domain.ErrInvalid, tc.words...)
			if tc.e.ID != "" && tc.e.Type != "spaceship" {
				if _, err := f.s.GetEntity(f.ctx, tc.e.Type, tc.e.ID); err == nil {
					t.Error("the invalid entity was stored")
				}
			}
		})
	}
}

func testCreateDuplicateID(t *testing.T, f *fixture) {
	org := f.org("o")
	dup := f.newEntity(domain.Organization, "", map[string]any{"name": "Other", "slug": "other"})
	dup.ID, dup.OrganizationID = org.ID, org.ID
	wantErr(t, f.s.CreateEntity(f.ctx, dup), domain.ErrConflict)
}

func testMissingReference(t *testing.T, f *fixture) {
	org := f.org("o")
	project := f.project(org, "p")
	doc := f.document(project, "d")
	tests := []struct {
		name  string
		e     *domain.Entity
		words []string
	}{
		{"organization", f.newEntity(domain.Project, "no-such-org", map[string]any{"name": "p", "slug": "p2"}), []string{"no-such-org"}},
		{"parent", f.newEntity(domain.Document, org.ID, map[string]any{"project_id": "no-such-project", "name": "d"}), []string{"no-such-project"}},
		{"optional reference", func() *domain.Entity {
			e := f.requirementOf(doc, "r", "")
			e.Fields["block_id"] = "no-such-block"
			return e
		}(), []string{"no-such-block"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := f.sub(t)
			wantErr(t, f.s.CreateEntity(f.ctx, tc.e), domain.ErrInvalid, tc.words...)
		})
	}

	// An update is checked the same way.
	moved := doc.Clone()
	moved.Fields["project_id"] = "no-such-project"
	wantErr(t, f.s.UpdateEntity(f.ctx, moved), domain.ErrInvalid)
	sameEntity(t, f.get(domain.Document, doc.ID), doc)
}

func testUpdate(t *testing.T, f *fixture) {
	org := f.org("o")
	project := f.project(org, "p")
	doc := f.create(f.newEntity(domain.Document, org.ID, map[string]any{
		"project_id": project.ID, "name": "Draft", "description": "to be removed", "version": int64(1),
	}))

	changed := doc.Clone()
	changed.Fields["name"] = "Final"
	changed.Fields["content"] = "now with content"
	changed.Fields["version"] = int64(2)
	delete(changed.Fields, "description") // an absent field is cleared
	changed.UpdatedAt = f.now()
	changed.UpdatedBy = "editor"
	if err := f.s.UpdateEntity(f.ctx, changed); err != nil {
		t.Fatal(err)
	}
	sameEntity(t, f.get(domain.Document, doc.ID), changed)

	missing := changed.Clone()
	missing.ID = "no-such-document"
	wantErr(t, f.s.UpdateEntity(f.ctx, missing), domain.ErrNotFound)

	invalid := changed.Clone()
	invalid.Fields["version"] = "three"
	wantErr(t, f.s.UpdateEntity(f.ctx, invalid), domain.ErrInvalid, "version")
}

func testSoftDeleteAndRestore(t *testing.T, f *fixture) {
	org := f.org("o")
	project := f.project(org, "p")

	deleted := project.Clone()
	at := f.now()
	deleted.IsDeleted, deleted.DeletedAt, deleted.UpdatedAt = true, &at, at
	if err := f.s.UpdateEntity(f.ctx, deleted); err != nil {
		t.Fatal(err)
	}
	// Get returns deleted entities, marked as such.
	sameEntity(t, f.get(domain.Project, project.ID), deleted)

	restored := deleted.Clone()
	restored.IsDeleted, restored.DeletedAt, restored.UpdatedAt = false, nil, f.now()
	if err := f.s.UpdateEntity(f.ctx, restored); err != nil {
		t.Fatal(err)
	}
	sameEntity(t, f.get(domain.Project, project.ID), restored)
}

func testHardDelete(t *testing.T, f *fixture) {
	org := f.org("o")
	project := f.project(org, "p")
	doc := f.document(project, "d")
	block := f.block(doc, 0)

	// A document that a block still belongs to stays.
	wantErr(t, f.s.DeleteEntity(f.ctx, domain.Document, doc.ID), domain.ErrConflict)
	f.get(domain.Document, doc.ID)

	for _, e := range []*domain.Entity{block, doc} {
		if err := f.s.DeleteEntity(f.ctx, e.Type, e.ID); err != nil {
			t.Fatalf("DeleteEntity(%s): %v", e.Type, err)
		}
		_, err := f.s.GetEntity(f.ctx, e.Type, e.ID)
		wantErr(t, err, domain.ErrNotFound)
		wantErr(t, f.s.DeleteEntity(f.ctx, e.Type, e.ID), domain.ErrNotFound)
	}
	wantErr(t, f.s.DeleteEntity(f.ctx, "spaceship", "x"), domain.ErrInvalid)
}

// testNulls checks the documented NULL convention: a field absent from
// Fields, set to nil, or an empty reference reads back absent; an empty
// string stays.
func testNulls(t *testing.T, f *fixture) {
	org := f.org("o")
	doc := f.document(f.project(org, "p"), "d")
	req := f.requirementOf(doc, "bare", "")
	req.Fields = map[string]any{
		"document_id": doc.ID, "project_id": doc.Str("project_id"), "name": "bare",
		"description": nil, "properties": nil, "block_id": "", "content": "",
	}
	f.create(req)

	got := f.get(domain.Requirement, req.ID)
	want := map[string]any{"document_id": doc.ID, "project_id": doc.Str("project_id"), "name": "bare", "content": ""}
	wantEntity := req.Clone()
	wantEntity.Fields = want
	sameEntity(t, got, wantEntity)
}

func testValueRoundTrip(t *testing.T, f *fixture) {
	org := f.org("o")
	project := f.project(org, "p")
	doc := f.document(project, "d")
	tests := []struct {
		name  string
		kind  domain.EntityType
		field string
		value any
	}{
		{"int zero", domain.Document, "version", int64(0)},
		{"int negative", domain.Document, "version", int64(-42)},
		{"int max", domain.Document, "version", int64(math.MaxInt64)},
		{"int min", domain.Document, "version", int64(math.MinInt64)},
		{"bool true", domain.Test, "is_active", true},
		{"bool false", domain.Test, "is_active", false},
		{"text unicode and quotes", domain.Document, "content", "Grüße, 'quoted' \"double\"\n\ttab; DROP TABLE x; --"},
		{"json object", domain.Requirement, "properties", map[string]any{"a": float64(1), "b": []any{true, nil, "x"}, "c": map[string]any{}}},
		{"json array", domain.Requirement, "properties", []any{float64(1), "two", false}},
		{"json string", domain.Requirement, "properties", "just a string"},
		{"json number", domain.Requirement, "properties", 2.5},
		{"json bool", domain.Requirement, "properties", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := f.sub(t)
			var e *domain.Entity
			switch tc.kind {
			case domain.Document:
				e = f.newEntity(domain.Document, org.ID, map[string]any{"project_id": project.ID, "name": tc.name})
			case domain.Test:
				e = f.newEntity(domain.Test, org.ID, map[string]any{"project_id": project.ID, "title": tc.name})
			case domain.Requirement:
				e = f.requirementOf(doc, tc.name, "")
			}
			e.Fields[tc.field] = tc.value
			f.create(e)
			sameEntity(t, f.get(e.Type, e.ID), e)
		})
	}
}
