package atoms

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

// TraceabilityMatrix renders a project's requirements and the tests that
// cover them as a Markdown table.
func (s *Service) TraceabilityMatrix(ctx context.Context, a *Actor, projectRef string) (string, error) {
	p, err := s.resolveLive(ctx, s.store, a, EntityRef{Type: domain.Project, ID: projectRef}, "project_id")
	if err != nil {
		return "", err
	}
	org := []string{p.OrganizationID}
	reqs, err := s.store.ListEntities(ctx, store.EntityQuery{Type: domain.Requirement, OrganizationIDs: org, Equals: map[string]any{"project_id": p.ID}, OrderBy: "external_id"})
	if err != nil {
		return "", err
	}
	tests, err := s.store.ListEntities(ctx, store.EntityQuery{Type: domain.Test, OrganizationIDs: org, Equals: map[string]any{"project_id": p.ID}})
	if err != nil {
		return "", err
	}
	links, err := s.store.ListLinks(ctx, store.LinkQuery{Kind: domain.RequirementTest, OrganizationIDs: org})
	if err != nil {
		return "", err
	}
	testByID := make(map[string]*domain.Entity, len(tests.Items))
	for _, t := range tests.Items {
		testByID[t.ID] = t
	}
	covering := map[string][]string{}
	for _, l := range links {
		if t, ok := testByID[l.TargetID]; ok {
			covering[l.SourceID] = append(covering[l.SourceID], fmt.Sprintf("%s (%s, %s)", cell(t.Name()), l.LinkType, t.Str("status")))
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Traceability matrix: %s\n\n", cell(p.Name()))
	covered := 0
	b.WriteString("| Requirement | Name | Status | Priority | Tests |\n|---|---|---|---|---|\n")
	for _, r := range reqs.Items {
		ts := covering[r.ID]
		sort.Strings(ts)
		testsCell := "—"
		if len(ts) > 0 {
			covered++
			testsCell = strings.Join(ts, "<br>")
		}
		id := r.Str("external_id")
		if id == "" {
			id = r.ID[:8]
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", cell(id), cell(r.Name()), r.Str("status"), r.Str("priority"), testsCell)
	}
	pct := 0.0
	if n := len(reqs.Items); n > 0 {
		pct = float64(covered) / float64(n) * 100
	}
	fmt.Fprintf(&b, "\n%d of %d requirements have a test (%.1f%%); %d tests in the project.\n", covered, len(reqs.Items), pct, len(tests.Items))
	return b.String(), nil
}

// cell keeps text from breaking a Markdown table row.
func cell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ").Replace(s)
}
