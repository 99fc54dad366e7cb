package storetest

import (
	"testing"

	"github.com/google/uuid"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

// link builds an unsaved link between two entities.
func (f *fixture) link(kind domain.LinkKind, src, tgt *domain.Entity, linkType string) *domain.Link {
	ts := f.now()
	return &domain.Link{
		Kind: kind, ID: uuid.NewString(), OrganizationID: src.OrganizationID,
		SourceType: src.Type, SourceID: src.ID, TargetType: tgt.Type, TargetID: tgt.ID,
		LinkType: linkType, CreatedAt: ts, UpdatedAt: ts, CreatedBy: "u1", UpdatedBy: "u1",
	}
}

var relationTests = []test{
	{"trace links round-trip, list by either end, update, delete", func(t *testing.T, f *fixture) {
		org := f.org("rel")
		doc := f.document(f.project(org, "p"), "d")
		a, b, c := f.requirement(doc, "a", ""), f.requirement(doc, "b", ""), f.requirement(doc, "c", "")
		ab := f.link(domain.TraceLink, a, b, "derives_from")
		ab.Description = "why"
		bc := f.link(domain.TraceLink, b, c, "refines")
		for _, l := range []*domain.Link{ab, bc} {
			if err := f.s.CreateLink(f.ctx, l); err != nil {
				t.Fatal(err)
			}
		}
		got, err := f.s.GetLink(f.ctx, domain.TraceLink, ab.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.SourceID != a.ID || got.TargetID != b.ID || got.LinkType != "derives_from" || got.Description != "why" || !got.CreatedAt.Equal(ab.CreatedAt) || got.SourceType != domain.Requirement {
			t.Fatalf("GetLink = %+v; want %+v", got, ab)
		}
		around, err := f.s.ListLinks(f.ctx, store.LinkQuery{Kind: domain.TraceLink, OrganizationIDs: []string{org.ID}, EntityID: b.ID})
		if err != nil || len(around) != 2 || around[0].ID != ab.ID {
			t.Fatalf("links around b = %v, %v; want ab then bc", around, err)
		}
		bySources, _ := f.s.ListLinks(f.ctx, store.LinkQuery{Kind: domain.TraceLink, OrganizationIDs: []string{org.ID}, SourceIDs: []string{b.ID, c.ID}})
		if len(bySources) != 1 || bySources[0].ID != bc.ID {
			t.Fatalf("links from b or c = %v; want bc", bySources)
		}
		byEnds, _ := f.s.ListLinks(f.ctx, store.LinkQuery{Kind: domain.TraceLink, OrganizationIDs: []string{org.ID}, EntityIDs: []string{a.ID, c.ID}})
		if len(byEnds) != 2 {
			t.Fatalf("links touching a or c = %v; want ab and bc", byEnds)
		}
		typed, _ := f.s.ListLinks(f.ctx, store.LinkQuery{Kind: domain.TraceLink, OrganizationIDs: []string{org.ID}, LinkType: "refines"})
		if len(typed) != 1 || typed[0].ID != bc.ID {
			t.Fatalf("refines links = %v", typed)
		}
		other, _ := f.s.ListLinks(f.ctx, store.LinkQuery{Kind: domain.TraceLink, OrganizationIDs: []string{f.org("other").ID}})
		if len(other) != 0 {
			t.Fatalf("another organization sees %d links", len(other))
		}
		ab.LinkType, ab.UpdatedAt = "satisfies", f.now()
		if err := f.s.UpdateLink(f.ctx, ab); err != nil {
			t.Fatal(err)
		}
		if got, _ := f.s.GetLink(f.ctx, domain.TraceLink, ab.ID); got.LinkType != "satisfies" {
			t.Fatalf("after update link_type = %q", got.LinkType)
		}
		if err := f.s.DeleteLink(f.ctx, domain.TraceLink, ab.ID); err != nil {
			t.Fatal(err)
		}
		_, err = f.s.GetLink(f.ctx, domain.TraceLink, ab.ID)
		wantErr(t, err, domain.ErrNotFound)
		wantErr(t, f.s.DeleteLink(f.ctx, domain.TraceLink, ab.ID), domain.ErrNotFound)
	}},
	{"duplicate links conflict", func(t *testing.T, f *fixture) {
		org := f.org("dup")
		p := f.project(org, "p")
		doc := f.document(p, "d")
		r, tst := f.requirement(doc, "r", ""), f.test(p, "t", nil)
		if err := f.s.CreateLink(f.ctx, f.link(domain.RequirementTest, r, tst, "full")); err != nil {
			t.Fatal(err)
		}
		wantErr(t, f.s.CreateLink(f.ctx, f.link(domain.RequirementTest, r, tst, "partial")), domain.ErrConflict)
		covered, err := f.s.ListLinks(f.ctx, store.LinkQuery{Kind: domain.RequirementTest, OrganizationIDs: []string{org.ID}, TargetID: tst.ID})
		if err != nil || len(covered) != 1 || covered[0].SourceType != domain.Requirement || covered[0].LinkType != "full" {
			t.Fatalf("coverage of the test = %v, %v", covered, err)
		}
	}},
	{"assignments join an entity and a user", func(t *testing.T, f *fixture) {
		org := f.org("asg")
		p := f.project(org, "p")
		u := f.user("assignee")
		l := f.link(domain.Assignment, p, p, "reviewer")
		l.TargetType, l.TargetID = domain.UserTarget, u.ID
		if err := f.s.CreateLink(f.ctx, l); err != nil {
			t.Fatal(err)
		}
		got, err := f.s.ListLinks(f.ctx, store.LinkQuery{Kind: domain.Assignment, OrganizationIDs: []string{org.ID}, TargetID: u.ID})
		if err != nil || len(got) != 1 || got[0].SourceID != p.ID || got[0].LinkType != "reviewer" || got[0].TargetType != domain.UserTarget {
			t.Fatalf("assignments of the user = %v, %v", got, err)
		}
	}},
	{"an empty scope is an error", func(t *testing.T, f *fixture) {
		_, err := f.s.ListLinks(f.ctx, store.LinkQuery{Kind: domain.TraceLink})
		wantErr(t, err, domain.ErrInvalid)
	}},
}

var lookupTests = []test{
	{"users by email, case-insensitively", func(t *testing.T, f *fixture) {
		u := f.user("Dana")
		got, err := f.s.FindUsersByEmail(f.ctx, "DANA@EXAMPLE.COM")
		if err != nil || len(got) != 1 || got[0].ID != u.ID {
			t.Fatalf("FindUsersByEmail = %v, %v", got, err)
		}
		none, err := f.s.FindUsersByEmail(f.ctx, "nobody@example.com")
		if err != nil || len(none) != 0 {
			t.Fatalf("FindUsersByEmail(nobody) = %v, %v", none, err)
		}
	}},
	{"invitations of an organization, newest first", func(t *testing.T, f *fixture) {
		org, other := f.org("inv"), f.org("inv-other")
		for i, email := range []string{"a@example.com", "b@example.com"} {
			inv := &domain.Invitation{ID: uuid.NewString(), OrganizationID: org.ID, Email: email, Role: domain.RoleMember, Status: "pending", InvitedBy: "u", CreatedAt: f.now()}
			if err := f.s.CreateInvitation(f.ctx, inv); err != nil {
				t.Fatal(i, err)
			}
		}
		if err := f.s.CreateInvitation(f.ctx, &domain.Invitation{ID: uuid.NewString(), OrganizationID: other.ID, Email: "c@example.com", Role: domain.RoleViewer, Status: "pending", InvitedBy: "u", CreatedAt: f.now()}); err != nil {
			t.Fatal(err)
		}
		invs, err := f.s.ListInvitations(f.ctx, org.ID)
		if err != nil || len(invs) != 2 || invs[0].Email != "b@example.com" {
			t.Fatalf("ListInvitations = %v, %v", invs, err)
		}
	}},
}
