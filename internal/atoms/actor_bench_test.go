package atoms_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/atomcp/atomcp/internal/atoms"
	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store/sqlite"
)

// BenchmarkActor: who is calling, as every authenticated tool call asks
// it, for a known user with an unchanged profile: their personal
// organization, three more organizations (one membership suspended) and
// four project memberships, on SQLite.
func BenchmarkActor(b *testing.B) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "actor.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	svc := atoms.New(st)
	a, err := svc.Actor(ctx, atoms.LocalCaller)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now().UTC()
	for i := range 3 {
		org, err := svc.CreateEntity(ctx, a, domain.Organization, map[string]any{"name": fmt.Sprintf("Team %d", i)})
		if err != nil {
			b.Fatal(err)
		}
		if i == 2 {
			if err := st.PutMember(ctx, &domain.Membership{OrganizationID: org.ID, UserID: a.User.ID, Role: domain.RoleMember, Status: "suspended", CreatedAt: now}); err != nil {
				b.Fatal(err)
			}
		}
		for j := range 2 {
			if i == 2 {
				break
			}
			p := &domain.Entity{Type: domain.Project, ID: uuid.NewString(), OrganizationID: org.ID, CreatedAt: now, UpdatedAt: now, CreatedBy: a.User.ID, UpdatedBy: a.User.ID,
				Fields: map[string]any{"organization_id": org.ID, "name": fmt.Sprintf("P %d.%d", i, j), "slug": fmt.Sprintf("p-%d-%d", i, j), "status": "active"}}
			if err := st.CreateEntity(ctx, p); err != nil {
				b.Fatal(err)
			}
			if err := st.PutProjectMember(ctx, &domain.ProjectMembership{ProjectID: p.ID, OrganizationID: org.ID, UserID: a.User.ID, Role: domain.RoleViewer, Status: "active", CreatedAt: now}); err != nil {
				b.Fatal(err)
			}
		}
	}
	got, err := svc.Actor(ctx, atoms.LocalCaller)
	if err != nil {
		b.Fatal(err)
	}
	if n := len(got.OrganizationIDs()); n != 3 {
		b.Fatalf("the actor is in %d organizations; want 3 (personal, two teams; the third suspended)", n)
	}
	for b.Loop() {
		if _, err := svc.Actor(ctx, atoms.LocalCaller); err != nil {
			b.Fatal(err)
		}
	}
}
