package atoms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

// Relationship types of relationship_tool: the three link kinds plus
// organization membership and invitations.
const (
	RelMember     = "member"
	RelInvitation = "invitation"
)

// RelationshipTypes lists every relationship_type relationship_tool accepts.
var RelationshipTypes = []string{string(domain.TraceLink), string(domain.RequirementTest), string(domain.Assignment), RelMember, RelInvitation}

// EntityRef names an entity by type and id (or name, or "auto").
type EntityRef struct {
	Type domain.EntityType `json:"type"`
	ID   string            `json:"id"`
}

// LinkResult is a link as tools show it.
type LinkResult struct {
	ID          string         `json:"id"`
	Type        string         `json:"relationship_type"`
	Source      map[string]any `json:"source"`
	Target      map[string]any `json:"target"`
	LinkType    string         `json:"link_type,omitempty"`
	Coverage    string         `json:"coverage,omitempty"`
	Role        string         `json:"role,omitempty"`
	Status      string         `json:"status,omitempty"`
	Description string         `json:"description,omitempty"`
	CreatedAt   string         `json:"created_at"`
}

// FormatLink renders a link; names are looked up by the caller when wanted.
func FormatLink(l *domain.Link) LinkResult {
	r := LinkResult{
		ID: l.ID, Type: string(l.Kind), Status: l.Status, Description: l.Description,
		Source:    map[string]any{"type": string(l.SourceType), "id": l.SourceID},
		Target:    map[string]any{"type": string(l.TargetType), "id": l.TargetID},
		CreatedAt: l.CreatedAt.Format("2006-01-02T15:04:05Z07:00"),
	}
	switch l.Kind {
	case domain.TraceLink:
		r.LinkType = l.LinkType
	case domain.RequirementTest:
		r.Coverage = l.LinkType
	case domain.Assignment:
		r.Role = l.LinkType
	}
	return r
}

// linkEnds checks the entity types a link kind may join.
func linkEnds(kind domain.LinkKind, source, target domain.EntityType) error {
	switch kind {
	case domain.TraceLink:
		if !slices.Contains(domain.TraceableTypes, source) || !slices.Contains(domain.TraceableTypes, target) {
			return fmt.Errorf("%w: a trace_link joins two of requirement, test, document, block; got %s → %s", domain.ErrInvalid, source, target)
		}
	case domain.RequirementTest:
		if source != domain.Requirement || target != domain.Test {
			return fmt.Errorf("%w: a requirement_test link goes from a requirement (source) to a test (target); got %s → %s", domain.ErrInvalid, source, target)
		}
	case domain.Assignment:
	default:
		return fmt.Errorf("%w: relationship_type %q; accepted: %s", domain.ErrInvalid, kind, strings.Join(RelationshipTypes, ", "))
	}
	return nil
}

// checkLinkType validates and defaults the kind-specific type value.
func checkLinkType(kind domain.LinkKind, v string) (string, error) {
	switch kind {
	case domain.TraceLink:
		if v == "" {
			v = "relates_to"
		}
		if !slices.Contains(domain.TraceLinkTypes, v) {
			return "", fmt.Errorf("%w: link_type %q; accepted: %s", domain.ErrInvalid, v, strings.Join(domain.TraceLinkTypes, ", "))
		}
	case domain.RequirementTest:
		if v == "" {
			v = "full"
		}
		if !slices.Contains(domain.Coverages, v) {
			return "", fmt.Errorf("%w: coverage %q; accepted: %s", domain.ErrInvalid, v, strings.Join(domain.Coverages, ", "))
		}
	case domain.Assignment:
		if v == "" {
			v = "assignee"
		}
	}
	return v, nil
}

// resolveLive resolves an entity reference and refuses deleted entities.
func (s *Service) resolveLive(ctx context.Context, tx store.Ops, a *Actor, ref EntityRef, arg string) (*domain.Entity, error) {
	if _, err := domain.KindOf(ref.Type); err != nil {
		return nil, fmt.Errorf("%s.type: %w", arg, err)
	}
	id, err := s.expandAuto(ctx, tx, a, ref.Type, ref.ID)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", arg, err)
	}
	e, err := s.resolve(ctx, tx, a, ref.Type, id)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", arg, err)
	}
	if e.IsDeleted {
		return nil, fmt.Errorf("%w: %s: the %s %q is deleted; restore it first", domain.ErrInvalid, arg, e.Type, e.Name())
	}
	return e, nil
}

// LinkParams are the details of a new link.
type LinkParams struct {
	LinkType    string // trace_link: link_type; requirement_test: coverage; assignment: role
	Status      string
	Description string
}

// Link creates a link between two entities (or, for an assignment, an
// entity and a user given by id or email). A link that exists already is
// returned with created=false: linking is idempotent.
func (s *Service) Link(ctx context.Context, a *Actor, kind domain.LinkKind, source EntityRef, target EntityRef, p LinkParams) (link *domain.Link, created bool, err error) {
	err = s.inTxAs(ctx, a, func(tx store.Ops) error {
		src, err := s.resolveLive(ctx, tx, a, source, "source")
		if err != nil {
			return err
		}
		if kind == domain.Assignment {
			link, created, err = s.assignIn(ctx, tx, a, src, target.ID, p)
			return err
		}
		tgt, err := s.resolveLive(ctx, tx, a, target, "target")
		if err != nil {
			return err
		}
		link, created, err = s.linkEntitiesIn(ctx, tx, a, kind, src, tgt, p)
		return err
	})
	return link, created, err
}

// linkIn links two resolved entities inside a transaction (for workflows);
// an existing identical link is returned as is.
func (s *Service) linkIn(ctx context.Context, tx store.Ops, a *Actor, kind domain.LinkKind, source, target *domain.Entity, linkType string) (*domain.Link, error) {
	l, _, err := s.linkEntitiesIn(ctx, tx, a, kind, source, target, LinkParams{LinkType: linkType})
	return l, err
}

func (s *Service) linkEntitiesIn(ctx context.Context, tx store.Ops, a *Actor, kind domain.LinkKind, src, tgt *domain.Entity, p LinkParams) (*domain.Link, bool, error) {
	if err := linkEnds(kind, src.Type, tgt.Type); err != nil {
		return nil, false, err
	}
	linkType, err := checkLinkType(kind, p.LinkType)
	if err != nil {
		return nil, false, err
	}
	if src.ID == tgt.ID {
		return nil, false, fmt.Errorf("%w: an entity cannot be linked to itself", domain.ErrInvalid)
	}
	if src.OrganizationID != tgt.OrganizationID {
		return nil, false, fmt.Errorf("%w: source and target belong to different organizations; links stay within one organization", domain.ErrInvalid)
	}
	if err := a.requireWriteIn(src.OrganizationID, s.projectOf(ctx, tx, src), "link"); err != nil {
		return nil, false, err
	}
	q := store.LinkQuery{Kind: kind, OrganizationIDs: []string{src.OrganizationID}, SourceID: src.ID, TargetID: tgt.ID}
	if kind == domain.TraceLink {
		q.LinkType = linkType
	}
	existing, err := tx.ListLinks(ctx, q)
	if err != nil {
		return nil, false, err
	}
	if len(existing) > 0 {
		return existing[0], false, nil
	}
	if kind == domain.TraceLink && linkType == "derives_from" {
		if err := s.checkNoCycle(ctx, tx, src, tgt); err != nil {
			return nil, false, err
		}
	}
	now := s.now()
	l := &domain.Link{
		Kind: kind, ID: s.newID(), OrganizationID: src.OrganizationID,
		SourceType: src.Type, SourceID: src.ID, TargetType: tgt.Type, TargetID: tgt.ID,
		LinkType: linkType, Status: p.Status, Description: p.Description,
		CreatedAt: now, UpdatedAt: now, CreatedBy: a.User.ID, UpdatedBy: a.User.ID,
	}
	if err := tx.CreateLink(ctx, l); err != nil {
		return nil, false, err
	}
	return l, true, s.auditLink(ctx, tx, a.User.ID, "link", nil, l)
}

// checkNoCycle refuses source derives_from target when target already
// derives (transitively) from source.
//
// Two links created at once could each pass alone and close a cycle
// together: derives_from links of an organization are made one at a time
// (on every replica), the second seeing the first.
func (s *Service) checkNoCycle(ctx context.Context, tx store.Ops, src, tgt *domain.Entity) error {
	orgs := []string{src.OrganizationID, tgt.OrganizationID}
	slices.Sort(orgs)
	for _, org := range slices.Compact(orgs) {
		if err := tx.TxLock(ctx, derivesLock+org); err != nil {
			return err
		}
	}
	seen := map[string]bool{tgt.ID: true}
	frontier := []string{tgt.ID}
	for len(frontier) > 0 && len(seen) < 100000 {
		var next []string
		for _, id := range frontier {
			links, err := tx.ListLinks(ctx, store.LinkQuery{Kind: domain.TraceLink, OrganizationIDs: []string{src.OrganizationID}, SourceID: id, LinkType: "derives_from"})
			if err != nil {
				return err
			}
			for _, l := range links {
				if l.TargetID == src.ID {
					return fmt.Errorf("%w: this derives_from link would make a cycle: %s %q already derives from %s %q", domain.ErrInvalid, tgt.Type, tgt.Name(), src.Type, src.Name())
				}
				if !seen[l.TargetID] {
					seen[l.TargetID] = true
					next = append(next, l.TargetID)
				}
			}
		}
		frontier = next
	}
	return nil
}

// assignIn gives a user (id or email; they must be a member of the
// entity's organization) a role on an entity.
func (s *Service) assignIn(ctx context.Context, tx store.Ops, a *Actor, e *domain.Entity, userRef string, p LinkParams) (*domain.Link, bool, error) {
	if err := a.requireWriteIn(e.OrganizationID, s.projectOf(ctx, tx, e), "assign"); err != nil {
		return nil, false, err
	}
	user, err := s.memberUser(ctx, tx, e.OrganizationID, userRef, "target")
	if err != nil {
		return nil, false, err
	}
	role, _ := checkLinkType(domain.Assignment, p.LinkType)
	existing, err := tx.ListLinks(ctx, store.LinkQuery{Kind: domain.Assignment, OrganizationIDs: []string{e.OrganizationID}, SourceID: e.ID, TargetID: user.ID, LinkType: role})
	if err != nil {
		return nil, false, err
	}
	if len(existing) > 0 {
		return existing[0], false, nil
	}
	now := s.now()
	l := &domain.Link{Kind: domain.Assignment, ID: s.newID(), OrganizationID: e.OrganizationID,
		SourceType: e.Type, SourceID: e.ID, TargetType: domain.UserTarget, TargetID: user.ID, LinkType: role,
		CreatedAt: now, UpdatedAt: now, CreatedBy: a.User.ID, UpdatedBy: a.User.ID}
	if err := tx.CreateLink(ctx, l); err != nil {
		return nil, false, err
	}
	return l, true, s.auditLink(ctx, tx, a.User.ID, "link", nil, l)
}

// memberUser finds a user by id or email among an organization's members.
func (s *Service) memberUser(ctx context.Context, tx store.Ops, orgID, ref, arg string) (*domain.User, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return nil, fmt.Errorf("%w: %s.id: a user id or email is required", domain.ErrInvalid, arg)
	}
	var candidates []*domain.User
	if strings.Contains(ref, "@") {
		users, err := tx.FindUsersByEmail(ctx, ref)
		if err != nil {
			return nil, err
		}
		candidates = users
	} else if u, err := tx.GetUser(ctx, ref); err == nil {
		candidates = []*domain.User{u}
	} else if !errors.Is(err, domain.ErrNotFound) {
		return nil, err
	}
	for _, u := range candidates {
		if _, err := tx.GetMember(ctx, orgID, u.ID); err == nil {
			return u, nil
		}
	}
	return nil, fmt.Errorf("%s: no member of this organization is %q (invite them first with relationship_type invitation): %w", arg, ref, domain.ErrNotFound)
}

// visibleLink loads a link of an organization the actor belongs to.
func (s *Service) visibleLink(ctx context.Context, tx store.Ops, a *Actor, kind domain.LinkKind, id string) (*domain.Link, error) {
	l, err := tx.GetLink(ctx, kind, id)
	if err != nil {
		return nil, err
	}
	if !a.canSee(l.OrganizationID) {
		return nil, fmt.Errorf("%s %q: %w", kind, id, domain.ErrNotFound)
	}
	return l, nil
}

// findLink finds the link by id, or by its two ends.
func (s *Service) findLink(ctx context.Context, tx store.Ops, a *Actor, kind domain.LinkKind, linkID string, source, target EntityRef, linkType string) (*domain.Link, error) {
	if linkID != "" {
		return s.visibleLink(ctx, tx, a, kind, linkID)
	}
	if source.ID == "" || target.ID == "" {
		return nil, fmt.Errorf("%w: name the link by link_id, or by source and target", domain.ErrInvalid)
	}
	src, err := s.resolveLive(ctx, tx, a, source, "source")
	if err != nil {
		return nil, err
	}
	targetID := target.ID
	if kind == domain.Assignment {
		u, err := s.memberUser(ctx, tx, src.OrganizationID, target.ID, "target")
		if err != nil {
			return nil, err
		}
		targetID = u.ID
	} else {
		tgt, err := s.resolveLive(ctx, tx, a, target, "target")
		if err != nil {
			return nil, err
		}
		targetID = tgt.ID
	}
	links, err := tx.ListLinks(ctx, store.LinkQuery{Kind: kind, OrganizationIDs: []string{src.OrganizationID}, SourceID: src.ID, TargetID: targetID, LinkType: linkType})
	if err != nil {
		return nil, err
	}
	if len(links) == 0 {
		return nil, fmt.Errorf("no %s from %s to %s: %w", kind, source.ID, target.ID, domain.ErrNotFound)
	}
	return links[0], nil
}

// Unlink removes a link given by id or by its ends.
func (s *Service) Unlink(ctx context.Context, a *Actor, kind domain.LinkKind, linkID string, source, target EntityRef, linkType string) (*domain.Link, error) {
	var removed *domain.Link
	err := s.inTxAs(ctx, a, func(tx store.Ops) error {
		l, err := s.findLink(ctx, tx, a, kind, linkID, source, target, linkType)
		if err != nil {
			return err
		}
		if err := a.requireWrite(l.OrganizationID, "unlink"); err != nil {
			return err
		}
		if err := tx.DeleteLink(ctx, kind, l.ID); err != nil {
			return err
		}
		removed = l
		return s.auditLink(ctx, tx, a.User.ID, "unlink", l, nil)
	})
	return removed, err
}

// CheckLink reports whether a link exists between two entities.
func (s *Service) CheckLink(ctx context.Context, a *Actor, kind domain.LinkKind, source, target EntityRef, linkType string) (*domain.Link, error) {
	l, err := s.findLink(ctx, s.store, a, kind, "", source, target, linkType)
	if errors.Is(err, domain.ErrNotFound) && !strings.Contains(err.Error(), "source:") && !strings.Contains(err.Error(), "target:") {
		return nil, nil
	}
	return l, err
}

// UpdateLink changes a link's type (coverage, role), status or description.
func (s *Service) UpdateLink(ctx context.Context, a *Actor, kind domain.LinkKind, linkID string, source, target EntityRef, p LinkParams) (*domain.Link, error) {
	var updated *domain.Link
	err := s.inTxAs(ctx, a, func(tx store.Ops) error {
		before, err := s.findLink(ctx, tx, a, kind, linkID, source, target, "")
		if err != nil {
			return err
		}
		if err := a.requireWrite(before.OrganizationID, "update a link"); err != nil {
			return err
		}
		after := *before
		if p.LinkType != "" {
			if after.LinkType, err = checkLinkType(kind, p.LinkType); err != nil {
				return err
			}
		}
		if p.Status != "" {
			after.Status = p.Status
		}
		if p.Description != "" {
			after.Description = p.Description
		}
		after.UpdatedAt, after.UpdatedBy = s.now(), a.User.ID
		if err := tx.UpdateLink(ctx, &after); err != nil {
			return err
		}
		updated = &after
		return s.auditLink(ctx, tx, a.User.ID, "update_link", before, &after)
	})
	return updated, err
}

// ListLinks lists the links of a kind around an entity (or all the
// actor's, when entity is empty).
func (s *Service) ListLinks(ctx context.Context, a *Actor, kind domain.LinkKind, entity EntityRef, linkType string, limit int) ([]*domain.Link, error) {
	if !slices.Contains([]domain.LinkKind{domain.TraceLink, domain.RequirementTest, domain.Assignment}, kind) {
		return nil, fmt.Errorf("%w: relationship_type %q; accepted: %s", domain.ErrInvalid, kind, strings.Join(RelationshipTypes, ", "))
	}
	q := store.LinkQuery{Kind: kind, LinkType: linkType, Limit: limit}
	if entity.ID != "" {
		e, err := s.resolveLive(ctx, s.store, a, entity, "source")
		if err != nil {
			return nil, err
		}
		q.EntityID, q.OrganizationIDs = e.ID, []string{e.OrganizationID}
	} else {
		q.OrganizationIDs = a.OrganizationIDs()
	}
	if len(q.OrganizationIDs) == 0 {
		return []*domain.Link{}, nil
	}
	return s.store.ListLinks(ctx, q)
}

func (s *Service) auditLink(ctx context.Context, tx store.Ops, actorID, action string, before, after *domain.Link) error {
	subject := after
	if subject == nil {
		subject = before
	}
	enc := func(l *domain.Link) string {
		if l == nil {
			return ""
		}
		b, _ := json.Marshal(FormatLink(l))
		return string(b)
	}
	if err := tx.AppendAudit(ctx, &domain.AuditEntry{
		At: s.now(), ActorID: actorID, Action: action,
		EntityType: domain.EntityType(subject.Kind), EntityID: subject.ID, OrganizationID: subject.OrganizationID,
		Before: enc(before), After: enc(after),
	}); err != nil {
		return err
	}
	change := Change{OrganizationID: subject.OrganizationID, Type: string(subject.Kind), ID: subject.ID}
	if src, err := tx.GetEntity(ctx, subject.SourceType, subject.SourceID); err == nil {
		change.ProjectID = src.ProjectID()
	}
	recordChange(tx, change)
	return nil
}
