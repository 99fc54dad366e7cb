package storetest

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

// fixture creates test data in one store. Its helpers fail the test t on
// error, so a subtest uses its own fixture, from sub.
type fixture struct {
	t     *testing.T
	s     store.Store
	ctx   context.Context
	clock *time.Time // shared with sub-fixtures; tests using one fixture run sequentially
}

func newFixture(t *testing.T, s store.Store) *fixture {
	// Microsecond precision: the suite asks backends to keep timestamps
	// exactly to the microsecond, not beyond.
	clock := time.Date(2025, 3, 14, 15, 9, 26, 535897000, time.UTC)
	return &fixture{t: t, s: s, ctx: t.Context(), clock: &clock}
}

// sub returns the fixture for a subtest t of f's test.
func (f *fixture) sub(t *testing.T) *fixture {
	c := *f
	c.t, c.ctx = t, t.Context()
	return &c
}

// now returns a new, later time on each call, so that created_at orders
// entities by creation.
func (f *fixture) now() time.Time {
	*f.clock = f.clock.Add(time.Second + time.Microsecond)
	return *f.clock
}

// newEntity returns an unsaved entity of the type with fresh id and times.
func (f *fixture) newEntity(typ domain.EntityType, orgID string, fields map[string]any) *domain.Entity {
	ts := f.now()
	e := &domain.Entity{
		Type:           typ,
		ID:             uuid.NewString(),
		OrganizationID: orgID,
		Fields:         fields,
		CreatedAt:      ts,
		UpdatedAt:      ts,
		CreatedBy:      "creator",
		UpdatedBy:      "creator",
	}
	if typ == domain.Organization {
		e.OrganizationID = e.ID
	}
	return e
}

// create stores e and fails the test on error.
func (f *fixture) create(e *domain.Entity) *domain.Entity {
	f.t.Helper()
	if err := f.s.CreateEntity(f.ctx, e); err != nil {
		f.t.Fatalf("CreateEntity(%s %v): %v", e.Type, e.Fields, err)
	}
	return e
}

func (f *fixture) org(slug string) *domain.Entity {
	f.t.Helper()
	return f.create(f.newEntity(domain.Organization, "", map[string]any{
		"name": "Org " + slug, "slug": slug, "type": "team",
	}))
}

func (f *fixture) project(org *domain.Entity, slug string) *domain.Entity {
	f.t.Helper()
	return f.create(f.newEntity(domain.Project, org.ID, map[string]any{
		"organization_id": org.ID, "name": "Project " + slug, "slug": slug, "status": "active",
	}))
}

func (f *fixture) document(project *domain.Entity, name string) *domain.Entity {
	f.t.Helper()
	return f.create(f.newEntity(domain.Document, project.OrganizationID, map[string]any{
		"project_id": project.ID, "name": name, "version": int64(1),
	}))
}

func (f *fixture) block(doc *domain.Entity, position int64) *domain.Entity {
	f.t.Helper()
	return f.create(f.newEntity(domain.Block, doc.OrganizationID, map[string]any{
		"document_id": doc.ID, "type": "text", "content": "block", "position": position,
	}))
}

// requirementOf returns an unsaved requirement of the document.
func (f *fixture) requirementOf(doc *domain.Entity, name, externalID string) *domain.Entity {
	fields := map[string]any{
		"document_id": doc.ID, "project_id": doc.Str("project_id"), "name": name, "status": "active",
	}
	if externalID != "" {
		fields["external_id"] = externalID
	}
	return f.newEntity(domain.Requirement, doc.OrganizationID, fields)
}

func (f *fixture) requirement(doc *domain.Entity, name, externalID string) *domain.Entity {
	f.t.Helper()
	return f.create(f.requirementOf(doc, name, externalID))
}

func (f *fixture) test(project *domain.Entity, title string, fields map[string]any) *domain.Entity {
	f.t.Helper()
	all := map[string]any{"project_id": project.ID, "title": title}
	for k, v := range fields {
		all[k] = v
	}
	return f.create(f.newEntity(domain.Test, project.OrganizationID, all))
}

// user creates a user.
func (f *fixture) user(subject string) *domain.User {
	f.t.Helper()
	ts := f.now()
	u := &domain.User{
		ID: uuid.NewString(), Issuer: "https://issuer.example", Subject: subject,
		Email: subject + "@example.com", Name: "User " + subject, CreatedAt: ts, UpdatedAt: ts,
	}
	if err := f.s.CreateUser(f.ctx, u); err != nil {
		f.t.Fatalf("CreateUser(%s): %v", subject, err)
	}
	return u
}

// get reads an entity and fails the test on error.
func (f *fixture) get(typ domain.EntityType, id string) *domain.Entity {
	f.t.Helper()
	e, err := f.s.GetEntity(f.ctx, typ, id)
	if err != nil {
		f.t.Fatalf("GetEntity(%s, %s): %v", typ, id, err)
	}
	return e
}

// list runs a query and fails the test on error.
func (f *fixture) list(q store.EntityQuery) store.EntityPage {
	f.t.Helper()
	page, err := f.s.ListEntities(f.ctx, q)
	if err != nil {
		f.t.Fatalf("ListEntities(%+v): %v", q, err)
	}
	return page
}

// wantErr fails the test unless errors.Is(err, target) and the message
// contains every one of words.
func wantErr(t *testing.T, err, target error, words ...string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error = %v; want one wrapping %q", err, target)
	}
	for _, w := range words {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
}

// sameEntity fails the test unless got and want hold the same data.
func sameEntity(t *testing.T, got, want *domain.Entity) {
	t.Helper()
	if got.Type != want.Type || got.ID != want.ID || got.OrganizationID != want.OrganizationID {
		t.Errorf("entity = %s %s in %s; want %s %s in %s",
			got.Type, got.ID, got.OrganizationID, want.Type, want.ID, want.OrganizationID)
	}
	if !reflect.DeepEqual(got.Fields, want.Fields) {
		t.Errorf("%s %s Fields =\n %#v\nwant\n %#v", want.Type, want.ID, got.Fields, want.Fields)
	}
	if !got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) {
		t.Errorf("%s %s times = %v, %v; want %v, %v", want.Type, want.ID,
			got.CreatedAt, got.UpdatedAt, want.CreatedAt, want.UpdatedAt)
	}
	if got.CreatedBy != want.CreatedBy || got.UpdatedBy != want.UpdatedBy {
		t.Errorf("%s %s by = %q, %q; want %q, %q", want.Type, want.ID,
			got.CreatedBy, got.UpdatedBy, want.CreatedBy, want.UpdatedBy)
	}
	if got.IsDeleted != want.IsDeleted || !sameTimePtr(got.DeletedAt, want.DeletedAt) {
		t.Errorf("%s %s deleted = %v at %v; want %v at %v", want.Type, want.ID,
			got.IsDeleted, got.DeletedAt, want.IsDeleted, want.DeletedAt)
	}
}

func sameTimePtr(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}

// ids returns the ids of entities, in order.
func ids(es []*domain.Entity) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.ID
	}
	return out
}

// sameIDs fails the test unless got has exactly the ids of want, in order.
func sameIDs(t *testing.T, what string, got []*domain.Entity, want ...*domain.Entity) {
	t.Helper()
	if g, w := ids(got), ids(want); !reflect.DeepEqual(g, w) {
		t.Errorf("%s = %v; want %v", what, g, w)
	}
}
