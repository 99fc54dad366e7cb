package atoms

import (
	"context"
	"fmt"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

// audit records one write in the same transaction as the write itself, so
// that there is never a change without its entry, nor an entry without its
// change.
func (s *Service) audit(ctx context.Context, tx store.Ops, actorID, action string, before, after *domain.Entity) error {
	subject := after
	if subject == nil {
		subject = before
	}
	e := &domain.AuditEntry{
		At:             s.now(),
		ActorID:        actorID,
		Action:         action,
		EntityType:     subject.Type,
		EntityID:       subject.ID,
		OrganizationID: subject.OrganizationID,
		Before:         entityJSON(before),
		After:          entityJSON(after),
	}
	if err := tx.AppendAudit(ctx, e); err != nil {
		return fmt.Errorf("audit %s %s %s: %w", action, subject.Type, subject.ID, err)
	}
	recordChange(tx, Change{OrganizationID: subject.OrganizationID, ProjectID: subject.ProjectID(), Type: string(subject.Type), ID: subject.ID})
	return nil
}

// AuditLog returns the newest audit entries of an entity the actor can see.
func (s *Service) AuditLog(ctx context.Context, a *Actor, t domain.EntityType, id string, limit int) ([]*domain.AuditEntry, error) {
	e, err := s.getVisible(ctx, s.store, a, t, id)
	if err != nil {
		return nil, err
	}
	return s.store.ListAudit(ctx, store.AuditQuery{EntityID: e.ID, Limit: limit})
}
