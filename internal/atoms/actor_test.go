package atoms_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/atomcp/atomcp/internal/atoms"
	"github.com/atomcp/atomcp/internal/store/sqlite"
)

// TestActorCreatesOnceAndRefreshesTheProfile: the first request creates the
// user and a personal organization; later ones reuse them and take email
// and name from the token when they changed.
func TestActorCreatesOnceAndRefreshesTheProfile(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	svc := atoms.New(st)
	c := atoms.Caller{Issuer: "https://issuer.test", Subject: "u1", Email: "u1@example.com", Name: "Una"}
	first, err := svc.Actor(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	again, err := svc.Actor(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if again.User.ID != first.User.ID || !again.User.UpdatedAt.Equal(first.User.UpdatedAt) || len(again.OrganizationIDs()) != 1 {
		t.Fatalf("second request: user %+v, orgs %v; want the same user, unchanged, with one organization", again.User, again.OrganizationIDs())
	}
	c.Name = "Una Renamed"
	renamed, err := svc.Actor(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := st.GetUser(ctx, first.User.ID)
	if err != nil || renamed.User.ID != first.User.ID || stored.Name != "Una Renamed" {
		t.Fatalf("after a new name in the token: %+v, %v", stored, err)
	}
}
