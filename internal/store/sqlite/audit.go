package sqlite

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
func (o ops) AppendAudit(ctx context.Context, e *domain.AuditEntry) error {
	if e.Action == "" {
		return fmt.Errorf("append audit entry: %w: empty action", domain.ErrInvalid)
	}
	res, err := o.write.ExecContext(ctx,
		`INSERT INTO audit_log (at, actor_id, action, entity_type, entity_id, organization_id, before_json, after_json)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		encodeTime(e.At), e.ActorID, e.Action, string(e.EntityType), e.EntityID, e.OrganizationID,
		nullIfEmpty(e.Before), nullIfEmpty(e.After))
	if err != nil {
		return fmt.Errorf("append audit entry: %w", mapErr(err))
	}
	id, err := res.LastInsertId()
	if err != nil {
		return fmt.Errorf("append audit entry: %w", err)
	}
	e.ID = id
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
		args  []any
	)
	if q.EntityID != "" {
		conds = append(conds, "entity_id = ?")
		args = append(args, q.EntityID)
	}
	if q.OrganizationID != "" {
		conds = append(conds, "organization_id = ?")
		args = append(args, q.OrganizationID)
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
		query += " LIMIT ?"
		args = append(args, q.Limit)
	}

	rows, err := o.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	entries := []*domain.AuditEntry{}
	for rows.Next() {
		var (
			e              domain.AuditEntry
			at, entityType string
			before, after  sql.NullString
		)
		if err := rows.Scan(&e.ID, &at, &e.ActorID, &e.Action, &entityType, &e.EntityID, &e.OrganizationID, &before, &after); err != nil {
			return nil, err
		}
		e.EntityType = domain.EntityType(entityType)
		e.Before, e.After = before.String, after.String
		if e.At, err = decodeTime(at); err != nil {
			return nil, err
		}
		entries = append(entries, &e)
	}
	return entries, rows.Err()
}
