package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/atomcp/atomcp/internal/domain"
)

// GetWorkspace returns the user's context, or one with only UserID set
// when none was stored.
func (o ops) GetWorkspace(ctx context.Context, userID string) (*domain.WorkspaceContext, error) {
	var org, project, document pgtype.Text
	w := &domain.WorkspaceContext{UserID: userID}
	err := o.q.QueryRow(ctx,
		`SELECT organization_id, project_id, document_id, updated_at FROM workspace_contexts WHERE user_id = $1`,
		userID).Scan(&org, &project, &document, &w.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return &domain.WorkspaceContext{UserID: userID}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get workspace of user %q: %w", userID, err)
	}
	w.OrganizationID, w.ProjectID, w.DocumentID, w.UpdatedAt = org.String, project.String, document.String, w.UpdatedAt.UTC()
	return w, nil
}

// PutWorkspace stores the user's context, replacing any previous one. An
// empty id clears that part; the others must name existing records.
func (o ops) PutWorkspace(ctx context.Context, w *domain.WorkspaceContext) error {
	err := o.write(ctx, func(q querier) error {
		_, err := q.Exec(ctx,
			`INSERT INTO workspace_contexts (user_id, organization_id, project_id, document_id, updated_at)
			 VALUES ($1, $2, $3, $4, $5)
			 ON CONFLICT (user_id) DO UPDATE SET organization_id = excluded.organization_id,
			   project_id = excluded.project_id, document_id = excluded.document_id, updated_at = excluded.updated_at`,
			w.UserID, nullIfEmpty(w.OrganizationID), nullIfEmpty(w.ProjectID), nullIfEmpty(w.DocumentID), w.UpdatedAt)
		return err
	})
	if err != nil {
		return fmt.Errorf("put workspace of user %q: %w", w.UserID, mapErr(err))
	}
	return nil
}
