package storetest

import (
	"errors"
	"maps"
	"testing"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

var softDeleteTests = []test{
	{"CascadeAndRestore", testCascadeAndRestore},
	{"RestoreIsAllOrNothing", testRestoreAllOrNothing},
	{"Refusals", testSoftDeleteRefusals},
}

// tree is an organization with one project, two documents and links
// between their entities.
type tree struct {
	org, project, d1, d2, block, r1, r2, r3, r4, t1 *domain.Entity
	trace, coverage, assignment                     *domain.Link
}

func (f *fixture) tree() *tree {
	f.t.Helper()
	var tr tree
	tr.org = f.org("cascade")
	tr.project = f.project(tr.org, "p")
	tr.d1, tr.d2 = f.document(tr.project, "first"), f.document(tr.project, "second")
	tr.block = f.block(tr.d1, 0)
	tr.r1 = f.requirement(tr.d1, "alpha thrust", "REQ-1")
	tr.r2 = f.requirement(tr.d1, "beta", "REQ-2")
	tr.r3 = f.requirement(tr.d1, "gamma", "REQ-3")
	tr.r4 = f.requirement(tr.d2, "delta", "REQ-4")
	tr.t1 = f.test(tr.project, "static fire", nil)
	tr.trace = f.link(domain.TraceLink, tr.r1, tr.r4, "derives_from")
	tr.coverage = f.link(domain.RequirementTest, tr.r1, tr.t1, "full")
	tr.assignment = f.link(domain.Assignment, tr.r1, tr.r1, "owner")
	tr.assignment.TargetType, tr.assignment.TargetID = domain.UserTarget, f.user("owner").ID
	for _, l := range []*domain.Link{tr.trace, tr.coverage, tr.assignment} {
		if err := f.s.CreateLink(f.ctx, l); err != nil {
			f.t.Fatal(err)
		}
	}
	return &tr
}

func (f *fixture) softDelete(e *domain.Entity, want map[domain.EntityType]int) {
	f.t.Helper()
	got, err := f.s.SoftDeleteEntity(f.ctx, e.Type, e.ID, f.now(), "u1")
	if err != nil {
		f.t.Fatalf("SoftDeleteEntity(%s %q): %v", e.Type, e.Name(), err)
	}
	if !maps.Equal(got, want) {
		f.t.Errorf("SoftDeleteEntity(%s %q) hid %v; want %v", e.Type, e.Name(), got, want)
	}
}

func (f *fixture) restore(e *domain.Entity, want map[domain.EntityType]int) {
	f.t.Helper()
	got, err := f.s.RestoreEntity(f.ctx, e.Type, e.ID, f.now(), "u2")
	if err != nil {
		f.t.Fatalf("RestoreEntity(%s %q): %v", e.Type, e.Name(), err)
	}
	if !maps.Equal(got, want) {
		f.t.Errorf("RestoreEntity(%s %q) brought back %v; want %v", e.Type, e.Name(), got, want)
	}
}

// live lists the live entities of a type in the tree's organization.
func (f *fixture) live(tr *tree, typ domain.EntityType) []*domain.Entity {
	f.t.Helper()
	return f.list(store.EntityQuery{Type: typ, OrganizationIDs: []string{tr.org.ID}, OrderBy: "id"}).Items
}

// sortedByID returns es ordered by id, as live lists them.
func sortedByID(es ...*domain.Entity) []*domain.Entity {
	out := append([]*domain.Entity(nil), es...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j].ID < out[i].ID {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// visibleLinks reports which of the tree's links ListLinks and GetLink show.
func (f *fixture) visibleLinks(tr *tree) map[string]bool {
	f.t.Helper()
	out := map[string]bool{}
	for name, l := range map[string]*domain.Link{"trace": tr.trace, "coverage": tr.coverage, "assignment": tr.assignment} {
		listed, err := f.s.ListLinks(f.ctx, store.LinkQuery{Kind: l.Kind, OrganizationIDs: []string{tr.org.ID}})
		if err != nil {
			f.t.Fatal(err)
		}
		_, getErr := f.s.GetLink(f.ctx, l.Kind, l.ID)
		if getErr != nil && !errors.Is(getErr, domain.ErrNotFound) {
			f.t.Fatal(getErr)
		}
		if (len(listed) == 1) != (getErr == nil) {
			f.t.Errorf("%s link: ListLinks shows %d, GetLink error %v: they disagree", name, len(listed), getErr)
		}
		out[name] = len(listed) == 1
		all, err := f.s.ListLinks(f.ctx, store.LinkQuery{Kind: l.Kind, OrganizationIDs: []string{tr.org.ID}, IncludeHidden: true})
		if err != nil || len(all) != 1 {
			f.t.Errorf("%s link with IncludeHidden = %d links, %v; want it", name, len(all), err)
		}
	}
	return out
}

func (f *fixture) searchHits(tr *tree, text string) int {
	f.t.Helper()
	hits, _, err := f.s.SearchText(f.ctx, store.SearchQuery{OrganizationIDs: []string{tr.org.ID}, Text: text, Limit: 10})
	if err != nil {
		f.t.Fatal(err)
	}
	return len(hits)
}

func testCascadeAndRestore(t *testing.T, f *fixture) {
	tr := f.tree()
	allLinks := map[string]bool{"trace": true, "coverage": true, "assignment": true}
	noLinks := map[string]bool{"trace": false, "coverage": false, "assignment": false}

	// gamma is deleted on its own first: no restore of a parent brings it back.
	f.softDelete(tr.r3, map[domain.EntityType]int{domain.Requirement: 1})

	// Deleting the first document hides its block and live requirements.
	f.softDelete(tr.d1, map[domain.EntityType]int{domain.Document: 1, domain.Block: 1, domain.Requirement: 2})
	sameIDs(t, "live documents", f.live(tr, domain.Document), tr.d2)
	sameIDs(t, "live requirements", f.live(tr, domain.Requirement), tr.r4)
	sameIDs(t, "live blocks", f.live(tr, domain.Block))
	deleted := f.list(store.EntityQuery{Type: domain.Requirement, OrganizationIDs: []string{tr.org.ID}, Deleted: store.OnlyDeleted, OrderBy: "id"}).Items
	sameIDs(t, "deleted requirements", deleted, sortedByID(tr.r1, tr.r2, tr.r3)...)
	if r1 := f.get(domain.Requirement, tr.r1.ID); !r1.IsDeleted || r1.DeletedWith != tr.d1.ID || r1.DeletedAt == nil {
		t.Errorf("alpha after its document's delete: deleted %v with %q at %v; want deleted with %q", r1.IsDeleted, r1.DeletedWith, r1.DeletedAt, tr.d1.ID)
	}
	if r3 := f.get(domain.Requirement, tr.r3.ID); r3.DeletedWith != tr.r3.ID {
		t.Errorf("gamma deleted_with = %q; want its own id", r3.DeletedWith)
	}
	if d1 := f.get(domain.Document, tr.d1.ID); d1.DeletedWith != tr.d1.ID || d1.UpdatedBy != "u1" {
		t.Errorf("document: deleted_with %q by %q; want its own id, by u1", d1.DeletedWith, d1.UpdatedBy)
	}
	if got := f.visibleLinks(tr); !maps.Equal(got, noLinks) {
		t.Errorf("links with alpha hidden = %v; want none shown", got)
	}
	if n := f.searchHits(tr, "alpha"); n != 0 {
		t.Errorf("search for a hidden requirement: %d hits; want none", n)
	}
	// The other document's links to live entities stay: delta is listed.
	around, _ := f.s.ListLinks(f.ctx, store.LinkQuery{Kind: domain.TraceLink, OrganizationIDs: []string{tr.org.ID}, EntityID: tr.r4.ID})
	if len(around) != 0 {
		t.Errorf("trace links around delta = %d; want 0 (its other end is hidden)", len(around))
	}

	// Deleting the project hides the rest, but not the first document again.
	f.softDelete(tr.project, map[domain.EntityType]int{domain.Project: 1, domain.Document: 1, domain.Requirement: 1, domain.Test: 1})
	if d1 := f.get(domain.Document, tr.d1.ID); d1.DeletedWith != tr.d1.ID {
		t.Errorf("first document deleted_with = %q after the project's delete; want its own delete", d1.DeletedWith)
	}
	_, err := f.s.RestoreEntity(f.ctx, domain.Document, tr.d1.ID, f.now(), "u2")
	wantErr(t, err, domain.ErrInvalid, "project", "restore the project first")

	// Restoring the project brings back what its delete hid, no more.
	f.restore(tr.project, map[domain.EntityType]int{domain.Project: 1, domain.Document: 1, domain.Requirement: 1, domain.Test: 1})
	sameIDs(t, "live documents after the project's restore", f.live(tr, domain.Document), tr.d2)
	sameIDs(t, "live requirements after the project's restore", f.live(tr, domain.Requirement), tr.r4)
	sameIDs(t, "live tests after the project's restore", f.live(tr, domain.Test), tr.t1)
	if got := f.visibleLinks(tr); !maps.Equal(got, noLinks) {
		t.Errorf("links after the project's restore = %v; want none shown (alpha is still hidden)", got)
	}
	if p := f.get(domain.Project, tr.project.ID); p.IsDeleted || p.DeletedAt != nil || p.DeletedWith != "" || p.UpdatedBy != "u2" {
		t.Errorf("restored project: deleted %v at %v with %q, by %q", p.IsDeleted, p.DeletedAt, p.DeletedWith, p.UpdatedBy)
	}

	// A requirement hidden with its document is restored with it.
	_, err = f.s.RestoreEntity(f.ctx, domain.Requirement, tr.r1.ID, f.now(), "u2")
	wantErr(t, err, domain.ErrInvalid, "first", "restore that document")
	f.restore(tr.d1, map[domain.EntityType]int{domain.Document: 1, domain.Block: 1, domain.Requirement: 2})
	sameIDs(t, "live requirements after the document's restore", f.live(tr, domain.Requirement), sortedByID(tr.r1, tr.r2, tr.r4)...)
	sameIDs(t, "live blocks after the document's restore", f.live(tr, domain.Block), tr.block)
	if got := f.visibleLinks(tr); !maps.Equal(got, allLinks) {
		t.Errorf("links after the document's restore = %v; want all shown", got)
	}
	if n := f.searchHits(tr, "alpha"); n != 1 {
		t.Errorf("search for a restored requirement: %d hits; want 1", n)
	}
	if r3 := f.get(domain.Requirement, tr.r3.ID); !r3.IsDeleted {
		t.Error("gamma, deleted on its own before, came back with its document")
	}

	// An organization's delete hides everything in it; its restore brings it back.
	f.softDelete(tr.org, map[domain.EntityType]int{domain.Organization: 1, domain.Project: 1, domain.Document: 2, domain.Block: 1, domain.Requirement: 3, domain.Test: 1})
	for _, typ := range []domain.EntityType{domain.Project, domain.Document, domain.Block, domain.Requirement, domain.Test} {
		if n := len(f.live(tr, typ)); n != 0 {
			t.Errorf("%d live %s in a deleted organization", n, typ)
		}
	}
	if n := f.searchHits(tr, "static"); n != 0 {
		t.Errorf("search in a deleted organization: %d hits", n)
	}
	f.restore(tr.org, map[domain.EntityType]int{domain.Organization: 1, domain.Project: 1, domain.Document: 2, domain.Block: 1, domain.Requirement: 3, domain.Test: 1})
	if got := f.visibleLinks(tr); !maps.Equal(got, allLinks) {
		t.Errorf("links after the organization's restore = %v; want all shown", got)
	}
	if n := f.searchHits(tr, "static"); n != 1 {
		t.Errorf("search after the organization's restore: %d hits; want 1", n)
	}
}

func testRestoreAllOrNothing(t *testing.T, f *fixture) {
	tr := f.tree()
	f.softDelete(tr.d1, map[domain.EntityType]int{domain.Document: 1, domain.Block: 1, domain.Requirement: 3})
	// While the document is deleted, its external id is taken in the other one.
	taker := f.requirement(tr.d2, "usurper", "REQ-1")
	_, err := f.s.RestoreEntity(f.ctx, domain.Document, tr.d1.ID, f.now(), "u2")
	wantErr(t, err, domain.ErrConflict)
	if d1 := f.get(domain.Document, tr.d1.ID); !d1.IsDeleted {
		t.Fatal("the document came back although restoring its requirements failed")
	}
	if b := f.get(domain.Block, tr.block.ID); !b.IsDeleted {
		t.Fatal("the block came back although the restore failed")
	}
	if err := f.s.DeleteEntity(f.ctx, domain.Requirement, taker.ID); err != nil {
		t.Fatal(err)
	}
	f.restore(tr.d1, map[domain.EntityType]int{domain.Document: 1, domain.Block: 1, domain.Requirement: 3})

	// A soft delete inside a transaction that fails is rolled back.
	boom := errors.New("boom")
	err = f.s.InTx(f.ctx, func(tx store.Ops) error {
		if _, err := tx.SoftDeleteEntity(f.ctx, domain.Project, tr.project.ID, f.now(), "u1"); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx = %v; want boom", err)
	}
	if n := len(f.live(tr, domain.Requirement)); n != 4 {
		t.Errorf("%d live requirements after a rolled-back project delete; want 4", n)
	}
}

func testSoftDeleteRefusals(t *testing.T, f *fixture) {
	tr := f.tree()
	_, err := f.s.SoftDeleteEntity(f.ctx, domain.Block, tr.block.ID, f.now(), "u1")
	wantErr(t, err, domain.ErrInvalid, "block")
	_, err = f.s.RestoreEntity(f.ctx, domain.Block, tr.block.ID, f.now(), "u1")
	wantErr(t, err, domain.ErrInvalid, "block")
	_, err = f.s.SoftDeleteEntity(f.ctx, domain.Document, "no-such-id", f.now(), "u1")
	wantErr(t, err, domain.ErrNotFound)
	_, err = f.s.RestoreEntity(f.ctx, domain.Document, "no-such-id", f.now(), "u1")
	wantErr(t, err, domain.ErrNotFound)
	_, err = f.s.RestoreEntity(f.ctx, domain.Document, tr.d1.ID, f.now(), "u1")
	wantErr(t, err, domain.ErrInvalid, "not deleted")
	f.softDelete(tr.d1, map[domain.EntityType]int{domain.Document: 1, domain.Block: 1, domain.Requirement: 3})
	_, err = f.s.SoftDeleteEntity(f.ctx, domain.Document, tr.d1.ID, f.now(), "u1")
	wantErr(t, err, domain.ErrInvalid, "already deleted")
	_, err = f.s.SoftDeleteEntity(f.ctx, "spaceship", "x", f.now(), "u1")
	wantErr(t, err, domain.ErrInvalid)
}
