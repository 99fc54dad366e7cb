package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

var txTests = []test{
	{"Commit", testTxCommit},
	{"RollbackOnError", testTxRollbackOnError},
	{"RollbackOnConstraintError", testTxRollbackOnConstraintError},
	{"RollbackOnPanic", testTxRollbackOnPanic},
	{"ConcurrentWriters", testTxConcurrentWriters},
	{"SharedLocks", testTxSharedLocks},
}

// testTxSharedLocks: two transactions hold one lock shared at the same
// time (the second would wait forever for the first otherwise, which
// waits for it), and a transaction may hold a lock both ways.
func testTxSharedLocks(t *testing.T, f *fixture) {
	first := make(chan struct{})
	second := make(chan struct{})
	errs := make(chan error, 2)
	go func() {
		errs <- f.s.InTx(f.ctx, func(tx store.Ops) error {
			if err := tx.TxLockShared(f.ctx, "storetest-shared"); err != nil {
				return err
			}
			close(first)
			<-second // held until the other has it too
			return nil
		})
	}()
	<-first
	// On SQLite the single writer would make this wait for the first
	// transaction: there the locks do nothing, and the second takes the
	// lock outside a transaction.
	lock := func(s store.Ops) error {
		err := s.TxLockShared(f.ctx, "storetest-shared")
		close(second)
		return err
	}
	errs <- lock(f.s)
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatalf("shared lock: %v", err)
		}
	}
	if err := f.s.InTx(f.ctx, func(tx store.Ops) error {
		if err := tx.TxLock(f.ctx, "storetest-both"); err != nil {
			return err
		}
		return tx.TxLockShared(f.ctx, "storetest-both")
	}); err != nil {
		t.Fatalf("a lock held exclusively and shared by one transaction: %v", err)
	}
}

func testTxCommit(t *testing.T, f *fixture) {
	org := f.newEntity(domain.Organization, "", map[string]any{"name": "o", "slug": "o"})
	project := f.newEntity(domain.Project, org.ID, map[string]any{"organization_id": org.ID, "name": "p", "slug": "p"})
	err := f.s.InTx(f.ctx, func(tx store.Ops) error {
		for _, e := range []*domain.Entity{org, project} {
			if err := tx.CreateEntity(f.ctx, e); err != nil {
				return err
			}
		}
		// The transaction sees its own writes.
		if _, err := tx.GetEntity(f.ctx, domain.Project, project.ID); err != nil {
			return fmt.Errorf("read own write: %w", err)
		}
		page, err := tx.ListEntities(f.ctx, store.EntityQuery{Type: domain.Project, OrganizationIDs: []string{org.ID}})
		if err != nil {
			return err
		}
		if page.Total != 1 {
			return fmt.Errorf("list inside the transaction: Total = %d; want 1", page.Total)
		}
		return tx.AppendAudit(f.ctx, &domain.AuditEntry{At: f.now(), Action: "create", EntityID: project.ID})
	})
	if err != nil {
		t.Fatal(err)
	}
	sameEntity(t, f.get(domain.Project, project.ID), project)
	if entries, err := f.s.ListAudit(f.ctx, store.AuditQuery{EntityID: project.ID}); err != nil || len(entries) != 1 {
		t.Errorf("audit after commit: %d entries, %v; want 1", len(entries), err)
	}
}

func testTxRollbackOnError(t *testing.T, f *fixture) {
	errStop := errors.New("stop")
	org := f.newEntity(domain.Organization, "", map[string]any{"name": "o", "slug": "o"})
	u := f.user("u")
	err := f.s.InTx(f.ctx, func(tx store.Ops) error {
		if err := tx.CreateEntity(f.ctx, org); err != nil {
			return err
		}
		if err := tx.PutMember(f.ctx, &domain.Membership{OrganizationID: org.ID, UserID: u.ID, Role: domain.RoleOwner, Status: "active", CreatedAt: f.now()}); err != nil {
			return err
		}
		return errStop
	})
	if !errors.Is(err, errStop) {
		t.Fatalf("InTx = %v; want the error fn returned", err)
	}
	_, err = f.s.GetEntity(f.ctx, domain.Organization, org.ID)
	wantErr(t, err, domain.ErrNotFound)
	if ms, err := f.s.ListMemberships(f.ctx, u.ID); err != nil || len(ms) != 0 {
		t.Errorf("memberships after rollback = %d, %v; want none", len(ms), err)
	}
}

func testTxRollbackOnConstraintError(t *testing.T, f *fixture) {
	first := f.newEntity(domain.Organization, "", map[string]any{"name": "first", "slug": "first"})
	err := f.s.InTx(f.ctx, func(tx store.Ops) error {
		if err := tx.CreateEntity(f.ctx, first); err != nil {
			return err
		}
		// Fails halfway: the slug is taken by the first.
		return tx.CreateEntity(f.ctx, f.newEntity(domain.Organization, "", map[string]any{"name": "second", "slug": "first"}))
	})
	wantErr(t, err, domain.ErrConflict)
	_, err = f.s.GetEntity(f.ctx, domain.Organization, first.ID)
	wantErr(t, err, domain.ErrNotFound)
}

func testTxRollbackOnPanic(t *testing.T, f *fixture) {
	org := f.newEntity(domain.Organization, "", map[string]any{"name": "o", "slug": "o"})
	func() {
		defer func() {
			if p := recover(); p != "boom" {
				t.Errorf("recovered %v; want the panic to go on with its value", p)
			}
		}()
		_ = f.s.InTx(f.ctx, func(tx store.Ops) error {
			if err := tx.CreateEntity(f.ctx, org); err != nil {
				return err
			}
			panic("boom")
		})
	}()
	_, err := f.s.GetEntity(f.ctx, domain.Organization, org.ID)
	wantErr(t, err, domain.ErrNotFound)

	// The store still works: the panicking transaction released what it held.
	if err := f.s.InTx(f.ctx, func(tx store.Ops) error { return tx.CreateEntity(f.ctx, org) }); err != nil {
		t.Fatalf("InTx after a panic: %v", err)
	}
	f.get(domain.Organization, org.ID)
}

// testTxConcurrentWriters runs transactions from several goroutines at once,
// with readers beside them; every one must succeed (no "database is locked").
func testTxConcurrentWriters(t *testing.T, f *fixture) {
	const writers, perWriter = 8, 10
	org := f.org("o")
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	record := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		errs = append(errs, err)
	}
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				slug := fmt.Sprintf("w%d-%d", w, i)
				err := f.s.InTx(f.ctx, func(tx store.Ops) error {
					// Read, then write: the pattern that deadlocks deferred
					// SQLite transactions.
					if _, err := tx.GetEntity(f.ctx, domain.Organization, org.ID); err != nil {
						return err
					}
					p := &domain.Entity{
						Type: domain.Project, ID: org.ID + "-" + slug, OrganizationID: org.ID,
						Fields:    map[string]any{"organization_id": org.ID, "name": slug, "slug": slug},
						CreatedAt: org.CreatedAt, UpdatedAt: org.CreatedAt,
					}
					if err := tx.CreateEntity(f.ctx, p); err != nil {
						return err
					}
					return tx.AppendAudit(f.ctx, &domain.AuditEntry{At: org.CreatedAt, Action: "create", EntityID: p.ID, OrganizationID: org.ID})
				})
				if err != nil {
					record(fmt.Errorf("writer %d tx %d: %w", w, i, err))
				}
			}
		})
		wg.Go(func() {
			for range perWriter {
				if _, err := f.s.ListEntities(f.ctx, store.EntityQuery{Type: domain.Project, OrganizationIDs: []string{org.ID}}); err != nil {
					record(fmt.Errorf("reader %d: %w", w, err))
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		t.Error(err)
	}
	if page := f.list(store.EntityQuery{Type: domain.Project, OrganizationIDs: []string{org.ID}, Limit: 1}); page.Total != writers*perWriter {
		t.Errorf("projects after concurrent writes = %d; want %d", page.Total, writers*perWriter)
	}
	if entries, err := f.s.ListAudit(f.ctx, store.AuditQuery{OrganizationID: org.ID}); err != nil || len(entries) != writers*perWriter {
		t.Errorf("audit entries = %d, %v; want %d", len(entries), err, writers*perWriter)
	}
}
