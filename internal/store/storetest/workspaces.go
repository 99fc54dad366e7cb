package storetest

import (
	"testing"

	"github.com/atomcp/atomcp/internal/domain"
)

var workspaceTests = []test{
	{"GetEmptyPutGet", testWorkspaceGetEmptyPutGet},
}

func testWorkspaceGetEmptyPutGet(t *testing.T, f *fixture) {
	u := f.user("u")
	org := f.org("o")
	project := f.project(org, "p")
	doc := f.document(project, "d")

	got, err := f.s.GetWorkspace(f.ctx, u.ID)
	if err != nil {
		t.Fatalf("GetWorkspace with none stored: %v", err)
	}
	if *got != (domain.WorkspaceContext{UserID: u.ID}) {
		t.Errorf("empty workspace = %+v; want only UserID", got)
	}

	steps := []domain.WorkspaceContext{
		{UserID: u.ID, OrganizationID: org.ID},
		{UserID: u.ID, OrganizationID: org.ID, ProjectID: project.ID, DocumentID: doc.ID},
		{UserID: u.ID, OrganizationID: org.ID}, // empty ids clear
	}
	for i, w := range steps {
		w.UpdatedAt = f.now()
		if err := f.s.PutWorkspace(f.ctx, &w); err != nil {
			t.Fatalf("step %d: PutWorkspace: %v", i, err)
		}
		got, err := f.s.GetWorkspace(f.ctx, u.ID)
		if err != nil {
			t.Fatalf("step %d: GetWorkspace: %v", i, err)
		}
		if !got.UpdatedAt.Equal(w.UpdatedAt) {
			t.Errorf("step %d: UpdatedAt = %v; want %v", i, got.UpdatedAt, w.UpdatedAt)
		}
		got.UpdatedAt = w.UpdatedAt
		if *got != w {
			t.Errorf("step %d: workspace = %+v; want %+v", i, got, w)
		}
	}

	bad := domain.WorkspaceContext{UserID: u.ID, ProjectID: "no-such-project", UpdatedAt: f.now()}
	wantErr(t, f.s.PutWorkspace(f.ctx, &bad), domain.ErrInvalid)
}
