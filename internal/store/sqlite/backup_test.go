package sqlite_test

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
	"github.com/atomcp/atomcp/internal/store/sqlcore"
	"github.com/atomcp/atomcp/internal/store/sqlite"
)

// newEntity builds an entity ready to create.
func newEntity(typ domain.EntityType, orgID string, fields map[string]any) *domain.Entity {
	now := time.Now().UTC().Truncate(time.Microsecond)
	e := &domain.Entity{Type: typ, ID: uuid.NewString(), OrganizationID: orgID, Fields: fields, CreatedAt: now, UpdatedAt: now}
	if typ == domain.Organization {
		e.OrganizationID = e.ID
	}
	return e
}

// checksum digests the id and name of the requirements with these ids.
func checksum(t *testing.T, s store.Store, orgID string, ids []string) (string, int) {
	t.Helper()
	page, err := s.ListEntities(t.Context(), store.EntityQuery{Type: domain.Requirement, OrganizationIDs: []string{orgID}})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]string{}
	for _, e := range page.Items {
		byID[e.ID] = e.Name()
	}
	sorted := append([]string(nil), ids...)
	sort.Strings(sorted)
	h := sha256.New()
	for _, id := range sorted {
		name, ok := byID[id]
		if !ok {
			t.Errorf("requirement %s, committed before the backup started, is missing", id)
		}
		fmt.Fprintf(h, "%s=%s\n", id, name)
	}
	return fmt.Sprintf("%x", h.Sum(nil)), len(page.Items)
}

// A backup taken while a writer commits has every row committed before it
// started, passes the integrity check, restores to a fresh path and to
// the original one (keeping the old file), and the result serves.
func TestBackupDuringWritesAndRestore(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	path := filepath.Join(dir, "atomcp.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	org := newEntity(domain.Organization, "", map[string]any{"name": "Backup", "slug": "backup"})
	project := newEntity(domain.Project, org.ID, map[string]any{"organization_id": org.ID, "name": "P", "slug": "p"})
	doc := newEntity(domain.Document, org.ID, map[string]any{"project_id": project.ID, "name": "D"})
	for _, e := range []*domain.Entity{org, project, doc} {
		if err := s.CreateEntity(ctx, e); err != nil {
			t.Fatal(err)
		}
	}

	var (
		mu        sync.Mutex
		committed []string
		stop      = make(chan struct{})
		done      = make(chan error, 1)
		enough    = make(chan struct{})
	)
	go func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				done <- nil
				return
			default:
			}
			r := newEntity(domain.Requirement, org.ID, map[string]any{"document_id": doc.ID, "project_id": project.ID, "name": fmt.Sprintf("requirement %d", i)})
			if err := s.CreateEntity(ctx, r); err != nil {
				done <- err
				return
			}
			mu.Lock()
			committed = append(committed, r.ID)
			if len(committed) == 200 {
				close(enough)
			}
			mu.Unlock()
		}
	}()
	<-enough
	mu.Lock()
	before := append([]string(nil), committed...)
	mu.Unlock()
	backup := filepath.Join(dir, "backup.db")
	info, err := sqlite.Backup(ctx, path, backup)
	mu.Lock()
	during := len(committed) - len(before)
	mu.Unlock()
	close(stop)
	if werr := <-done; werr != nil {
		t.Fatalf("writer: %v", werr)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("backup of %d bytes, schema %d; %d writes committed while it ran", info.Bytes, info.SchemaVersion, during)
	if st, err := os.Stat(backup); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("backup file mode = %v, %v; want 0600", st.Mode().Perm(), err)
	}
	if _, err := sqlite.Backup(ctx, path, backup); err == nil {
		t.Error("a second backup overwrote the first")
	}

	// Restore to a fresh path.
	fresh := filepath.Join(dir, "fresh", "atomcp.db")
	if err := os.Mkdir(filepath.Dir(fresh), 0o700); err != nil {
		t.Fatal(err)
	}
	// A WAL left there by some other database must not be replayed onto
	// the restored one.
	if err := os.WriteFile(fresh+"-wal", []byte("stale WAL of another database file"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := sqlite.Restore(ctx, backup, fresh)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(fresh + "-wal"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the stale WAL is still beside the restored database: %v", err)
	}
	if got.Previous != "" {
		t.Errorf("restore to a fresh path kept a previous database %q", got.Previous)
	}
	if _, err := sqlite.VerifyBackup(ctx, fresh); err != nil {
		t.Fatalf("restored database: %v", err)
	}
	r, err := sqlite.Open(ctx, fresh)
	if err != nil {
		t.Fatal(err)
	}
	if applied, err := r.Migrate(ctx); err != nil || len(applied) != 0 {
		t.Fatalf("restored database needed migrations %v, %v", applied, err)
	}
	wantSum, _ := checksum(t, s, org.ID, before)
	gotSum, n := checksum(t, r, org.ID, before)
	if gotSum != wantSum || n < len(before) {
		t.Errorf("restored checksum %s of %d rows; want %s of at least %d", gotSum, n, wantSum, len(before))
	}
	// It serves: reads and writes work.
	extra := newEntity(domain.Requirement, org.ID, map[string]any{"document_id": doc.ID, "project_id": project.ID, "name": "after restore"})
	if err := r.CreateEntity(ctx, extra); err != nil {
		t.Fatalf("write to the restored database: %v", err)
	}
	if hits, _, err := r.SearchText(ctx, store.SearchQuery{OrganizationIDs: []string{org.ID}, Text: "restore", Limit: 5}); err != nil || len(hits) != 1 {
		t.Errorf("search in the restored database = %d hits, %v", len(hits), err)
	}

	// Restoring over a database that is open is refused.
	if _, err := sqlite.Restore(ctx, backup, fresh); !errors.Is(err, sqlite.ErrInUse) {
		t.Errorf("restore over an open database = %v; want ErrInUse", err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	// Closed, it is replaced and kept.
	got, err = sqlite.Restore(ctx, backup, fresh)
	if err != nil {
		t.Fatal(err)
	}
	if got.Previous != fresh+".before-restore" {
		t.Errorf("previous database kept at %q; want %q", got.Previous, fresh+".before-restore")
	}
	old, err := sqlite.Open(ctx, got.Previous)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.GetEntity(ctx, domain.Requirement, extra.ID); err != nil {
		t.Errorf("the kept database lost the write made after the first restore: %v", err)
	}
	old.Close()
	r, err = sqlite.Open(ctx, fresh)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.GetEntity(ctx, domain.Requirement, extra.ID); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("after the second restore, the later write = %v; want it gone (the backup predates it)", err)
	}
}

func TestRestoreRefusesABadBackup(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	path := filepath.Join(dir, "atomcp.db")
	openMigrated(t, path)
	// A backup of a newer atomcp's database is refused, naming both versions.
	newer := filepath.Join(dir, "newer.db")
	if _, err := sqlite.Backup(ctx, path, newer); err != nil {
		t.Fatal(err)
	}
	raw := rawDB(t, newer)
	if _, err := raw.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (9999, '2030-01-01T00:00:00Z')`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	if _, err := sqlite.Restore(ctx, newer, filepath.Join(dir, "target.db")); !errors.Is(err, sqlcore.ErrNewerSchema) || !strings.Contains(err.Error(), "9999") {
		t.Errorf("restore of a newer schema = %v; want ErrNewerSchema naming 9999", err)
	}
	junk := filepath.Join(dir, "junk.db")
	if err := os.WriteFile(junk, []byte("this is not a database, just some text that is long enough to look like a header"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.db")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{junk, empty, filepath.Join(dir, "missing.db")} {
		if _, err := sqlite.Restore(ctx, bad, filepath.Join(dir, "target.db")); err == nil {
			t.Errorf("restore of %s succeeded", filepath.Base(bad))
		}
		if _, err := os.Stat(filepath.Join(dir, "target.db")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("a refused restore of %s created the target", filepath.Base(bad))
		}
	}
}
