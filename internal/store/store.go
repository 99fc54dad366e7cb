// Package store defines the persistence interfaces of atomcp; backends
// (sqlite, postgres) implement them and are held to one shared test
// suite in storetest.
package store

import (
	"context"
	"time"

	"github.com/atomcp/atomcp/internal/domain"
)

// Store is a database. Its methods run in their own implicit transaction;
// InTx groups several into one all-or-nothing transaction.
type Store interface {
	Ops
	// InTx runs fn in one transaction. If fn returns an error (or panics),
	// everything it wrote is rolled back; otherwise it is committed.
	InTx(ctx context.Context, fn func(tx Ops) error) error
	// Migrate applies pending schema migrations and returns the versions it
	// applied (empty when the schema was current).
	Migrate(ctx context.Context) ([]int, error)
	// Ping checks that the database answers (for /readyz).
	Ping(ctx context.Context) error
	// Close releases the database.
	Close() error
}

// Ops is the set of operations available inside and outside a transaction:
// a Store is an Ops that runs each call on its own, and InTx hands fn an Ops
// bound to one transaction.
type Ops interface {
	Entities
	Users
	Members
	ProjectMembers
	Invitations
	Workspaces
	Audit
	Relations
	Search
	Embeddings
	RateLimits
	Tasks
	Locks
	ServerSecrets
	// Auth is the embedded authorization server's storage (authstore.go).
	Auth
}

// Locks serializes read-then-create sequences across processes sharing
// one database (replicas), where a constraint cannot.
type Locks interface {
	// TxLock, inside InTx, waits for the lock named name and holds it
	// until the transaction ends, so that two transactions taking it run
	// one after the other. Outside a transaction it is released at once.
	// (SQLite serializes every InTx already: there it does nothing.)
	TxLock(ctx context.Context, name string) error
	// TxLockShared is TxLock in shared mode: transactions holding it
	// shared run side by side, and a TxLock of the same name waits for
	// them (and they for it). Membership changes take an organization's
	// lock, writes in it take it shared (internal/atoms).
	TxLockShared(ctx context.Context, name string) error
}

// ServerSecrets keeps the secrets every process serving one database
// must share. They are stored as they are, like the signing keys: the
// database must be protected like a key file.
type ServerSecrets interface {
	// EnsureServerSecret stores value under name unless a value is stored
	// already, and returns the stored one: of processes calling it at
	// once, one value wins and all get it.
	EnsureServerSecret(ctx context.Context, name string, value []byte, at time.Time) ([]byte, error)
}

// Deleted selects how soft-deleted entities are treated by a query.
type Deleted int

// Deleted filters.
const (
	ExcludeDeleted Deleted = iota
	OnlyDeleted
	IncludeDeleted
)

// EntityQuery selects entities of one type.
type EntityQuery struct {
	Type domain.EntityType
	// OrganizationIDs scopes the query; it must not be empty (unless
	// AllOrganizations is set), so that a forgotten scope is an error rather
	// than a leak of everything.
	OrganizationIDs []string
	// AllOrganizations lifts the scope, for the service's own global checks
	// (organization slugs are unique across the server). Never set it from
	// caller input.
	AllOrganizations bool
	// Equals filters on fields of the kind (AND). A nil value matches NULL.
	Equals map[string]any
	// Compare filters on fields of the kind with an operator (AND with
	// Equals and each other); every value is a query parameter.
	Compare []Comparison
	// Text, when set, matches entities any of whose searchable fields
	// contain it, case-insensitively.
	Text    string
	Deleted Deleted
	// OrderBy is a field of the kind, or created_at/updated_at; default
	// created_at. Ties are broken by id so paging is stable.
	OrderBy string
	Desc    bool
	Limit   int // 0 means no limit
	Offset  int
}

// Comparison is one operator filter of an EntityQuery: Field Op Value.
type Comparison struct {
	Field string
	Op    CompareOp
	// Value is the value compared with (already the field's type); for In
	// a []any; for Like and ILike a pattern with % and _ wildcards; for
	// Contains a text found anywhere in the field, case-insensitively.
	Value any
}

// CompareOp is an operator of a Comparison, named as PostgREST names it
// (the old Atoms server's filters).
type CompareOp string

const (
	OpEq       CompareOp = "eq"
	OpNeq      CompareOp = "neq"
	OpGt       CompareOp = "gt"
	OpGte      CompareOp = "gte"
	OpLt       CompareOp = "lt"
	OpLte      CompareOp = "lte"
	OpIn       CompareOp = "in"
	OpLike     CompareOp = "like"
	OpILike    CompareOp = "ilike"
	OpContains CompareOp = "contains"
)

// CompareOps are the operators, in the order error messages list them.
var CompareOps = []CompareOp{OpEq, OpNeq, OpGt, OpGte, OpLt, OpLte, OpIn, OpLike, OpILike, OpContains}

// EntityPage is one page of a query, with the total number that matched.
type EntityPage struct {
	Items []*domain.Entity
	Total int
}

// Entities stores the entities of every kind in domain.Kinds.
type Entities interface {
	// CreateEntity inserts e; e.ID, timestamps and Fields must be set. A
	// violated uniqueness rule returns an error wrapping domain.ErrConflict.
	CreateEntity(ctx context.Context, e *domain.Entity) error
	// GetEntity returns the entity, deleted or not, or domain.ErrNotFound.
	GetEntity(ctx context.Context, t domain.EntityType, id string) (*domain.Entity, error)
	// UpdateEntity writes all fields and bookkeeping columns of e.
	UpdateEntity(ctx context.Context, e *domain.Entity) error
	// DeleteEntity removes the entity for good.
	DeleteEntity(ctx context.Context, t domain.EntityType, id string) error
	// SoftDeleteEntity marks a live entity of a soft-delete kind deleted
	// (at, by), together with every live entity below it: a document's
	// blocks and requirements; a project's documents, tests and what is
	// below them; an organization's projects and below. It returns how
	// many entities of each type it hid, the entity itself included.
	// Entities deleted before on their own are left as they are. Links
	// with a hidden end are left out of ListLinks and GetLink from then
	// on. A deleted entity returns an error wrapping domain.ErrInvalid.
	SoftDeleteEntity(ctx context.Context, t domain.EntityType, id string, at time.Time, by string) (map[domain.EntityType]int, error)
	// RestoreEntity undoes SoftDeleteEntity: the entity and exactly the
	// entities its delete hid become live again (not those deleted on
	// their own before), and it returns how many of each type came back.
	// It refuses, with domain.ErrInvalid, an entity that is not deleted,
	// one hidden by the delete of an entity above it (restore that one),
	// and one whose parent is deleted.
	RestoreEntity(ctx context.Context, t domain.EntityType, id string, at time.Time, by string) (map[domain.EntityType]int, error)
	// ListEntities returns one page of matching entities.
	ListEntities(ctx context.Context, q EntityQuery) (EntityPage, error)
}

// Users stores user profiles.
type Users interface {
	CreateUser(ctx context.Context, u *domain.User) error
	UpdateUser(ctx context.Context, u *domain.User) error
	GetUser(ctx context.Context, id string) (*domain.User, error)
	// GetUserBySubject finds the user of a verified token, or domain.ErrNotFound.
	GetUserBySubject(ctx context.Context, issuer, subject string) (*domain.User, error)
	// FindUsersByEmail returns the users with this email, compared
	// case-insensitively (one email may sign in through several issuers).
	FindUsersByEmail(ctx context.Context, email string) ([]*domain.User, error)
	// GetCaller returns the user of a verified token with all their
	// organization and project memberships (whatever their status), read
	// together in one query, or domain.ErrNotFound. The memberships are in
	// ListMemberships' and ListProjectMemberships' order.
	GetCaller(ctx context.Context, issuer, subject string) (*Caller, error)
}

// Caller is a user with their memberships, as GetCaller reads them.
type Caller struct {
	User               *domain.User
	Memberships        []*domain.Membership
	ProjectMemberships []*domain.ProjectMembership
}

// ProjectMembers stores project memberships.
type ProjectMembers interface {
	// PutProjectMember adds the membership or replaces its role and status.
	PutProjectMember(ctx context.Context, m *domain.ProjectMembership) error
	RemoveProjectMember(ctx context.Context, projectID, userID string) error
	// ListProjectMembers returns the memberships of one project, oldest first.
	ListProjectMembers(ctx context.Context, projectID string) ([]*domain.ProjectMembership, error)
	// ListProjectMemberships returns the user's project memberships.
	ListProjectMemberships(ctx context.Context, userID string) ([]*domain.ProjectMembership, error)
}

// Members stores organization memberships.
type Members interface {
	// PutMember adds the membership or replaces the role and status of an existing one.
	PutMember(ctx context.Context, m *domain.Membership) error
	GetMember(ctx context.Context, organizationID, userID string) (*domain.Membership, error)
	RemoveMember(ctx context.Context, organizationID, userID string) error
	// ListMemberships returns the user's memberships in every organization.
	ListMemberships(ctx context.Context, userID string) ([]*domain.Membership, error)
	// ListMembers returns the memberships of one organization.
	ListMembers(ctx context.Context, organizationID string) ([]*domain.Membership, error)
}

// Invitations stores invitations of email addresses into organizations.
type Invitations interface {
	CreateInvitation(ctx context.Context, inv *domain.Invitation) error
	// ListPendingInvitations returns pending invitations for the email,
	// compared case-insensitively.
	ListPendingInvitations(ctx context.Context, email string) ([]*domain.Invitation, error)
	SetInvitationStatus(ctx context.Context, id, status string) error
	// ListInvitations returns an organization's invitations, newest first.
	ListInvitations(ctx context.Context, organizationID string) ([]*domain.Invitation, error)
	// GetInvitation returns one invitation, or domain.ErrNotFound.
	GetInvitation(ctx context.Context, id string) (*domain.Invitation, error)
	// GetInvitationByTokenHash returns the invitation whose link secret
	// hashes to tokenHash, or domain.ErrNotFound ("" never matches).
	GetInvitationByTokenHash(ctx context.Context, tokenHash string) (*domain.Invitation, error)
	// ListUserInvitations returns the pending invitations addressed to
	// the user by id, or to the email when it is not empty, oldest first.
	ListUserInvitations(ctx context.Context, userID, email string) ([]*domain.Invitation, error)
}

// Workspaces stores each user's workspace context.
type Workspaces interface {
	// GetWorkspace returns the user's context, or an empty one (not an
	// error) when none was stored.
	GetWorkspace(ctx context.Context, userID string) (*domain.WorkspaceContext, error)
	PutWorkspace(ctx context.Context, w *domain.WorkspaceContext) error
}

// AuditQuery selects audit entries, newest first.
type AuditQuery struct {
	EntityID       string
	OrganizationID string
	// OrganizationIDs, when not nil, keeps only entries of these
	// organizations (an empty, non-nil list keeps none): the scope of an
	// organization admin's audit view.
	OrganizationIDs []string
	ActorID         string
	Action          string
	// Since and Until bound the entries' time (inclusive, exclusive);
	// zero means unbounded.
	Since, Until time.Time
	Limit        int
}

// Audit stores the audit log.
type Audit interface {
	AppendAudit(ctx context.Context, e *domain.AuditEntry) error
	ListAudit(ctx context.Context, q AuditQuery) ([]*domain.AuditEntry, error)
}
