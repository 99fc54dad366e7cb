package domain

import "time"

// LinkKind names a kind of relationship between entities.
type LinkKind string

// Link kinds stored as links. Memberships and invitations have their own
// records (Membership, Invitation).
const (
	TraceLink       LinkKind = "trace_link"       // any two of requirement, test, document, block
	RequirementTest LinkKind = "requirement_test" // requirement → test, with coverage
	Assignment      LinkKind = "assignment"       // entity → user, with a role
)

// TraceLinkTypes are the accepted link_type values of a trace link.
var TraceLinkTypes = []string{"derives_from", "refines", "satisfies", "verifies", "relates_to", "depends_on", "conflicts_with", "implements"}

// Coverages are the accepted coverage values of a requirement_test link.
var Coverages = []string{"full", "partial", "none"}

// TraceableTypes are the entity types a trace link may join.
var TraceableTypes = []EntityType{Requirement, Test, Document, Block}

// Link is one relationship. Its meaning depends on Kind:
//
//	trace_link:       Source → Target, LinkType = link_type
//	requirement_test: Source = requirement, Target = test, LinkType = coverage, Status = status
//	assignment:       Source = the entity, Target = the user (TargetType "user"), LinkType = role
type Link struct {
	Kind           LinkKind
	ID             string
	OrganizationID string
	SourceType     EntityType
	SourceID       string
	TargetType     EntityType
	TargetID       string
	LinkType       string
	Status         string
	Description    string
	CreatedAt      time.Time
	UpdatedAt      time.Time
	CreatedBy      string
	UpdatedBy      string
}

// UserTarget is the TargetType of an assignment's user end.
const UserTarget EntityType = "user"
