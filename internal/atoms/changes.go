package atoms

import (
	"context"
	"sync"

	"github.com/atomcp/atomcp/internal/store"
)

// Change says that something in a project (or, with no ProjectID, an
// organization) changed. Listeners learn of changes only after their
// transaction committed.
type Change struct {
	OrganizationID string
	ProjectID      string
	Type           string // entity type or relationship kind
	ID             string
}

// ChangeListener is told of committed changes. It runs on the writer's
// goroutine after the commit: it must return quickly.
type ChangeListener func(ctx context.Context, changes []Change)

// listeners holds the listeners of committed changes: those of this
// process (one per MCP server built on the service) and the broadcaster
// that carries changes to other replicas.
type listeners struct {
	mu          sync.Mutex
	local       map[int]ChangeListener
	next        int
	broadcaster ChangeListener
}

// OnChange adds a listener of committed changes (an MCP server uses it to
// notify the subscribers of the resources that changed) and returns the
// function that removes it. It may be called after the service is built;
// every listener hears of every change, whether committed here or, through
// Deliver, by another replica.
func (s *Service) OnChange(fn ChangeListener) (remove func()) {
	l := &s.listeners
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.local == nil {
		l.local = map[int]ChangeListener{}
	}
	id := l.next
	l.next++
	l.local[id] = fn
	return func() {
		l.mu.Lock()
		delete(l.local, id)
		l.mu.Unlock()
	}
}

// OnCommit sets the broadcaster: it is told of the changes committed
// through this service (after the local listeners), so that it can carry
// them to the services of other replicas, which Deliver them. Changes
// handed to Deliver are not broadcast again.
func (s *Service) OnCommit(fn ChangeListener) {
	s.listeners.mu.Lock()
	s.listeners.broadcaster = fn
	s.listeners.mu.Unlock()
}

// Deliver tells this process's listeners of changes another replica
// committed (see OnCommit).
func (s *Service) Deliver(ctx context.Context, changes []Change) {
	if len(changes) == 0 {
		return
	}
	for _, fn := range s.snapshotListeners() {
		fn(ctx, changes)
	}
}

func (s *Service) snapshotListeners() []ChangeListener {
	l := &s.listeners
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]ChangeListener, 0, len(l.local))
	for _, fn := range l.local {
		out = append(out, fn)
	}
	return out
}

func (s *Service) committed(ctx context.Context, changes []Change) {
	s.Deliver(ctx, changes)
	s.listeners.mu.Lock()
	b := s.listeners.broadcaster
	s.listeners.mu.Unlock()
	if b != nil {
		b(ctx, changes)
	}
}

// changeSet collects the changes of one transaction.
type changeSet struct {
	mu      sync.Mutex
	changes []Change
}

// changeTx is a transaction that collects the changes made through it.
type changeTx struct {
	store.Ops
	cs *changeSet
}

// inTx runs fn in a store transaction and, once it committed, tells the
// listeners what changed. Every service write goes through it.
func (s *Service) inTx(ctx context.Context, fn func(tx store.Ops) error) error {
	return s.inTxAs(ctx, nil, fn)
}

// inTxAs is inTx for a write of the actor a: before the commit, it
// confirms that a's roles in what changed are still those a was checked
// with (confirmWrites), so that the check holds across replicas.
func (s *Service) inTxAs(ctx context.Context, a *Actor, fn func(tx store.Ops) error) error {
	cs := &changeSet{}
	err := retrySlug(ctx, func() error {
		cs = &changeSet{}
		return s.store.InTx(ctx, func(tx store.Ops) error {
			if err := fn(changeTx{Ops: tx, cs: cs}); err != nil {
				return err
			}
			if a == nil || a.User == nil {
				return nil
			}
			return s.confirmWrites(ctx, tx, a, cs.changes)
		})
	})
	if err != nil {
		return err
	}
	if len(cs.changes) > 0 {
		s.semantic.Wake()
		s.committed(context.WithoutCancel(ctx), cs.changes)
	}
	return nil
}

// recordChange notes a change made through tx, when tx collects them.
func recordChange(tx store.Ops, c Change) {
	ct, ok := tx.(changeTx)
	if !ok {
		return
	}
	ct.cs.mu.Lock()
	ct.cs.changes = append(ct.cs.changes, c)
	ct.cs.mu.Unlock()
}
