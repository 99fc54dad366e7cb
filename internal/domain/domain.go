// Package domain is the vocabulary of the Atoms data model shared by the
// service layer and every store backend: entity kinds and their fields,
// membership roles, and the records that are persisted.
package domain

import (
	"errors"
	"time"
)

// Sentinel errors that callers branch on. Stores and the service layer wrap
// them with context; use errors.Is to test.
var (
	// ErrNotFound means the record does not exist, or exists in an
	// organization the caller may not see (so ids do not leak).
	ErrNotFound = errors.New("not found")
	// ErrConflict means a uniqueness rule was violated.
	ErrConflict = errors.New("conflict")
	// ErrForbidden means the caller can see the record but may not do this.
	ErrForbidden = errors.New("forbidden")
	// ErrInvalid means the input was malformed; the message says how.
	ErrInvalid = errors.New("invalid input")
	// ErrUnavailable means the database could not be reached or did not
	// answer in time (a restart, a crash, a stalled network): the caller
	// may retry. Whether a write that failed this way was done is unknown
	// unless the message says so.
	ErrUnavailable = errors.New("database unavailable")
)

// Role is a membership role inside an organization or project.
type Role string

// The membership roles, from most to least powerful.
const (
	RoleOwner  Role = "owner"
	RoleAdmin  Role = "admin"
	RoleMember Role = "member"
	RoleViewer Role = "viewer"
)

// Roles lists every valid role, for schemas and error messages.
var Roles = []string{string(RoleOwner), string(RoleAdmin), string(RoleMember), string(RoleViewer)}

// CanWrite reports whether the role may change data.
func (r Role) CanWrite() bool { return r == RoleOwner || r == RoleAdmin || r == RoleMember }

// CanManageMembers reports whether the role may add or remove members.
func (r Role) CanManageMembers() bool { return r == RoleOwner || r == RoleAdmin }

// Valid reports whether r is one of the defined roles.
func (r Role) Valid() bool {
	switch r {
	case RoleOwner, RoleAdmin, RoleMember, RoleViewer:
		return true
	}
	return false
}

// User is a person known to the server, keyed by the (issuer, subject) of
// their verified token.
type User struct {
	ID        string
	Issuer    string
	Subject   string
	Email     string
	Name      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Membership ties a user to an organization with a role.
type Membership struct {
	OrganizationID string
	UserID         string
	Role           Role
	Status         string // "active"
	CreatedAt      time.Time
}

// ProjectMembership is a user's role in one project (the Atoms data
// model's project_members). The user is a member of the project's
// organization; the project role narrows or widens what they may change
// in that project (see atoms.Actor).
type ProjectMembership struct {
	ProjectID      string
	OrganizationID string
	UserID         string
	Role           Role
	Status         string // "active"
	CreatedAt      time.Time
}

// Invitation invites an email address into an organization.
type Invitation struct {
	ID             string    `json:"id"`
	OrganizationID string    `json:"organization_id"`
	Email          string    `json:"email"`
	Role           Role      `json:"role"`
	Status         string    `json:"status"` // "pending", "accepted", "declined", "revoked"
	InvitedBy      string    `json:"invited_by"`
	CreatedAt      time.Time `json:"created_at"`
	// UserID names the invited user when the inviter named a known user
	// by id: Email is then that user's email, which the service does not
	// show to the inviter.
	UserID string `json:"user_id,omitempty"`
	// TokenHash is the hash of the invitation link's secret ("" for none);
	// the secret itself is shown once, to the inviter.
	TokenHash string `json:"-"`
}

// WorkspaceContext is a user's current organization, project and document,
// kept in the database so it survives restarts and is shared by replicas.
type WorkspaceContext struct {
	UserID         string
	OrganizationID string
	ProjectID      string
	DocumentID     string
	UpdatedAt      time.Time
}

// AuditEntry records one write: who did what to which entity, and the
// record before and after (JSON; empty when there is no before or after).
type AuditEntry struct {
	ID             int64
	At             time.Time
	ActorID        string
	Action         string // create, update, delete, restore, ...
	EntityType     EntityType
	EntityID       string
	OrganizationID string
	Before         string
	After          string
}
