package sqlcore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/atomcp/atomcp/internal/domain"
)

// GetWorkspace returns the user's context, or one with only UserID set
// when none was stored.
func (o Ops) GetWorkspace(ctx context.Context, userID string) (*domain.WorkspaceContext, error) {
	var org, project, document sql.NullString
	w := &domain.WorkspaceContext{UserID: userID}
	err := o.Read.QueryRow(ctx,
		`SELECT organization_id, project_id, document_id, updated_at FROM workspace_contexts WHERE user_id = $1`,
		userID).Scan(&org, &project, &document, o.D.ScanTime(&w.UpdatedAt))
	if errors.Is(err, sql.ErrNoRows) {
		return &domain.WorkspaceContext{UserID: userID}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get workspace of user %q: %w", userID, err)
	}
	w.OrganizationID, w.ProjectID, w.DocumentID = org.String, project.String, document.String
	return w, nil
}

// PutWorkspace stores the user's context, replacing any previous one. An
// empty id clears that part; the others must name existing records.
func (o Ops) PutWorkspace(ctx context.Context, w *domain.WorkspaceContext) error {
	_, err := o.exec(ctx,
		`INSERT INTO workspace_contexts (user_id, organization_id, project_id, document_id, updated_at)
		 VALUES ($1, $2, $3, $4, $5)
		 ON CONFLICT (user_id) DO UPDATE SET organization_id = excluded.organization_id,
		   project_id = excluded.project_id, document_id = excluded.document_id, updated_at = excluded.updated_at`,
		w.UserID, NullIfEmpty(w.OrganizationID), NullIfEmpty(w.ProjectID), NullIfEmpty(w.DocumentID), o.D.Time(w.UpdatedAt))
	return wrapf(err, "put workspace of user %q", w.UserID)
}
