package postgres_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
	"github.com/atomcp/atomcp/internal/store/postgres"
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
	err := s.InTx(ctx, func(tx store.Ops) error {
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

// Embedding seqs are taken in commit order (store.Embedding.Seq): while
// one transaction holds an uncommitted vector, a second put waits for it
// instead of taking a seq that a reader could see first and so skip the
// smaller one when it commits.
func TestEmbeddingSeqsInCommitOrder(t *testing.T) {
	s := openMigrated(t)
	ctx := t.Context()
	at := time.Date(2025, 5, 6, 7, 8, 9, 0, time.UTC)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.CreateEntity(ctx, org("o", "o", at)))
	must(s.CreateEntity(ctx, &domain.Entity{Type: domain.Project, ID: "p", OrganizationID: "o", Fields: map[string]any{"name": "p"}, CreatedAt: at, UpdatedAt: at}))
	must(s.CreateEntity(ctx, &domain.Entity{Type: domain.Document, ID: "d", OrganizationID: "o", Fields: map[string]any{"project_id": "p", "name": "d"}, CreatedAt: at, UpdatedAt: at}))
	emb := func(id string) *store.Embedding {
		must(s.CreateEntity(ctx, &domain.Entity{Type: domain.Requirement, ID: id, OrganizationID: "o",
			Fields: map[string]any{"document_id": "d", "project_id": "p", "name": id}, CreatedAt: at, UpdatedAt: at}))
		return &store.Embedding{EntityType: domain.Requirement, EntityID: id, OrganizationID: "o", ProjectID: "p",
			Model: "m", ContentHash: "h", Vector: []float32{1, 2}, UpdatedAt: at}
	}
	first, second := emb("r1"), emb("r2")

	held, release := make(chan struct{}), make(chan struct{})
	// On failure too, the first transaction ends before the store closes
	// (cleanups run last first), so that Close does not wait for it.
	releaseFirst := sync.OnceFunc(func() { close(release) })
	t.Cleanup(releaseFirst)
	firstDone, secondDone := make(chan error, 1), make(chan error, 1)
	go func() {
		firstDone <- s.InTx(ctx, func(tx store.Ops) error {
			if err := tx.PutEmbedding(ctx, first); err != nil {
				close(held)
				return err
			}
			close(held)
			<-release
			return nil
		})
	}()
	<-held
	go func() { secondDone <- s.PutEmbedding(ctx, second) }()

	// The second put waits for the seq lock the first transaction holds.
	const waiting = `SELECT count(*) FROM pg_locks l,
		(SELECT hashtextextended('atomcp:embeddings_seq:' || current_schema(), 0) AS k) AS key
		WHERE l.locktype = 'advisory' AND NOT l.granted
		  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
		  AND l.classid::bigint = (key.k >> 32) & 4294967295 AND l.objid::bigint = key.k & 4294967295`
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		must(s.Pool().QueryRow(ctx, waiting).Scan(&n))
		if n > 0 {
			break
		}
		select {
		case err := <-secondDone:
			t.Fatalf("the second put finished (%v) while the first transaction still held its vector", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the second put never waited for the seq lock")
		}
	}
	if latest, err := s.LatestEmbeddingSeq(ctx, "o", "m"); err != nil || latest != 0 {
		t.Fatalf("LatestEmbeddingSeq while both are uncommitted = %d, %v; want 0", latest, err)
	}
	releaseFirst()
	must(<-firstDone)
	must(<-secondDone)
	if second.Seq <= first.Seq {
		t.Fatalf("seqs %d then %d; want the later commit to have the larger seq", first.Seq, second.Seq)
	}
	got, err := s.ListEmbeddings(ctx, store.EmbeddingQuery{OrganizationID: "o", Model: "m", AfterSeq: first.Seq})
	if err != nil || len(got) != 1 || got[0].EntityID != "r2" {
		t.Fatalf("vectors after seq %d = %v, %v; want r2", first.Seq, got, err)
	}
}

// waitForLockWait returns once some session of the test database waits
// for a lock, failing the test if done ends first or nothing waits
// within 10s.
func waitForLockWait(t *testing.T, s *postgres.Store, done <-chan error, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		if err := s.Pool().QueryRow(t.Context(),
			`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		select {
		case err := <-done:
			t.Fatalf("%s finished (%v) instead of waiting", what, err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never waited for a lock", what)
		}
	}
}

// A token family revoked through one replica while another records an
// access token in it: the token ends up deny-listed whichever commits
// first. The two stores share one schema, as replicas share a database.
func TestRevocationRacesRecordedAccessToken(t *testing.T) {
	url := newSchema(t)
	issuer, revoker := openStore(t, url), openStore(t, url)
	if _, err := issuer.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	now := time.Date(2025, 5, 6, 7, 8, 9, 0, time.UTC)
	for _, id := range []string{"fam-a", "fam-b"} {
		if err := issuer.CreateTokenFamily(ctx, &store.TokenFamily{ID: id, ClientID: "c", AccountID: "a", CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}

	// The token is recorded first, in a transaction still open when the
	// revocation starts: the revocation waits for it, then deny-lists it.
	held, release := make(chan struct{}), make(chan struct{})
	releaseIssuer := sync.OnceFunc(func() { close(release) })
	t.Cleanup(releaseIssuer)
	issued := make(chan error, 1)
	go func() {
		issued <- issuer.InTx(ctx, func(tx store.Ops) error {
			err := tx.RecordAccessToken(ctx, &store.AccessToken{JTI: "j-a", FamilyID: "fam-a", ExpiresAt: now.Add(time.Hour)})
			close(held)
			if err != nil {
				return err
			}
			<-release
			return nil
		})
	}()
	<-held
	revoked := make(chan error, 1)
	go func() { revoked <- revoker.RevokeTokenFamily(ctx, "fam-a", now) }()
	waitForLockWait(t, issuer, revoked, "the revocation")
	releaseIssuer()
	if err := <-issued; err != nil {
		t.Fatal(err)
	}
	if err := <-revoked; err != nil {
		t.Fatal(err)
	}
	if denied, err := issuer.AccessTokenDenied(ctx, "j-a"); err != nil || !denied {
		t.Errorf("token recorded before a concurrent revocation committed: denied = %v, %v; want true", denied, err)
	}

	// The revocation runs first, in a transaction still open when the
	// token is recorded: the recording waits for it, then sees the family
	// revoked and deny-lists the token itself.
	held2, release2 := make(chan struct{}), make(chan struct{})
	releaseRevoker := sync.OnceFunc(func() { close(release2) })
	t.Cleanup(releaseRevoker)
	revoked2 := make(chan error, 1)
	go func() {
		revoked2 <- revoker.InTx(ctx, func(tx store.Ops) error {
			err := tx.RevokeTokenFamily(ctx, "fam-b", now)
			close(held2)
			if err != nil {
				return err
			}
			<-release2
			return nil
		})
	}()
	<-held2
	issued2 := make(chan error, 1)
	go func() {
		issued2 <- issuer.RecordAccessToken(ctx, &store.AccessToken{JTI: "j-b", FamilyID: "fam-b", ExpiresAt: now.Add(time.Hour)})
	}()
	waitForLockWait(t, issuer, issued2, "recording the token")
	releaseRevoker()
	if err := <-revoked2; err != nil {
		t.Fatal(err)
	}
	if err := <-issued2; err != nil {
		t.Fatal(err)
	}
	if denied, err := issuer.AccessTokenDenied(ctx, "j-b"); err != nil || !denied {
		t.Errorf("token recorded during a concurrent revocation: denied = %v, %v; want true", denied, err)
	}
}
