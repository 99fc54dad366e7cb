package sqlcore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

// AppendAudit inserts e and sets e.ID to the id it was given; ids increase
// with every entry.
func (o Ops) AppendAudit(ctx context.Context, e *domain.AuditEntry) error {
	if e.Action == "" {
		return fmt.Errorf("append audit entry: %w: empty action", domain.ErrInvalid)
	}
	err := o.Conn.Write(ctx, func(q Querier) error {
		return q.QueryRow(ctx,
			`INSERT INTO audit_log (at, actor_id, action, entity_type, entity_id, organization_id, before_json, after_json)
			 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
			o.D.Time(e.At), e.ActorID, e.Action, string(e.EntityType), e.EntityID, e.OrganizationID,
			NullIfEmpty(e.Before), NullIfEmpty(e.After)).Scan(&e.ID)
	})
	if err != nil {
		return fmt.Errorf("append audit entry: %w", o.D.MapErr(err))
	}
	return nil
}

// ListAudit returns the entries that match q, newest (highest id) first.
func (o Ops) ListAudit(ctx context.Context, q store.AuditQuery) ([]*domain.AuditEntry, error) {
	var (
		conds []string
		p     Params
	)
	if q.EntityID != "" {
		conds = append(conds, "entity_id = "+p.Add(q.EntityID))
	}
	if q.OrganizationID != "" {
		conds = append(conds, "organization_id = "+p.Add(q.OrganizationID))
	}
	if q.OrganizationIDs != nil {
		if len(q.OrganizationIDs) == 0 {
			return nil, nil // scoped to no organization: nothing to see
		}
		ph := make([]string, len(q.OrganizationIDs))
		for i, id := range q.OrganizationIDs {
			ph[i] = p.Add(id)
		}
		conds = append(conds, "organization_id IN ("+strings.Join(ph, ", ")+")")
	}
	if q.ActorID != "" {
		conds = append(conds, "actor_id = "+p.Add(q.ActorID))
	}
	if q.Action != "" {
		conds = append(conds, "action = "+p.Add(q.Action))
	}
	if !q.Since.IsZero() {
		conds = append(conds, "at >= "+p.Add(o.D.Time(q.Since)))
	}
	if !q.Until.IsZero() {
		conds = append(conds, "at < "+p.Add(o.D.Time(q.Until)))
	}
	query := `SELECT id, at, actor_id, action, entity_type, entity_id, organization_id, before_json, after_json FROM audit_log`
	if len(conds) > 0 {
		query += " WHERE " + strings.Join(conds, " AND ")
	}
	query += " ORDER BY id DESC"
	switch {
	case q.Limit < 0:
		return nil, fmt.Errorf("list audit entries: %w: negative limit %d", domain.ErrInvalid, q.Limit)
	case q.Limit > 0:
		query += " LIMIT " + p.Add(q.Limit)
	}
	entries, err := queryAll(ctx, o.Read, func(row Row) (*domain.AuditEntry, error) {
		var (
			e             domain.AuditEntry
			before, after sql.NullString
		)
		err := row.Scan(&e.ID, o.D.ScanTime(&e.At), &e.ActorID, &e.Action, (*string)(&e.EntityType), &e.EntityID,
			&e.OrganizationID, &before, &after)
		e.Before, e.After = before.String, after.String
		return &e, err
	}, query, p...)
	if err != nil {
		return nil, fmt.Errorf("list audit entries: %w", err)
	}
	return entries, nil
}
