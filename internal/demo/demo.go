// Package demo creates the small demo organization of `atomcp seed --demo`,
// so that a new user sees something real at once.
package demo

import (
	"context"
	"fmt"

	"github.com/atomcp/atomcp/internal/atoms"
	"github.com/atomcp/atomcp/internal/domain"
)

// OrganizationName is the demo organization's name; seeding twice finds it
// and does nothing.
const OrganizationName = "Acme Robotics (demo)"

// Result says what Seed created.
type Result struct {
	OrganizationID string
	Created        bool // false when the demo organization already existed
	Projects       int
	Documents      int
	Requirements   int
	Tests          int
	Links          int
}

type req struct{ ext, name, priority, status string }

var systemRequirements = []req{
	{"SYS-001", "Maximum payload of 2.5 kg", "high", "approved"},
	{"SYS-002", "Flight time of at least 35 minutes at full payload", "high", "active"},
	{"SYS-003", "Operate in winds up to 12 m/s", "medium", "active"},
	{"SYS-004", "Position accuracy within 0.5 m with RTK GPS", "high", "approved"},
	{"SYS-005", "Return to home when the battery falls below 20 %", "critical", "approved"},
	{"SYS-006", "Telemetry link range of 10 km line of sight", "medium", "active"},
	{"SYS-007", "Operating temperature from -10 °C to 45 °C", "medium", "draft"},
	{"SYS-008", "IP54 ingress protection", "low", "draft"},
	{"SYS-009", "Swap the battery in under 60 seconds", "low", "active"},
	{"SYS-010", "Log every flight to onboard storage for 30 days", "medium", "active"},
	{"SYS-011", "Over-the-air firmware updates, signed", "high", "active"},
	{"SYS-012", "Deliver to a marked pad with 1 m accuracy", "high", "active"},
}

var safetyRequirements = []req{
	{"SAF-001", "Geofence prevents flight over restricted zones", "critical", "approved"},
	{"SAF-002", "Obstacle detection stops forward flight within 5 m", "critical", "active"},
	{"SAF-003", "Loss of link triggers return to home after 10 s", "critical", "approved"},
	{"SAF-004", "Parachute deploys on a motor failure above 20 m", "critical", "draft"},
	{"SAF-005", "Propeller guards on every rotor", "high", "active"},
	{"SAF-006", "Audible warning before take-off", "medium", "active"},
	{"SAF-007", "Emergency stop from the ground station", "critical", "approved"},
	{"SAF-008", "Battery thermal runaway detection", "high", "draft"},
}

// tests, each with the requirements it verifies and how fully.
var tests = []struct {
	title, status string
	verifies      []string
	coverage      string
}{
	{"Payload flight test at 2.5 kg", "passed", []string{"SYS-001"}, "full"},
	{"Endurance flight at full payload", "pending", []string{"SYS-002"}, "full"},
	{"Wind tunnel test at 12 m/s", "failed", []string{"SYS-003"}, "partial"},
	{"Return-to-home on low battery", "passed", []string{"SYS-005"}, "full"},
	{"Geofence breach simulation", "passed", []string{"SAF-001"}, "full"},
	{"Link loss drill", "blocked", []string{"SAF-003", "SYS-006"}, "partial"},
}

// traces are derives_from links: safety requirements derived from system ones.
var traces = [][2]string{{"SAF-003", "SYS-006"}, {"SAF-001", "SYS-004"}, {"SYS-012", "SYS-004"}}

// Seed creates the demo organization for the actor, unless it exists.
func Seed(ctx context.Context, svc *atoms.Service, a *atoms.Actor) (*Result, error) {
	existing, err := svc.ListEntities(ctx, a, domain.Organization, atoms.ListParams{Filters: map[string]any{"name": OrganizationName}, Limit: 1})
	if err != nil {
		return nil, err
	}
	if len(existing.Items) > 0 {
		return &Result{OrganizationID: existing.Items[0].ID}, nil
	}
	org, err := svc.CreateEntity(ctx, a, domain.Organization, map[string]any{
		"name": OrganizationName, "type": "team",
		"description": "A demo organization: a delivery drone with its system and safety requirements.",
	})
	if err != nil {
		return nil, fmt.Errorf("create demo organization: %w", err)
	}
	res := &Result{OrganizationID: org.ID, Created: true}
	project, err := svc.CreateEntity(ctx, a, domain.Project, map[string]any{
		"organization_id": org.ID, "name": "Delivery Drone",
		"description": "Last-mile delivery drone, first release.",
	})
	if err != nil {
		return nil, fmt.Errorf("create demo project: %w", err)
	}
	res.Projects++
	byExternalID := map[string]string{}
	for _, doc := range []struct {
		name, description string
		reqs              []req
	}{
		{"System Requirements", "What the drone must do.", systemRequirements},
		{"Safety Requirements", "What the drone must never do.", safetyRequirements},
	} {
		d, err := svc.CreateEntity(ctx, a, domain.Document, map[string]any{"project_id": project.ID, "name": doc.name, "description": doc.description})
		if err != nil {
			return nil, fmt.Errorf("create demo document: %w", err)
		}
		res.Documents++
		batch := make([]map[string]any, len(doc.reqs))
		for i, r := range doc.reqs {
			batch[i] = map[string]any{"document_id": d.ID, "external_id": r.ext, "name": r.name, "priority": r.priority, "status": r.status}
		}
		created, err := svc.BatchCreate(ctx, a, domain.Requirement, batch)
		if err != nil {
			return nil, fmt.Errorf("create demo requirements: %w", err)
		}
		for _, r := range created {
			byExternalID[r.Str("external_id")] = r.ID
		}
		res.Requirements += len(created)
	}
	batch := make([]map[string]any, len(tests))
	for i, t := range tests {
		batch[i] = map[string]any{"project_id": project.ID, "title": t.title, "status": t.status}
	}
	created, err := svc.BatchCreate(ctx, a, domain.Test, batch)
	if err != nil {
		return nil, fmt.Errorf("create demo tests: %w", err)
	}
	res.Tests = len(created)
	req := func(ext string) atoms.EntityRef {
		return atoms.EntityRef{Type: domain.Requirement, ID: byExternalID[ext]}
	}
	for i, t := range tests {
		for _, ext := range t.verifies {
			if _, _, err := svc.Link(ctx, a, domain.RequirementTest, req(ext), atoms.EntityRef{Type: domain.Test, ID: created[i].ID}, atoms.LinkParams{LinkType: t.coverage}); err != nil {
				return nil, fmt.Errorf("link demo test: %w", err)
			}
			res.Links++
		}
	}
	for _, tr := range traces {
		if _, _, err := svc.Link(ctx, a, domain.TraceLink, req(tr[0]), req(tr[1]), atoms.LinkParams{LinkType: "derives_from"}); err != nil {
			return nil, fmt.Errorf("link demo requirements: %w", err)
		}
		res.Links++
	}
	return res, nil
}
