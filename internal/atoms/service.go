package atoms

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/atomcp/atomcp/internal/atoms/semantic"
	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/embed"
	"github.com/atomcp/atomcp/internal/store"
)

// Service is the Atoms service layer. It is safe for concurrent use.
type Service struct {
	store     store.Store
	listeners listeners
	logger    *slog.Logger
	now       func() time.Time
	newID     func() string

	semantic *semantic.Engine // rag_search, similarity and the embedding worker
}

// Option configures a Service.
type Option func(*options)

type options struct {
	now      func() time.Time
	logger   *slog.Logger
	embedder embed.Embedder
}

// WithClock replaces the clock (for tests).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithLogger sets the logger for events worth an operator's attention.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithEmbedder sets the embedder of semantic search (default: the local
// embedder, embed.NewLocal(0)).
func WithEmbedder(e embed.Embedder) Option { return func(o *options) { o.embedder = e } }

// New returns a Service on the given store.
func New(st store.Store, opts ...Option) *Service {
	o := options{
		logger: slog.New(slog.DiscardHandler),
		now:    func() time.Time { return time.Now().UTC() },
	}
	for _, opt := range opts {
		opt(&o)
	}
	return &Service{
		store:    st,
		logger:   o.logger,
		now:      o.now,
		newID:    func() string { return uuid.NewString() },
		semantic: semantic.New(st, semantic.Config{Embedder: o.embedder, Logger: o.logger, Now: o.now}),
	}
}

// Store returns the underlying store (for health checks).
func (s *Service) Store() store.Store { return s.store }

// Actor resolves a caller to a stored user with memberships. On a caller's
// first request the user is created with a personal organization they own,
// and pending invitations to their verified email are accepted, all in one
// transaction.
func (s *Service) Actor(ctx context.Context, c Caller) (*Actor, error) {
	if c.Issuer == "" || c.Subject == "" {
		return nil, fmt.Errorf("%w: the caller has no issuer or subject", domain.ErrInvalid)
	}
	// The common case, a known user whose profile is unchanged, is a plain
	// read: taking the write transaction for every tool call serialized all
	// requests on SQLite's single writer (15% of CPU in the benchmark). It
	// is one query, the user with their memberships (GetCaller), where it
	// was three.
	if k, err := s.store.GetCaller(ctx, c.Issuer, c.Subject); err == nil && !profileChanged(k.User, c) {
		return verified(newActor(k.User, k.Memberships, k.ProjectMemberships), c), nil
	}
	var user *domain.User
	var err error
	// Two first requests of one caller on two replicas may both find no
	// user; the second to commit hits the (issuer, subject) constraint,
	// and its next attempt finds the user the first created.
	for range 3 {
		if err = s.resolveUser(ctx, c, &user); !errors.Is(err, domain.ErrConflict) || ctx.Err() != nil {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("resolve user %s/%s: %w", c.Issuer, c.Subject, err)
	}
	return s.verifiedActor(ctx, user, c)
}

// resolveUser finds, creates or refreshes the caller's user in one
// transaction.
func (s *Service) resolveUser(ctx context.Context, c Caller, user **domain.User) error {
	return s.inTx(ctx, func(tx store.Ops) error {
		u, err := tx.GetUserBySubject(ctx, c.Issuer, c.Subject)
		switch {
		case errors.Is(err, domain.ErrNotFound):
			u, err = s.createUser(ctx, tx, c)
			if err != nil {
				return err
			}
		case err != nil:
			return err
		default:
			if err := s.refreshProfile(ctx, tx, u, c); err != nil {
				return err
			}
		}
		*user = u
		return nil
	})
}

// verifiedActor loads the actor of a user just found, created or
// refreshed.
func (s *Service) verifiedActor(ctx context.Context, u *domain.User, c Caller) (*Actor, error) {
	a, err := s.loadActor(ctx, s.store, u)
	if err != nil {
		return nil, err
	}
	return verified(a, c), nil
}

// verified notes whether the caller's token vouches for the profile's
// email (what answering an invitation sent to that email needs).
func verified(a *Actor, c Caller) *Actor {
	a.emailVerified = c.EmailVerified && c.Email != "" && strings.EqualFold(c.Email, a.User.Email)
	return a
}

func (s *Service) loadActor(ctx context.Context, tx store.Ops, user *domain.User) (*Actor, error) {
	ms, err := tx.ListMemberships(ctx, user.ID)
	if err != nil {
		return nil, fmt.Errorf("load memberships of %s: %w", user.ID, err)
	}
	pms, err := tx.ListProjectMemberships(ctx, user.ID)
	if err != nil {
		return nil, fmt.Errorf("load project memberships of %s: %w", user.ID, err)
	}
	return newActor(user, ms, pms), nil
}

// newActor is the user with the roles of their active memberships.
func newActor(user *domain.User, ms []*domain.Membership, pms []*domain.ProjectMembership) *Actor {
	a := &Actor{User: user, roles: make(map[string]domain.Role, len(ms))}
	for _, m := range ms {
		if m.Status == "" || m.Status == "active" {
			a.roles[m.OrganizationID] = m.Role
		}
	}
	for _, m := range pms {
		if m.Status == "" || m.Status == "active" {
			if a.projectRoles == nil {
				a.projectRoles = make(map[string]domain.Role, len(pms))
			}
			a.projectRoles[m.ProjectID] = m.Role
		}
	}
	return a
}

func (s *Service) createUser(ctx context.Context, tx store.Ops, c Caller) (*domain.User, error) {
	now := s.now()
	u := &domain.User{
		ID: s.newID(), Issuer: c.Issuer, Subject: c.Subject,
		Email: c.Email, Name: c.Name, CreatedAt: now, UpdatedAt: now,
	}
	if err := tx.CreateUser(ctx, u); err != nil {
		return nil, fmt.Errorf("create user: %w", err)
	}
	// The personal organization: every user has somewhere to work at once.
	name := personalOrgName(c)
	slug, err := s.uniqueSlug(ctx, tx, domain.Organization, "", name)
	if err != nil {
		return nil, err
	}
	org := &domain.Entity{
		Type: domain.Organization, ID: s.newID(),
		Fields:    map[string]any{"name": name, "slug": slug, "type": "personal", "description": "Personal workspace"},
		CreatedAt: now, UpdatedAt: now, CreatedBy: u.ID, UpdatedBy: u.ID,
	}
	org.OrganizationID = org.ID
	if err := tx.CreateEntity(ctx, org); err != nil {
		return nil, fmt.Errorf("create personal organization: %w", err)
	}
	if err := tx.PutMember(ctx, &domain.Membership{OrganizationID: org.ID, UserID: u.ID, Role: domain.RoleOwner, Status: "active", CreatedAt: now}); err != nil {
		return nil, fmt.Errorf("add owner of personal organization: %w", err)
	}
	if err := s.audit(ctx, tx, u.ID, "create", nil, org); err != nil {
		return nil, err
	}
	// Pending invitations to the new user's email stay pending: joining
	// an organization is always an answer to an invitation (the
	// invitation page, or relationship_tool's invitation update).
	return u, nil
}

func personalOrgName(c Caller) string {
	who := c.Name
	if who == "" {
		who, _, _ = strings.Cut(c.Email, "@")
	}
	if who == "" {
		who = c.Subject
	}
	return who + "'s workspace"
}

// profileChanged reports whether the token carries an email or name that
// differs from the stored profile.
func profileChanged(u *domain.User, c Caller) bool {
	return (c.Email != "" && c.Email != u.Email) || (c.Name != "" && c.Name != u.Name)
}

// refreshProfile keeps email and name in step with the token, which is the
// source of truth for them.
func (s *Service) refreshProfile(ctx context.Context, tx store.Ops, u *domain.User, c Caller) error {
	changed := false
	if c.Email != "" && c.Email != u.Email {
		u.Email, changed = c.Email, true
	}
	if c.Name != "" && c.Name != u.Name {
		u.Name, changed = c.Name, true
	}
	if !changed {
		return nil
	}
	u.UpdatedAt = s.now()
	return tx.UpdateUser(ctx, u)
}
