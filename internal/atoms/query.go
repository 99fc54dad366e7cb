package atoms

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

// Scope narrows a query to an organization, project or document (each an
// id, a name or "auto"); the zero Scope is everything the actor can see.
type Scope struct {
	OrganizationID string
	ProjectID      string
	DocumentID     string
}

// resolvedScope is a Scope turned into ids the actor may see.
type resolvedScope struct {
	orgIDs    []string
	projectID string
	document  *domain.Entity
}

func (s *Service) resolveScope(ctx context.Context, a *Actor, sc Scope) (*resolvedScope, error) {
	r := &resolvedScope{orgIDs: a.OrganizationIDs()}
	if sc.DocumentID != "" {
		d, err := s.resolveLive(ctx, s.store, a, EntityRef{Type: domain.Document, ID: sc.DocumentID}, "document_id")
		if err != nil {
			return nil, err
		}
		r.document, r.projectID, r.orgIDs = d, d.Str("project_id"), []string{d.OrganizationID}
		return r, nil
	}
	if sc.ProjectID != "" {
		p, err := s.resolveLive(ctx, s.store, a, EntityRef{Type: domain.Project, ID: sc.ProjectID}, "project_id")
		if err != nil {
			return nil, err
		}
		r.projectID, r.orgIDs = p.ID, []string{p.OrganizationID}
		return r, nil
	}
	if sc.OrganizationID != "" {
		o, err := s.resolveLive(ctx, s.store, a, EntityRef{Type: domain.Organization, ID: sc.OrganizationID}, "organization_id")
		if err != nil {
			return nil, err
		}
		r.orgIDs = []string{o.ID}
	}
	return r, nil
}

// SearchParams is a full-text search.
type SearchParams struct {
	Text   string
	Types  []domain.EntityType
	Scope  Scope
	Limit  int
	Offset int
}

// Search runs a ranked full-text search over the actor's live entities.
func (s *Service) Search(ctx context.Context, a *Actor, p SearchParams) ([]store.SearchHit, int, error) {
	if strings.TrimSpace(p.Text) == "" {
		return nil, 0, fmt.Errorf("%w: search needs search_term: the words to look for", domain.ErrInvalid)
	}
	for _, t := range p.Types {
		if _, err := domain.KindOf(t); err != nil {
			return nil, 0, err
		}
	}
	if p.Limit == 0 {
		p.Limit = 20
	}
	if p.Limit < 0 || p.Limit > MaxPageSize || p.Offset < 0 {
		return nil, 0, fmt.Errorf("%w: limit must be 1..%d and offset not negative", domain.ErrInvalid, MaxPageSize)
	}
	sc, err := s.resolveScope(ctx, a, p.Scope)
	if err != nil {
		return nil, 0, err
	}
	if len(sc.orgIDs) == 0 {
		return []store.SearchHit{}, 0, nil
	}
	return s.store.SearchText(ctx, store.SearchQuery{Types: p.Types, OrganizationIDs: sc.orgIDs, ProjectID: sc.projectID, Text: searchTerms(p.Text), Limit: p.Limit, Offset: p.Offset})
}

// Bounds of one full-text search, so that its cost grows with the text
// given and no faster: every word becomes a prefix term that must occur,
// and the full-text engines' cost grows faster than the number of terms.
const (
	// MaxSearchTerms is how many distinct words are searched for; more
	// words only narrow the result further, so the rest are dropped.
	MaxSearchTerms = 32
	// MaxSearchWordChars is the longest word searched for; a longer one
	// is cut to its prefix (the term matches as a prefix anyway).
	MaxSearchWordChars = 64
)

// searchTerms reduces typed text to the words a full-text search needs:
// letters and digits (as the stores split them), each distinct word once
// (case-insensitively), at most MaxSearchTerms of them, each at most
// MaxSearchWordChars long.
func searchTerms(text string) string {
	seen := make(map[string]bool, MaxSearchTerms)
	var b strings.Builder
	for w := range strings.FieldsFuncSeq(text, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		if len(w) > MaxSearchWordChars {
			if r := []rune(w); len(r) > MaxSearchWordChars {
				w = string(r[:MaxSearchWordChars])
			}
		}
		key := strings.ToLower(w)
		if seen[key] {
			continue
		}
		seen[key] = true
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(w)
		if len(seen) == MaxSearchTerms {
			break
		}
	}
	return b.String()
}

// DefaultGroupBy are the fields aggregate counts by when none are named.
var DefaultGroupBy = []string{"status", "priority", "type"}

// Aggregate counts the actor's live entities of a type grouped by each
// field in groupBy (default: status, priority and type, where the kind has them).
func (s *Service) Aggregate(ctx context.Context, a *Actor, t domain.EntityType, groupBy []string, sc Scope) (map[string][]store.Count, int, error) {
	k, err := domain.KindOf(t)
	if err != nil {
		return nil, 0, err
	}
	if len(groupBy) == 0 {
		for _, f := range DefaultGroupBy {
			if _, ok := k.Field(f); ok {
				groupBy = append(groupBy, f)
			}
		}
	}
	for _, f := range groupBy {
		if fd, ok := k.Field(f); !ok || fd.Kind == domain.JSON || fd.Kind == domain.Text {
			return nil, 0, fmt.Errorf("%w: group_by %q is not a field of %s that can be counted; accepted: %s", domain.ErrInvalid, f, t, strings.Join(groupable(k), ", "))
		}
	}
	rs, err := s.resolveScope(ctx, a, sc)
	if err != nil {
		return nil, 0, err
	}
	out := map[string][]store.Count{}
	if len(rs.orgIDs) == 0 {
		return out, 0, nil
	}
	q := store.EntityQuery{Type: t, OrganizationIDs: rs.orgIDs, Equals: scopeFilter(k, rs)}
	total := 0
	for _, f := range groupBy {
		counts, err := s.store.CountBy(ctx, q, f)
		if err != nil {
			return nil, 0, err
		}
		out[f] = counts
		total = 0
		for _, c := range counts {
			total += c.N
		}
	}
	return out, total, nil
}

func groupable(k *domain.Kind) []string {
	var names []string
	for _, f := range k.Fields {
		if f.Kind != domain.JSON && f.Kind != domain.Text {
			names = append(names, f.Name)
		}
	}
	return names
}

// scopeFilter restricts a kind to the scope's project or document, where
// the kind has such a field.
func scopeFilter(k *domain.Kind, rs *resolvedScope) map[string]any {
	eq := map[string]any{}
	if rs.document != nil {
		if _, ok := k.Field("document_id"); ok {
			eq["document_id"] = rs.document.ID
			return eq
		}
	}
	if rs.projectID != "" {
		if k.Type == domain.Project {
			eq["id"] = rs.projectID
		} else if _, ok := k.Field("project_id"); ok {
			eq["project_id"] = rs.projectID
		}
	}
	return eq
}

// Coverage is the traceability analysis of a project or document.
type Coverage struct {
	Requirements            int           `json:"requirements"`
	Tests                   int           `json:"tests"`
	CoveredRequirements     int           `json:"covered_requirements"`
	CoveragePercent         float64       `json:"coverage_percent"`
	RequirementsWithoutTest []EntityBrief `json:"requirements_without_tests"`
	TestsWithoutRequirement []EntityBrief `json:"tests_without_requirements"`
	OrphanTraceLinks        []LinkResult  `json:"orphan_trace_links"`
}

// EntityBrief names an entity in analysis results.
type EntityBrief struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	ExternalID string `json:"external_id,omitempty"`
	Status     string `json:"status,omitempty"`
}

func brief(e *domain.Entity) EntityBrief {
	return EntityBrief{ID: e.ID, Name: e.Name(), ExternalID: e.Str("external_id"), Status: e.Str("status")}
}

// Analyze computes traceability coverage of a project or document: which
// requirements have no test (a requirement_test link with coverage other
// than none, to a live test), which tests cover no requirement, and which
// trace links lost an end.
func (s *Service) Analyze(ctx context.Context, a *Actor, sc Scope) (*Coverage, error) {
	if sc.ProjectID == "" && sc.DocumentID == "" {
		return nil, fmt.Errorf("%w: analyze needs a project_id or document_id (an id, a name or \"auto\")", domain.ErrInvalid)
	}
	rs, err := s.resolveScope(ctx, a, sc)
	if err != nil {
		return nil, err
	}
	reqKind, _ := domain.KindOf(domain.Requirement)
	reqs, err := s.store.ListEntities(ctx, store.EntityQuery{Type: domain.Requirement, OrganizationIDs: rs.orgIDs, Equals: scopeFilter(reqKind, rs)})
	if err != nil {
		return nil, err
	}
	tests, err := s.store.ListEntities(ctx, store.EntityQuery{Type: domain.Test, OrganizationIDs: rs.orgIDs, Equals: map[string]any{"project_id": rs.projectID}})
	if err != nil {
		return nil, err
	}
	// A test covers something when it is linked to a live requirement of
	// the project (for a document scope too: a test of another document's
	// requirement is not "without requirements").
	projectReqs := make(map[string]bool, len(reqs.Items))
	if rs.document != nil {
		all, err := s.store.ListEntities(ctx, store.EntityQuery{Type: domain.Requirement, OrganizationIDs: rs.orgIDs, Equals: map[string]any{"project_id": rs.projectID}})
		if err != nil {
			return nil, err
		}
		for _, r := range all.Items {
			projectReqs[r.ID] = true
		}
	} else {
		for _, r := range reqs.Items {
			projectReqs[r.ID] = true
		}
	}
	var links []*domain.Link
	if len(projectReqs) > 0 {
		links, err = s.store.ListLinks(ctx, store.LinkQuery{Kind: domain.RequirementTest, OrganizationIDs: rs.orgIDs, SourceIDs: keys(projectReqs)})
		if err != nil {
			return nil, err
		}
	}
	liveTests := make(map[string]bool, len(tests.Items))
	for _, t := range tests.Items {
		liveTests[t.ID] = true
	}
	coveredReq, coveringTest := map[string]bool{}, map[string]bool{}
	for _, l := range links {
		if l.LinkType == "none" || !liveTests[l.TargetID] {
			continue
		}
		coveredReq[l.SourceID] = true
		if projectReqs[l.SourceID] {
			coveringTest[l.TargetID] = true
		}
	}
	c := &Coverage{Requirements: len(reqs.Items), Tests: len(tests.Items), RequirementsWithoutTest: []EntityBrief{}, TestsWithoutRequirement: []EntityBrief{}, OrphanTraceLinks: []LinkResult{}}
	for _, r := range reqs.Items {
		if coveredReq[r.ID] {
			c.CoveredRequirements++
		} else {
			c.RequirementsWithoutTest = append(c.RequirementsWithoutTest, brief(r))
		}
	}
	for _, t := range tests.Items {
		if !coveringTest[t.ID] {
			c.TestsWithoutRequirement = append(c.TestsWithoutRequirement, brief(t))
		}
	}
	if c.Requirements > 0 {
		c.CoveragePercent = math.Round(float64(c.CoveredRequirements)/float64(c.Requirements)*1000) / 10
	}
	c.OrphanTraceLinks, err = s.orphanTraceLinks(ctx, rs, reqs.Items, tests.Items)
	return c, err
}

// orphanTraceLinks finds trace links of the scope with an end that was
// deleted (softly or for good). The scope's entities are read with the
// deleted ones, so that links to them are found through an index.
func (s *Service) orphanTraceLinks(ctx context.Context, rs *resolvedScope, reqs, tests []*domain.Entity) ([]LinkResult, error) {
	live := make(map[string]bool, len(reqs)+len(tests))
	for _, e := range reqs {
		live[e.ID] = true
	}
	for _, e := range tests {
		live[e.ID] = true
	}
	reqKind, _ := domain.KindOf(domain.Requirement)
	deletedReqs, err := s.store.ListEntities(ctx, store.EntityQuery{Type: domain.Requirement, OrganizationIDs: rs.orgIDs, Equals: scopeFilter(reqKind, rs), Deleted: store.OnlyDeleted})
	if err != nil {
		return nil, err
	}
	deletedTests, err := s.store.ListEntities(ctx, store.EntityQuery{Type: domain.Test, OrganizationIDs: rs.orgIDs, Equals: map[string]any{"project_id": rs.projectID}, Deleted: store.OnlyDeleted})
	if err != nil {
		return nil, err
	}
	ids := keys(live)
	for _, e := range append(deletedReqs.Items, deletedTests.Items...) {
		ids = append(ids, e.ID)
		live[e.ID] = false
	}
	if rs.document != nil {
		ids = append(ids, rs.document.ID)
		live[rs.document.ID] = true
	}
	out := []LinkResult{}
	if len(ids) == 0 {
		return out, nil
	}
	links, err := s.store.ListLinks(ctx, store.LinkQuery{Kind: domain.TraceLink, OrganizationIDs: rs.orgIDs, EntityIDs: ids, IncludeHidden: true})
	if err != nil {
		return nil, err
	}
	alive := func(t domain.EntityType, id string) (bool, error) {
		if ok, known := live[id]; known {
			return ok, nil
		}
		e, err := s.store.GetEntity(ctx, t, id)
		if errors.Is(err, domain.ErrNotFound) {
			live[id] = false
			return false, nil
		}
		if err != nil {
			return false, err
		}
		live[id] = !e.IsDeleted
		return !e.IsDeleted, nil
	}
	for _, l := range links {
		srcOK, err := alive(l.SourceType, l.SourceID)
		if err != nil {
			return nil, err
		}
		tgtOK, err := alive(l.TargetType, l.TargetID)
		if err != nil {
			return nil, err
		}
		if !srcOK || !tgtOK {
			out = append(out, FormatLink(l))
		}
	}
	return out, nil
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// Graph is the traceability graph around an entity.
type Graph struct {
	Root      string      `json:"root"`
	Depth     int         `json:"depth"`
	Nodes     []GraphNode `json:"nodes"`
	Edges     []GraphEdge `json:"edges"`
	Truncated bool        `json:"truncated,omitempty"`
}

// GraphNode is one entity of a graph.
type GraphNode struct {
	ID       string            `json:"id"`
	Type     domain.EntityType `json:"entity_type"`
	Name     string            `json:"name"`
	Status   string            `json:"status,omitempty"`
	Deleted  bool              `json:"deleted,omitempty"`
	Distance int               `json:"distance"`
}

// GraphEdge is one link of a graph.
type GraphEdge struct {
	ID       string `json:"id"`
	Source   string `json:"source"`
	Target   string `json:"target"`
	Kind     string `json:"relationship_type"`
	LinkType string `json:"link_type"`
}

// MaxGraphNodes bounds a relationships query.
const MaxGraphNodes = 500

// Relationships walks trace links and requirement-test links out from an
// entity, in both directions, up to depth hops.
func (s *Service) Relationships(ctx context.Context, a *Actor, ref EntityRef, depth int) (*Graph, error) {
	if depth == 0 {
		depth = 2
	}
	if depth < 1 || depth > 5 {
		return nil, fmt.Errorf("%w: depth %d; accepted: 1 to 5", domain.ErrInvalid, depth)
	}
	root, err := s.resolveLive(ctx, s.store, a, ref, "entity_id")
	if err != nil {
		return nil, err
	}
	g := &Graph{Root: root.ID, Depth: depth, Nodes: []GraphNode{}, Edges: []GraphEdge{}}
	seen := map[string]bool{root.ID: true}
	edgeSeen := map[string]bool{}
	g.Nodes = append(g.Nodes, GraphNode{ID: root.ID, Type: root.Type, Name: root.Name(), Status: root.Str("status"), Distance: 0})
	frontier := []*domain.Entity{root}
	org := []string{root.OrganizationID}
	for d := 1; d <= depth && len(frontier) > 0; d++ {
		var next []*domain.Entity
		for _, e := range frontier {
			for _, kind := range []domain.LinkKind{domain.TraceLink, domain.RequirementTest} {
				links, err := s.store.ListLinks(ctx, store.LinkQuery{Kind: kind, OrganizationIDs: org, EntityID: e.ID})
				if err != nil {
					return nil, err
				}
				for _, l := range links {
					if !edgeSeen[l.ID] {
						edgeSeen[l.ID] = true
						g.Edges = append(g.Edges, GraphEdge{ID: l.ID, Source: l.SourceID, Target: l.TargetID, Kind: string(kind), LinkType: l.LinkType})
					}
					otherID, otherType := l.TargetID, l.TargetType
					if otherID == e.ID {
						otherID, otherType = l.SourceID, l.SourceType
					}
					if seen[otherID] {
						continue
					}
					if len(g.Nodes) >= MaxGraphNodes {
						g.Truncated = true
						continue
					}
					seen[otherID] = true
					other, err := s.store.GetEntity(ctx, otherType, otherID)
					if errors.Is(err, domain.ErrNotFound) {
						g.Nodes = append(g.Nodes, GraphNode{ID: otherID, Type: otherType, Name: "(deleted)", Deleted: true, Distance: d})
						continue
					}
					if err != nil {
						return nil, err
					}
					g.Nodes = append(g.Nodes, GraphNode{ID: other.ID, Type: other.Type, Name: other.Name(), Status: other.Str("status"), Deleted: other.IsDeleted, Distance: d})
					if !other.IsDeleted {
						next = append(next, other)
					}
				}
			}
		}
		frontier = next
	}
	slices.SortStableFunc(g.Nodes, func(x, y GraphNode) int { return x.Distance - y.Distance })
	return g, nil
}
