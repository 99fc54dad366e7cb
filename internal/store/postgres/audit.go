package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

// AppendAudit inserts e and sets e.ID to the id it was given; ids increase
// with every entry.
func (o ops) AppendAudit(ctx context.Context, e *domain.AuditEntry) error {
	if e.Action == "" {
		return fmt.Errorf("append audit entry: %w: empty action", domain.ErrInvalid)
	}
	err := o.write(ctx, func(q querier) error {
		return q.QueryRow(ctx,
			`INSERT INTO audit_log (at, actor_id, action, entity_type, entity_id, organization_id, before_json, after_json)
			 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
			e.At, e.ActorID, e.Action, string(e.EntityType), e.EntityID, e.OrganizationID,
			nullIfEmpty(e.Before), nullIfEmpty(e.After)).Scan(&e.ID)
	})
	if err != nil {
		return fmt.Errorf("append audit entry: %w", mapErr(err))
	}
	return nil
}

// ListAudit returns the entries that match q, newest (highest id) first.
func (o ops) ListAudit(ctx context.Context, q store.AuditQuery) ([]*domain.AuditEntry, error) {
	entries, err := o.listAudit(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("list audit entries: %w", err)
	}
	return entries, nil
}

func (o ops) listAudit(ctx context.Context, q store.AuditQuery) ([]*domain.AuditEntry, error) {
	var (
		conds []string
		p     params
	)
	if q.EntityID != "" {
		conds = append(conds, "entity_id = "+p.add(q.EntityID))
	}
	if q.OrganizationID != "" {
		conds = append(conds, "organization_id = "+p.add(q.OrganizationID))
	}
	query := `SELECT id, at, actor_id, action, entity_type, entity_id, organization_id, before_json, after_json FROM audit_log`
	if len(conds) > 0 {
		query += " WHERE " + strings.Join(conds, " AND ")
	}
	query += " ORDER BY id DESC"
	switch {
	case q.Limit < 0:
		return nil, fmt.Errorf("%w: negative limit %d", domain.ErrInvalid, q.Limit)
	case q.Limit > 0:
		query += " LIMIT " + p.add(q.Limit)
	}

	rows, err := o.q.Query(ctx, query, p...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	entries := []*domain.AuditEntry{}
	for rows.Next() {
		var (
			e             domain.AuditEntry
			entityType    string
			before, after pgtype.Text
		)
		if err := rows.Scan(&e.ID, &e.At, &e.ActorID, &e.Action, &entityType, &e.EntityID, &e.OrganizationID, &before, &after); err != nil {
			return nil, err
		}
		e.EntityType, e.At = domain.EntityType(entityType), e.At.UTC()
		e.Before, e.After = before.String, after.String
		entries = append(entries, &e)
	}
	return entries, rows.Err()
}
