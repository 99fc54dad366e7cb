package atoms

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

// testMatrixWorkflow: for every live requirement of a project or document
// that no live test covers, a test, linked to it with a requirement_test
// link.
func (s *Service) testMatrixWorkflow(params map[string]any) (func(r *wfRun) map[string]any, error) {
	p, err := newWFParams(WorkflowSetupTestMatrix, params, "project_id", "document_id", "coverage")
	if err != nil {
		return nil, err
	}
	if p.has("project_id") && p.has("document_id") {
		return nil, fmt.Errorf("%w: give parameters.project_id (every requirement of the project) or parameters.document_id (those of one document), not both", domain.ErrInvalid)
	}
	scopeType, scopeParam := domain.Project, "project_id"
	if p.has("document_id") {
		scopeType, scopeParam = domain.Document, "document_id"
	}
	scopeRef, err := p.str(scopeParam)
	if err != nil {
		return nil, err
	}
	if scopeRef == "" {
		scopeRef = AutoID
	}
	coverage, err := p.str("coverage")
	if err != nil {
		return nil, err
	}
	if coverage == "" {
		coverage = "full"
	}
	if !slices.Contains(domain.Coverages, coverage) {
		return nil, fmt.Errorf("%w: parameters.coverage %q; accepted: %s", domain.ErrInvalid, coverage, strings.Join(domain.Coverages, ", "))
	}

	return func(r *wfRun) map[string]any {
		var scope *domain.Entity
		var todo []*domain.Entity
		var total int
		if !r.step("find_untested_requirements", func(tx store.Ops) (map[string]any, error) {
			sc, err := r.resolveLiveIn(tx, scopeType, scopeRef, scopeParam)
			if err != nil {
				return nil, err
			}
			if err := r.a.requireWrite(sc.OrganizationID, "create tests"); err != nil {
				return nil, err
			}
			reqs, err := tx.ListEntities(r.ctx, store.EntityQuery{
				Type: domain.Requirement, OrganizationIDs: []string{sc.OrganizationID},
				Equals: map[string]any{scopeParam: sc.ID}, OrderBy: "created_at", Limit: MaxWorkflowItems + 1,
			})
			if err != nil {
				return nil, fmt.Errorf("list requirements: %w", err)
			}
			if len(reqs.Items) > MaxWorkflowItems {
				return nil, fmt.Errorf("%w: the %s %q has %d requirements; at most %d are handled per call; run the workflow per document", domain.ErrInvalid, sc.Type, sc.Name(), reqs.Total, MaxWorkflowItems)
			}
			var untested []*domain.Entity
			for _, req := range reqs.Items {
				has, err := r.hasLiveTest(tx, req)
				if err != nil {
					return nil, err
				}
				if !has {
					untested = append(untested, req)
				}
			}
			scope, todo, total = sc, untested, len(reqs.Items)
			return map[string]any{"scope": Format(sc, FormatSummary), "requirements": total, "without_tests": len(untested)}, nil
		}) {
			return nil
		}
		created := 0
		for _, req := range todo {
			if r.step("create_test_for "+requirementLabel(req), func(tx store.Ops) (map[string]any, error) {
				test, err := r.s.createIn(r.ctx, tx, r.a, domain.Test, map[string]any{
					"project_id":  req.Str("project_id"),
					"title":       testTitle(req),
					"description": fmt.Sprintf("Verifies requirement %s (%s). Created by workflow setup_test_matrix.", requirementLabel(req), req.ID),
					"priority":    req.Str("priority"),
				})
				if err != nil {
					return nil, err
				}
				l, err := r.s.linkIn(r.ctx, tx, r.a, domain.RequirementTest, req, test, coverage)
				if err != nil {
					return nil, fmt.Errorf("link the test to the requirement: %w", err)
				}
				return map[string]any{"requirement": Format(req, FormatSummary), "test": Format(test, FormatSummary), "link_id": l.ID, "coverage": l.LinkType}, nil
			}) {
				created++
			}
		}
		return map[string]any{
			"scope": Format(scope, FormatSummary), "coverage": coverage,
			"requirements": total, "already_tested": total - len(todo), "tests_created": created,
		}
	}, nil
}

// hasLiveTest reports whether a requirement_test link joins the
// requirement to a test that is not deleted: a deleted test covers nothing.
func (r *wfRun) hasLiveTest(tx store.Ops, req *domain.Entity) (bool, error) {
	links, err := tx.ListLinks(r.ctx, store.LinkQuery{Kind: domain.RequirementTest, OrganizationIDs: []string{req.OrganizationID}, SourceID: req.ID})
	if err != nil {
		return false, fmt.Errorf("list tests of requirement %s: %w", req.ID, err)
	}
	for _, l := range links {
		t, err := tx.GetEntity(r.ctx, domain.Test, l.TargetID)
		if errors.Is(err, domain.ErrNotFound) {
			continue // the link outlived its test; it covers nothing
		}
		if err != nil {
			return false, fmt.Errorf("load test %s: %w", l.TargetID, err)
		}
		if !t.IsDeleted {
			return true, nil
		}
	}
	return false, nil
}

func requirementLabel(req *domain.Entity) string {
	if ext := req.Str("external_id"); ext != "" {
		return ext
	}
	return fmt.Sprintf("%q", truncateRunes(req.Name(), 80))
}

// testTitle names a generated test after its requirement, within the 1000
// bytes a string field may hold.
func testTitle(req *domain.Entity) string {
	title := "Verify: " + req.Name()
	if ext := req.Str("external_id"); ext != "" {
		title = "Verify " + ext + ": " + req.Name()
	}
	const maxBytes = 1000
	if len(title) <= maxBytes {
		return title
	}
	cut := maxBytes - len("…")
	for cut > 0 && !utf8.RuneStart(title[cut]) {
		cut--
	}
	return title[:cut] + "…"
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
