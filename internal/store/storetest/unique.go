package storetest

import (
	"testing"

	"github.com/atomcp/atomcp/internal/domain"
)

var uniqueTests = []test{
	{"OrganizationSlug", testUniqueOrganizationSlug},
	{"ProjectSlugWithinOrganization", testUniqueProjectSlug},
	{"RequirementExternalIDWithinProject", testUniqueExternalID},
}

func testUniqueOrganizationSlug(t *testing.T, f *fixture) {
	f.org("acme")
	dup := f.newEntity(domain.Organization, "", map[string]any{"name": "Acme again", "slug": "acme"})
	wantErr(t, f.s.CreateEntity(f.ctx, dup), domain.ErrConflict, "slug")
	f.org("acme-2")
}

func testUniqueProjectSlug(t *testing.T, f *fixture) {
	a, b := f.org("a"), f.org("b")
	f.project(a, "rocket")
	dup := f.newEntity(domain.Project, a.ID, map[string]any{"organization_id": a.ID, "name": "Rocket 2", "slug": "rocket"})
	wantErr(t, f.s.CreateEntity(f.ctx, dup), domain.ErrConflict, "slug")
	// The same slug in another organization is fine.
	f.project(b, "rocket")
}

func testUniqueExternalID(t *testing.T, f *fixture) {
	org := f.org("o")
	p1, p2 := f.project(org, "p1"), f.project(org, "p2")
	d1, d2, other := f.document(p1, "d1"), f.document(p1, "d2"), f.document(p2, "d3")
	first := f.requirement(d1, "first", "REQ-001")

	// Unique within the project, across its documents.
	wantErr(t, f.s.CreateEntity(f.ctx, f.requirementOf(d2, "dup", "REQ-001")), domain.ErrConflict, "external_id")
	// Another project may use it.
	f.requirement(other, "elsewhere", "REQ-001")
	// Requirements without an external id never collide.
	f.requirement(d1, "none 1", "")
	f.requirement(d1, "none 2", "")
	empty := f.requirementOf(d1, "empty 1", "")
	empty.Fields["external_id"] = ""
	f.create(empty)
	empty2 := f.requirementOf(d1, "empty 2", "")
	empty2.Fields["external_id"] = ""
	f.create(empty2)

	// A deleted requirement gives its external id up...
	deleted := first.Clone()
	at := f.now()
	deleted.IsDeleted, deleted.DeletedAt = true, &at
	if err := f.s.UpdateEntity(f.ctx, deleted); err != nil {
		t.Fatal(err)
	}
	f.requirement(d2, "successor", "REQ-001")
	// ...and cannot be restored while another one holds it.
	restored := deleted.Clone()
	restored.IsDeleted, restored.DeletedAt = false, nil
	wantErr(t, f.s.UpdateEntity(f.ctx, restored), domain.ErrConflict, "external_id")
}
