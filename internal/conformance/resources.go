package conformance

import (
	"context"
	"fmt"
	"regexp"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/atomcp/atomcp/internal/mcpserver"
)

// WatchedResource is the resource whose subscribers the fixture notifies
// every few seconds (resources-subscribe, resources-unsubscribe).
const WatchedResource = "test://watched-resource"

const templateURI = "test://template/{id}/data"

var templateID = regexp.MustCompile(`^test://template/([^/]+)/data$`)

func registerResources(s *mcp.Server, c *mcpserver.Completions) {
	s.AddResource(&mcp.Resource{Name: "static-text", URI: "test://static-text", MIMEType: "text/plain", Description: "A static text resource"},
		func(_ context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
			return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{
				URI: req.Params.URI, MIMEType: "text/plain", Text: "This is the content of the static text resource.",
			}}}, nil
		})

	s.AddResource(&mcp.Resource{Name: "static-binary", URI: "test://static-binary", MIMEType: "image/png", Description: "A static binary resource (a 1x1 PNG)"},
		func(_ context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
			return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{
				URI: req.Params.URI, MIMEType: "image/png", Blob: pngData,
			}}}, nil
		})

	s.AddResourceTemplate(&mcp.ResourceTemplate{Name: "template", URITemplate: templateURI, MIMEType: "application/json", Description: "JSON data for any id"},
		func(_ context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
			m := templateID.FindStringSubmatch(req.Params.URI)
			if m == nil {
				return nil, mcp.ResourceNotFoundError(req.Params.URI)
			}
			return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{
				URI: req.Params.URI, MIMEType: "application/json",
				Text: fmt.Sprintf(`{"id":%q,"templateTest":true,"data":"Data for ID: %s"}`, m[1], m[1]),
			}}}, nil
		})
	c.ResourceTemplate(templateURI, "id", mcpserver.OneOf("123", "456", "789"))

	s.AddResource(&mcp.Resource{Name: "watched-resource", URI: WatchedResource, MIMEType: "text/plain", Description: "A resource whose subscribers are told it changed every few seconds"},
		func(_ context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
			return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{
				URI: req.Params.URI, MIMEType: "text/plain", Text: "Watched resource content at " + time.Now().UTC().Format(time.RFC3339),
			}}}, nil
		})
}

// NotifyWatched tells the subscribers of WatchedResource that it changed,
// every interval, until ctx ends.
func NotifyWatched(ctx context.Context, s *mcp.Server, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_ = s.ResourceUpdated(ctx, &mcp.ResourceUpdatedNotificationParams{URI: WatchedResource})
		}
	}
}
