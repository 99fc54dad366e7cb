package atoms

import (
	"context"
	"errors"
	"fmt"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

// The checks that read and then write hold across replicas (processes on
// one database) because of one lock per organization:
//
//   - a change of an organization's members (or of its projects' members)
//     takes the lock exclusively, then re-reads the changer's own role and
//     decides on the members as they are now (the last owner stays);
//   - every other write takes the lock of each organization it changed in
//     shared mode, just before it commits, and re-reads the writer's role
//     there: a write whose author lost that role meanwhile is refused, and
//     a member removal waits for the writes in flight (which it then
//     follows) instead of passing between their check and their commit.
//
// New derives_from links of an organization are made one at a time, so
// that their cycle check sees every link (checkNoCycle).
//
// Uniqueness (slugs, external ids) is the database's constraints' job;
// a generated slug that another replica took first is retried (retrySlug).
// On SQLite, one writer at a time serializes all of this already and the
// locks cost nothing.
const membersLock = "atoms:members:"

// derivesLock serializes the derives_from links of an organization, whose
// cycle check reads the links that exist (checkNoCycle).
const derivesLock = "atoms:derives_from:"

// errMembershipChanged refuses a write whose author's role changed while it
// ran; running it again decides with the new role.
var errMembershipChanged = fmt.Errorf("%w: your membership of the organization changed while this request ran; run it again", domain.ErrConflict)

// errSlugTaken says that a generated slug was free when chosen but taken
// when inserted: by a transaction that committed meanwhile (on another
// replica, on PostgreSQL). Running the transaction again chooses another.
var errSlugTaken = errors.New("the generated slug was taken meanwhile")

// slugAttempts bounds how often a transaction is run again for a taken
// slug: each run sees the slugs the others committed, so a few suffice.
const slugAttempts = 5

// retrySlug runs the transaction run until it no longer fails with
// errSlugTaken (at most slugAttempts times).
func retrySlug(ctx context.Context, run func() error) error {
	var err error
	for range slugAttempts {
		if err = run(); !errors.Is(err, errSlugTaken) || ctx.Err() != nil {
			return err
		}
	}
	return err
}

// lockMembers serializes the membership changes of an organization and
// confirms that the actor still has the role they were checked with.
func (s *Service) lockMembers(ctx context.Context, tx store.Ops, a *Actor, orgID string) error {
	if err := tx.TxLock(ctx, membersLock+orgID); err != nil {
		return err
	}
	return confirmRole(ctx, tx, a, orgID)
}

// confirmRole re-reads, inside tx, the actor's role in the organization and
// refuses the transaction when it is no longer the one the actor was
// checked with. An organization the actor had no role in when the request
// began (one created in this transaction) has nothing to confirm.
func confirmRole(ctx context.Context, tx store.Ops, a *Actor, orgID string) error {
	want, had := a.roles[orgID]
	if !had {
		return nil
	}
	m, err := tx.GetMember(ctx, orgID, a.User.ID)
	if errors.Is(err, domain.ErrNotFound) {
		if _, oerr := tx.GetEntity(ctx, domain.Organization, orgID); errors.Is(oerr, domain.ErrNotFound) {
			return nil // the organization itself was deleted for good, its members with it
		}
		return errMembershipChanged
	}
	if err != nil {
		return fmt.Errorf("confirm membership: %w", err)
	}
	if m.Role != want || (m.Status != "" && m.Status != "active") {
		return errMembershipChanged
	}
	return nil
}

// confirmWrites runs before a write transaction of the actor commits: for
// every organization the changes touched it takes the members lock shared
// and confirms the actor's organization role, and for every project the
// actor's project role.
func (s *Service) confirmWrites(ctx context.Context, tx store.Ops, a *Actor, changes []Change) error {
	orgs := map[string]bool{}
	projects := map[string]bool{}
	for _, c := range changes {
		org := c.OrganizationID
		if org == "" && c.Type == string(domain.Organization) {
			org = c.ID
		}
		if org != "" && !orgs[org] {
			orgs[org] = true
			if err := tx.TxLockShared(ctx, membersLock+org); err != nil {
				return err
			}
			if err := confirmRole(ctx, tx, a, org); err != nil {
				return err
			}
		}
		if c.ProjectID != "" {
			projects[c.ProjectID] = true
		}
	}
	return confirmProjectRoles(ctx, tx, a, projects)
}

// confirmProjectRoles refuses the transaction when the actor's role in one
// of the projects is no longer the one they were checked with.
func confirmProjectRoles(ctx context.Context, tx store.Ops, a *Actor, projects map[string]bool) error {
	if len(projects) == 0 {
		return nil
	}
	pms, err := tx.ListProjectMemberships(ctx, a.User.ID)
	if err != nil {
		return fmt.Errorf("confirm project memberships: %w", err)
	}
	now := map[string]domain.Role{}
	for _, m := range pms {
		if m.Status == "" || m.Status == "active" {
			now[m.ProjectID] = m.Role
		}
	}
	for p := range projects {
		if now[p] != a.projectRoles[p] {
			return errMembershipChanged
		}
	}
	return nil
}
