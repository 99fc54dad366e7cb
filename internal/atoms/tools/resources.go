package tools

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/atomcp/atomcp/internal/atoms"
)

// matrixTemplate is the URI template of a project's traceability matrix.
const matrixTemplate = "atoms://projects/{project_id}/traceability-matrix"

// MatrixURI is the traceability matrix resource of a project.
func MatrixURI(projectID string) string {
	return "atoms://projects/" + url.PathEscape(projectID) + "/traceability-matrix"
}

// notifyMatrixChanges tells the sessions subscribed to a project's
// traceability matrix when something in the project changed, here or,
// with PostgreSQL, on another replica (internal/fanout delivers those).
func notifyMatrixChanges(s *mcp.Server, d Deps) {
	d.Service.OnChange(func(ctx context.Context, changes []atoms.Change) {
		seen := map[string]bool{}
		for _, c := range changes {
			if c.ProjectID == "" || seen[c.ProjectID] {
				continue
			}
			seen[c.ProjectID] = true
			if err := s.ResourceUpdated(ctx, &mcp.ResourceUpdatedNotificationParams{URI: MatrixURI(c.ProjectID)}); err != nil {
				d.Logger.Debug("resource update notification failed", "err", err)
			}
		}
	})
}

func registerResources(s *mcp.Server, d Deps) {
	notifyMatrixChanges(s, d)
	s.AddResourceTemplate(&mcp.ResourceTemplate{
		Name:        "traceability-matrix",
		Title:       "Traceability matrix of a project",
		Description: "A project's requirements and the tests that cover them, as a Markdown table. project_id is the project's id (or its name, URL-encoded).",
		URITemplate: matrixTemplate,
		MIMEType:    "text/markdown",
	}, func(ctx context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
		uri := req.Params.URI
		projectID, ok := strings.CutPrefix(uri, "atoms://projects/")
		if ok {
			projectID, ok = strings.CutSuffix(projectID, "/traceability-matrix")
		}
		if !ok || projectID == "" {
			return nil, mcp.ResourceNotFoundError(uri)
		}
		caller, err := d.Caller(ctx, &mcp.CallToolRequest{Session: req.Session, Extra: req.Extra})
		if err != nil {
			return nil, err
		}
		a, err := d.Service.Actor(ctx, caller)
		if err != nil {
			return nil, fmt.Errorf("resolve the caller: %w", err)
		}
		if projectID, err = url.PathUnescape(projectID); err != nil {
			return nil, mcp.ResourceNotFoundError(uri)
		}
		md, err := d.Service.TraceabilityMatrix(ctx, a, projectID)
		if err != nil {
			// Not found and ambiguity read the same to a client: no such resource.
			return nil, mcp.ResourceNotFoundError(uri)
		}
		return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: uri, MIMEType: "text/markdown", Text: md}}}, nil
	})
}
