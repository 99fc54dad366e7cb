package atoms

import (
	"context"
	"fmt"
	"sort"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

// expandAuto replaces the reference "auto" with the id of the matching
// entity in the actor's workspace context. Other references pass through.
func (s *Service) expandAuto(ctx context.Context, tx store.Ops, a *Actor, t domain.EntityType, ref string) (string, error) {
	if ref != AutoID {
		return ref, nil
	}
	w, err := tx.GetWorkspace(ctx, a.User.ID)
	if err != nil {
		return "", fmt.Errorf("load workspace context: %w", err)
	}
	var id string
	switch t {
	case domain.Organization:
		id = w.OrganizationID
	case domain.Project:
		id = w.ProjectID
	case domain.Document:
		id = w.DocumentID
	default:
		return "", fmt.Errorf("%w: \"auto\" stands only for an organization, project or document id", domain.ErrInvalid)
	}
	if id == "" {
		return "", fmt.Errorf("%w: \"auto\" needs a current %s; set one with workspace_tool operation set_context (context_type %q)", domain.ErrInvalid, t, t)
	}
	return id, nil
}

// ContextEntry is one level of the workspace context.
type ContextEntry struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Workspace is a user's workspace context with names, for display.
type Workspace struct {
	Organization *ContextEntry `json:"organization"`
	Project      *ContextEntry `json:"project"`
	Document     *ContextEntry `json:"document"`
}

// GetContext returns the actor's workspace context. Entries that have since
// been deleted, or that the actor can no longer see, are left out.
func (s *Service) GetContext(ctx context.Context, a *Actor) (*Workspace, error) {
	w, err := s.store.GetWorkspace(ctx, a.User.ID)
	if err != nil {
		return nil, fmt.Errorf("load workspace context: %w", err)
	}
	out := &Workspace{}
	out.Organization = s.contextEntry(ctx, a, domain.Organization, w.OrganizationID)
	out.Project = s.contextEntry(ctx, a, domain.Project, w.ProjectID)
	out.Document = s.contextEntry(ctx, a, domain.Document, w.DocumentID)
	return out, nil
}

func (s *Service) contextEntry(ctx context.Context, a *Actor, t domain.EntityType, id string) *ContextEntry {
	if id == "" {
		return nil
	}
	e, err := s.getVisible(ctx, s.store, a, t, id)
	if err != nil || e.IsDeleted {
		return nil
	}
	return &ContextEntry{ID: e.ID, Name: e.Name()}
}

// SetContext makes an organization, project or document current. Choosing
// a project also makes its organization current (and clears the document
// unless it belongs to that project); choosing a document sets all three.
func (s *Service) SetContext(ctx context.Context, a *Actor, t domain.EntityType, ref string) (*Workspace, error) {
	switch t {
	case domain.Organization, domain.Project, domain.Document:
	default:
		return nil, fmt.Errorf("%w: context_type %q; accepted: organization, project, document", domain.ErrInvalid, t)
	}
	e, err := s.resolve(ctx, s.store, a, t, ref)
	if err != nil {
		return nil, err
	}
	if e.IsDeleted {
		return nil, fmt.Errorf("%w: the %s %q is deleted", domain.ErrInvalid, t, e.Name())
	}
	if _, err := s.putContextIn(ctx, s.store, a, e); err != nil {
		return nil, err
	}
	return s.GetContext(ctx, a)
}

// putContextIn makes a live organization, project or document the actor's
// current one (with the rules of SetContext) and returns the stored context.
func (s *Service) putContextIn(ctx context.Context, tx store.Ops, a *Actor, e *domain.Entity) (*domain.WorkspaceContext, error) {
	w, err := tx.GetWorkspace(ctx, a.User.ID)
	if err != nil {
		return nil, fmt.Errorf("load workspace context: %w", err)
	}
	switch e.Type {
	case domain.Organization:
		if w.OrganizationID != e.ID {
			w.ProjectID, w.DocumentID = "", ""
		}
		w.OrganizationID = e.ID
	case domain.Project:
		if w.ProjectID != e.ID {
			w.DocumentID = ""
		}
		w.OrganizationID, w.ProjectID = e.OrganizationID, e.ID
	case domain.Document:
		w.OrganizationID, w.ProjectID, w.DocumentID = e.OrganizationID, e.Str("project_id"), e.ID
	default:
		return nil, fmt.Errorf("%w: a %s cannot be the workspace context", domain.ErrInvalid, e.Type)
	}
	w.UserID, w.UpdatedAt = a.User.ID, s.now()
	if err := tx.PutWorkspace(ctx, w); err != nil {
		return nil, fmt.Errorf("save workspace context: %w", err)
	}
	return w, nil
}

// WorkspaceSummary is one organization the actor belongs to, with its projects.
type WorkspaceSummary struct {
	ID       string         `json:"id"`
	Name     string         `json:"name"`
	Slug     string         `json:"slug"`
	Type     string         `json:"type"`
	Role     domain.Role    `json:"role"`
	Projects []ContextEntry `json:"projects"`
}

// ListWorkspaces lists the actor's organizations and their live projects.
func (s *Service) ListWorkspaces(ctx context.Context, a *Actor) ([]WorkspaceSummary, error) {
	out := []WorkspaceSummary{}
	orgs := a.OrganizationIDs()
	if len(orgs) == 0 {
		return out, nil
	}
	orgPage, err := s.store.ListEntities(ctx, store.EntityQuery{Type: domain.Organization, OrganizationIDs: orgs, OrderBy: "name"})
	if err != nil {
		return nil, fmt.Errorf("list organizations: %w", err)
	}
	projPage, err := s.store.ListEntities(ctx, store.EntityQuery{Type: domain.Project, OrganizationIDs: orgs, OrderBy: "name"})
	if err != nil {
		return nil, fmt.Errorf("list projects: %w", err)
	}
	byOrg := map[string][]ContextEntry{}
	for _, p := range projPage.Items {
		byOrg[p.OrganizationID] = append(byOrg[p.OrganizationID], ContextEntry{ID: p.ID, Name: p.Name()})
	}
	for _, o := range orgPage.Items {
		role, _ := a.Role(o.ID)
		projects := byOrg[o.ID]
		if projects == nil {
			projects = []ContextEntry{}
		}
		out = append(out, WorkspaceSummary{ID: o.ID, Name: o.Name(), Slug: o.Str("slug"), Type: o.Str("type"), Role: role, Projects: projects})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Type == "personal" && out[j].Type != "personal" })
	return out, nil
}

// FieldInfo describes a field for get_defaults, so that a model knows what
// it may send without trial and error.
type FieldInfo struct {
	Name        string   `json:"name"`
	Type        string   `json:"type"`
	Required    bool     `json:"required,omitempty"`
	Default     any      `json:"default,omitempty"`
	Accepted    []string `json:"accepted,omitempty"`
	Generated   bool     `json:"generated,omitempty"`
	Description string   `json:"description,omitempty"`
}

// Defaults is the answer of get_defaults.
type Defaults struct {
	Context  *Workspace             `json:"context"`
	Entities map[string][]FieldInfo `json:"entities"`
}

// GetDefaults returns the workspace context and, per entity type, its
// fields with their defaults and accepted values.
func (s *Service) GetDefaults(ctx context.Context, a *Actor) (*Defaults, error) {
	w, err := s.GetContext(ctx, a)
	if err != nil {
		return nil, err
	}
	d := &Defaults{Context: w, Entities: map[string][]FieldInfo{}}
	for _, k := range domain.Kinds() {
		for _, f := range k.Fields {
			d.Entities[string(k.Type)] = append(d.Entities[string(k.Type)], FieldInfo{
				Name: f.Name, Type: f.Kind.String(), Required: f.Required, Default: f.Default,
				Accepted: f.Enum, Generated: f.Generated, Description: f.Description,
			})
		}
	}
	return d, nil
}
