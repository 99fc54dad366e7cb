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

type listenerBox struct{ fn ChangeListener }

// OnChange sets the listener of committed changes (the MCP server uses it
// to notify subscribers of the resources that changed). It may be set
// after the service is built, and replaces any earlier one.
func (s *Service) OnChange(fn ChangeListener) { s.listener.Store(&listenerBox{fn}) }

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
// listener what changed. Every service write goes through it.
func (s *Service) inTx(ctx context.Context, fn func(tx store.Ops) error) error {
	cs := &changeSet{}
	if err := s.store.InTx(ctx, func(tx store.Ops) error { return fn(changeTx{Ops: tx, cs: cs}) }); err != nil {
		return err
	}
	if len(cs.changes) > 0 {
		s.semantic.Wake()
	}
	box := s.listener.Load()
	if box == nil || box.fn == nil || len(cs.changes) == 0 {
		return nil
	}
	box.fn(context.WithoutCancel(ctx), cs.changes)
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
