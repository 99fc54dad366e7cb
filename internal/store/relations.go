package store

import (
	"context"

	"github.com/atomcp/atomcp/internal/domain"
)

// LinkQuery selects links of one kind. Every set field must match.
type LinkQuery struct {
	Kind domain.LinkKind
	// OrganizationIDs scopes the query; it must not be empty.
	OrganizationIDs []string
	// EntityID matches links with this id at either end.
	EntityID string
	SourceID string
	// EntityIDs matches links with any of these ids at either end.
	EntityIDs []string
	// SourceIDs matches links whose source is any of these.
	SourceIDs []string
	TargetID  string
	LinkType  string
	Limit     int // 0 means no limit
	// IncludeHidden also returns links with a soft-deleted end, which are
	// otherwise left out (an analysis of orphan links needs them).
	IncludeHidden bool
}

// Relations stores links between entities (trace links, requirement-test
// coverage, assignments).
type Relations interface {
	// CreateLink inserts l; a link with the same kind, ends and type
	// returns an error wrapping domain.ErrConflict.
	CreateLink(ctx context.Context, l *domain.Link) error
	// GetLink returns the link or domain.ErrNotFound.
	GetLink(ctx context.Context, kind domain.LinkKind, id string) (*domain.Link, error)
	// UpdateLink writes LinkType, Status, Description and the update columns.
	UpdateLink(ctx context.Context, l *domain.Link) error
	// DeleteLink removes the link for good.
	DeleteLink(ctx context.Context, kind domain.LinkKind, id string) error
	// ListLinks returns matching links, oldest first.
	ListLinks(ctx context.Context, q LinkQuery) ([]*domain.Link, error)
}
