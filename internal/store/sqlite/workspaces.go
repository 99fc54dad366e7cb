package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/atomcp/atomcp/internal/domain"
)

// GetWorkspace returns the user's context, or one with only UserID set
// when none was stored.
func (o ops) GetWorkspace(ctx context.Context, userID string) (*domain.WorkspaceContext, error) {
	var (
		org, project, document sql.NullString
		updatedAt              string
	)
	err := o.read.QueryRowContext(ctx,
		`SELECT organization_id, project_id, document_id, updated_at FROM workspace_contexts WHERE user_id = ?`,
		userID).Scan(&org, &project, &document, &updatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return &domain.WorkspaceContext{UserID: userID}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get workspace of user %q: %w", userID, err)
	}
	w := &domain.WorkspaceContext{
		UserID:         userID,
		OrganizationID: org.String,
		ProjectID:      project.String,
		DocumentID:     document.String,
	}
	if w.UpdatedAt, err = decodeTime(updatedAt); err != nil {
		return nil, fmt.Errorf("get workspace of user %q: %w", userID, err)
	}
	return w, nil
}

// PutWorkspace stores the user's context, replacing any previous one. An
// empty id clears that part; the others must name existing records.
func (o ops) PutWorkspace(ctx context.Context, w *domain.WorkspaceContext) error {
	_, err := o.write.ExecContext(ctx,
		`INSERT INTO workspace_contexts (user_id, organization_id, project_id, document_id, updated_at)
		 VALUES (?, ?, ?, ?, ?)
		 ON CONFLICT (user_id) DO UPDATE SET organization_id = excluded.organization_id,
		   project_id = excluded.project_id, document_id = excluded.document_id, updated_at = excluded.updated_at`,
		w.UserID, nullIfEmpty(w.OrganizationID), nullIfEmpty(w.ProjectID), nullIfEmpty(w.DocumentID),
		encodeTime(w.UpdatedAt))
	if err != nil {
		return fmt.Errorf("put workspace of user %q: %w", w.UserID, mapErr(err))
	}
	return nil
}
