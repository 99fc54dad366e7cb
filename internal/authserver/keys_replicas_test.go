package authserver

import (
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/atomcp/atomcp/internal/pgtest"
	"github.com/atomcp/atomcp/internal/store"
	"github.com/atomcp/atomcp/internal/store/postgres"
	"github.com/atomcp/atomcp/internal/store/sqlite"
)

// startReplicas runs NewKeySet on each store at once, as replicas that
// start together do, and checks that they all sign with one key and that
// the database holds exactly that one.
func startReplicas(t *testing.T, stores []store.Store) {
	t.Helper()
	sets := make([]*KeySet, len(stores))
	errs := make([]error, len(stores))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, st := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			sets[i], errs[i] = NewKeySet(t.Context(), st, nil, time.Hour, nil)
		}()
	}
	close(start)
	wg.Wait()
	kids := map[string]bool{}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("replica %d: %v", i, err)
		}
		sk, err := sets[i].current(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		kids[sk.id] = true
	}
	stored, err := stores[0].ListSigningKeys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != 1 || len(kids) != 1 {
		t.Fatalf("%d replicas created %d keys and sign with %d; want one", len(stores), len(stored), len(kids))
	}
}

// Replicas starting together on an empty PostgreSQL database create one
// signing key between them (each has its own connection pool, as separate
// processes do).
func TestFirstKeyOnceAcrossReplicasPostgres(t *testing.T) {
	u := pgtest.NewDB(t)
	stores := make([]store.Store, 5)
	for i := range stores {
		st, err := postgres.Open(t.Context(), u.String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		stores[i] = st
	}
	if _, err := stores[0].(*postgres.Store).Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	startReplicas(t, stores)
}

// On SQLite, servers sharing one store start concurrently too (tests,
// and serve's components): one key.
func TestFirstKeyOnceSQLite(t *testing.T) {
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "atomcp.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if _, err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	startReplicas(t, []store.Store{st, st, st, st, st})
}
