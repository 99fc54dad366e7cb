package postgres_test

import (
	"errors"
	"testing"
	"time"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

func org(id, slug string, at time.Time) *domain.Entity {
	return &domain.Entity{Type: domain.Organization, ID: id, OrganizationID: id,
		Fields: map[string]any{"name": "Org " + slug, "slug": slug}, CreatedAt: at, UpdatedAt: at}
}

// A failed write inside InTx leaves the transaction usable, as with
// SQLite: PostgreSQL would abort the whole transaction, so the store runs
// each write in a savepoint.
func TestFailedWriteInTxLeavesItUsable(t *testing.T) {
	s := openMigrated(t)
	ctx := t.Context()
	at := time.Date(2025, 5, 6, 7, 8, 9, 123456000, time.UTC)
	if err := s.CreateEntity(ctx, org("taken", "taken", at)); err != nil {
		t.Fatal(err)
	}
	err := s.InTx(ctx, func(tx store.Tx) error {
		err := tx.CreateEntity(ctx, org("second", "taken", at))
		if !errors.Is(err, domain.ErrConflict) {
			t.Errorf("duplicate slug in a transaction = %v; want a conflict", err)
		}
		// The caller handles the conflict and goes on.
		return tx.CreateEntity(ctx, org("second", "free", at))
	})
	if err != nil {
		t.Fatalf("InTx after a handled conflict: %v", err)
	}
	got, err := s.GetEntity(ctx, domain.Organization, "second")
	if err != nil || got.Str("slug") != "free" {
		t.Fatalf("after commit: %v, %v; want the organization with slug free", got, err)
	}
}

// Timestamps keep microseconds and drop what is finer, and come back in
// UTC whatever zone they were given in.
func TestTimestampsToTheMicrosecond(t *testing.T) {
	s := openMigrated(t)
	ctx := t.Context()
	at := time.Date(2025, 1, 2, 3, 4, 5, 123456789, time.FixedZone("CET", 3600))
	if err := s.CreateEntity(ctx, org("o", "o", at)); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetEntity(ctx, domain.Organization, "o")
	if err != nil {
		t.Fatal(err)
	}
	want := at.Truncate(time.Microsecond)
	if !got.CreatedAt.Equal(want) || got.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt = %v; want %v in UTC", got.CreatedAt, want)
	}
}

// Text PostgreSQL cannot store (a NUL byte) is bad input, not a server
// error.
func TestNULInTextIsInvalid(t *testing.T) {
	s := openMigrated(t)
	o := org("o", "o", time.Now())
	o.Fields["description"] = "before\x00after"
	if err := s.CreateEntity(t.Context(), o); !errors.Is(err, domain.ErrInvalid) {
		t.Fatalf("CreateEntity with a NUL byte = %v; want ErrInvalid", err)
	}
}
