package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/atomcp/atomcp/internal/atoms"
	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
	"github.com/atomcp/atomcp/internal/store/postgres"
)

// The TestRace tests race two replicas on each read-then-write check that
// must hold across them: two stores (and two atoms services), each with a
// pool of its own as two processes would have, on one PostgreSQL schema,
// doing the same operation from two goroutines at once. Each asserts the
// invariant (one winner, no lost update, no write after a removal), not a
// timing. They share one schema, created once per run, and use fresh ids
// in each iteration, so that
//
//	go test -race -run TestRace -count=100 ./internal/store/postgres/
//
// stays quick.

var (
	raceOnce   sync.Once
	raceStores [2]*postgres.Store
	raceErr    error
)

// replicas returns the two stores on the shared schema.
func replicas(t *testing.T) [2]*postgres.Store {
	t.Helper()
	requireServer(t)
	raceOnce.Do(func() {
		url := newSchema(t)
		for i := range raceStores {
			s, err := postgres.Open(context.Background(), url)
			if err != nil {
				raceErr = err
				return
			}
			raceStores[i] = s // closed when the run's database is dropped
		}
		_, raceErr = raceStores[0].Migrate(context.Background())
	})
	if raceErr != nil {
		t.Fatal(raceErr)
	}
	return raceStores
}

// both runs fn(0) and fn(1) at the same moment, on two goroutines, and
// returns their errors.
func both(fn func(i int) error) [2]error {
	var errs [2]error
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = fn(i)
		}()
	}
	close(start)
	wg.Wait()
	return errs
}

// oneWinner fails unless exactly one error is nil and the other is (or
// wraps) lost.
func oneWinner(t *testing.T, what string, errs [2]error, lost error) {
	t.Helper()
	wins := 0
	for _, err := range errs {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, lost):
			t.Fatalf("%s: unexpected error %v", what, err)
		}
	}
	if wins != 1 {
		t.Fatalf("%s: %d winners (errors %v); want exactly one", what, wins, errs)
	}
}

func uniq(prefix string) string {
	return fmt.Sprintf("%s-%d", prefix, time.Now().UnixNano()) + randomHex(4)
}

func TestRaceAuthCodeRedeemedOnce(t *testing.T) {
	st := replicas(t)
	ctx := t.Context()
	now := time.Now()
	hash := uniq("code")
	c := &store.AuthCode{Hash: hash, ClientID: "c1", AccountID: "a1", RedirectURI: "http://127.0.0.1:3000/cb",
		Scope: "atoms:read", Resource: "https://mcp.example/api/mcp", CodeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		CodeChallengeMethod: "S256", FamilyID: "fam-" + hash, CreatedAt: now, ExpiresAt: now.Add(time.Minute)}
	if err := st[0].CreateAuthCode(ctx, c); err != nil {
		t.Fatal(err)
	}
	oneWinner(t, "authorization code", both(func(i int) error {
		_, err := st[i].ConsumeAuthCode(ctx, hash, time.Now())
		return err
	}), store.ErrAlreadyUsed)
}

func TestRaceRefreshTokenRotatedOnce(t *testing.T) {
	st := replicas(t)
	ctx := t.Context()
	now := time.Now()
	fam := &store.TokenFamily{ID: uniq("fam"), ClientID: "c1", AccountID: "a1", Scope: "atoms:read", Resource: "https://mcp.example/api/mcp", CreatedAt: now}
	if err := st[0].CreateTokenFamily(ctx, fam); err != nil {
		t.Fatal(err)
	}
	hash := uniq("refresh")
	if err := st[1].CreateRefreshToken(ctx, &store.RefreshToken{Hash: hash, FamilyID: fam.ID, ClientID: "c1", AccountID: "a1",
		Scope: "atoms:read", Resource: fam.Resource, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	oneWinner(t, "refresh token", both(func(i int) error {
		_, err := st[i].UseRefreshToken(ctx, hash, time.Now())
		return err
	}), store.ErrAlreadyUsed)
}

func TestRaceSetupTokenUsedOnce(t *testing.T) {
	st := replicas(t)
	ctx := t.Context()
	now := time.Now()
	hash := uniq("setup")
	if err := st[0].CreateSetupToken(ctx, &store.SetupToken{Hash: hash, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	oneWinner(t, "setup token", both(func(i int) error {
		_, err := st[i].ConsumeSetupToken(ctx, hash, time.Now())
		return err
	}), store.ErrAlreadyUsed)
}

func TestRaceSigninRequestUsedOnce(t *testing.T) {
	st := replicas(t)
	ctx := t.Context()
	now := time.Now()
	hash := uniq("state")
	if err := st[1].CreateSigninRequest(ctx, &store.SigninRequest{StateHash: hash, Connector: "github", CreatedAt: now, ExpiresAt: now.Add(10 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	oneWinner(t, "sign-in request", both(func(i int) error {
		_, err := st[i].ConsumeSigninRequest(ctx, hash, time.Now())
		return err
	}), store.ErrAlreadyUsed)
}

// Two replicas counting into one rate-limit window hand out every count
// once: no two requests are told they are the same one.
func TestRaceRateLimitCountsEveryHit(t *testing.T) {
	st := replicas(t)
	ctx := t.Context()
	key := uniq("token:127.0.0.1")
	window := time.Now().Truncate(time.Minute)
	const hits = 10
	var mu sync.Mutex
	var counts []int
	errs := both(func(i int) error {
		for range hits {
			n, err := st[i].HitRateLimit(ctx, key, window, window.Add(-time.Hour))
			if err != nil {
				return err
			}
			mu.Lock()
			counts = append(counts, n)
			mu.Unlock()
		}
		return nil
	})
	if errs[0] != nil || errs[1] != nil {
		t.Fatal(errs)
	}
	slices.Sort(counts)
	for i, n := range counts {
		if n != i+1 {
			t.Fatalf("counts handed out = %v; want 1..%d, each once", counts, 2*hits)
		}
	}
}

var errTerminal = errors.New("the task is finished already")

// A task completed on one replica and cancelled on another ends in one
// of the two states, the one whose update succeeded; the other sees it
// finished.
func TestRaceTaskFinishedOnce(t *testing.T) {
	st := replicas(t)
	ctx := t.Context()
	now := time.Now()
	id := uniq("task")
	if err := st[0].CreateTask(ctx, &store.Task{ID: id, Owner: "o", Tool: "workflow_tool", Status: store.TaskWorking,
		CreatedAt: now, UpdatedAt: now, HeartbeatAt: now, ExpiresAt: now.Add(time.Hour), PollInterval: time.Second}); err != nil {
		t.Fatal(err)
	}
	final := [2]store.TaskStatus{store.TaskCompleted, store.TaskCancelled}
	errs := both(func(i int) error {
		_, err := st[i].UpdateTask(ctx, "o", id, func(t *store.Task) error {
			if t.Status.Terminal() {
				return errTerminal
			}
			t.Status = final[i]
			return nil
		})
		return err
	})
	oneWinner(t, "task state", errs, errTerminal)
	got, err := st[1].GetTask(ctx, "o", id)
	if err != nil {
		t.Fatal(err)
	}
	winner := final[0]
	if errs[0] != nil {
		winner = final[1]
	}
	if got.Status != winner {
		t.Fatalf("task status = %q; the update that succeeded set %q", got.Status, winner)
	}
}

// Updates of one task from two replicas are never lost.
func TestRaceTaskUpdatesNotLost(t *testing.T) {
	st := replicas(t)
	ctx := t.Context()
	now := time.Now()
	id := uniq("task")
	if err := st[0].CreateTask(ctx, &store.Task{ID: id, Owner: "o", Tool: "workflow_tool", Status: store.TaskWorking,
		CreatedAt: now, UpdatedAt: now, HeartbeatAt: now, ExpiresAt: now.Add(time.Hour), PollInterval: time.Second}); err != nil {
		t.Fatal(err)
	}
	const each = 5
	errs := both(func(i int) error {
		for range each {
			if _, err := st[i].UpdateTask(ctx, "o", id, func(t *store.Task) error {
				t.StatusMessage += string(rune('a' + i))
				return nil
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if errs[0] != nil || errs[1] != nil {
		t.Fatal(errs)
	}
	got, err := st[1].GetTask(ctx, "o", id)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.StatusMessage) != 2*each {
		t.Fatalf("status message after %d appends from each replica = %q; an update was lost", each, got.StatusMessage)
	}
}

// services returns an atoms service on each store, and the same caller
// resolved on each (a fresh user each time).
func services(t *testing.T) ([2]*atoms.Service, atoms.Caller) {
	t.Helper()
	st := replicas(t)
	var svcs [2]*atoms.Service
	for i := range svcs {
		svcs[i] = atoms.New(st[i])
	}
	id := uniq("user")
	return svcs, atoms.Caller{Issuer: "race", Subject: id, Email: id + "@example.com", EmailVerified: true, Name: id}
}

func actor(t *testing.T, svc *atoms.Service, c atoms.Caller) *atoms.Actor {
	t.Helper()
	a, err := svc.Actor(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// A caller's first two requests, on two replicas at once, both find no
// user: both succeed, with one user and one personal organization.
func TestRaceFirstRequestCreatesOneUser(t *testing.T) {
	svcs, c := services(t)
	var ids [2]string
	errs := both(func(i int) error {
		a, err := svcs[i].Actor(t.Context(), c)
		if err == nil {
			ids[i] = a.User.ID
		}
		return err
	})
	if errs[0] != nil || errs[1] != nil {
		t.Fatalf("concurrent first requests: %v", errs)
	}
	if ids[0] != ids[1] {
		t.Fatalf("two users for one caller: %v", ids)
	}
	if orgs := actor(t, svcs[0], c).OrganizationIDs(); len(orgs) != 1 {
		t.Fatalf("organizations of the new user = %v; want one personal organization", orgs)
	}
}

// Two replicas creating an organization of the same name both succeed,
// with two different slugs: the one that lost the race for the first
// slug runs its transaction again and takes the next.
func TestRaceOrganizationSlug(t *testing.T) {
	svcs, c := services(t)
	name := uniq("Acme")
	actors := [2]*atoms.Actor{actor(t, svcs[0], c), actor(t, svcs[1], c)}
	var slugs [2]string
	errs := both(func(i int) error {
		e, err := svcs[i].CreateEntity(t.Context(), actors[i], domain.Organization, map[string]any{"name": name})
		if err == nil {
			slugs[i] = e.Str("slug")
		}
		return err
	})
	if errs[0] != nil || errs[1] != nil {
		t.Fatalf("concurrent creates of organization %q: %v", name, errs)
	}
	if slugs[0] == slugs[1] {
		t.Fatalf("both organizations got slug %q", slugs[0])
	}
}

// The same for two projects of one name in one organization.
func TestRaceProjectSlug(t *testing.T) {
	svcs, c := services(t)
	org, err := svcs[0].CreateEntity(t.Context(), actor(t, svcs[0], c), domain.Organization, map[string]any{"name": uniq("Org")})
	if err != nil {
		t.Fatal(err)
	}
	actors := [2]*atoms.Actor{actor(t, svcs[0], c), actor(t, svcs[1], c)}
	var slugs [2]string
	errs := both(func(i int) error {
		e, err := svcs[i].CreateEntity(t.Context(), actors[i], domain.Project, map[string]any{"name": "Rocket", "organization_id": org.ID})
		if err == nil {
			slugs[i] = e.Str("slug")
		}
		return err
	})
	if errs[0] != nil || errs[1] != nil {
		t.Fatalf("concurrent creates of project Rocket: %v", errs)
	}
	if slugs[0] == slugs[1] {
		t.Fatalf("both projects got slug %q", slugs[0])
	}
}

// addMember makes who a member of org with role: adding a user is an
// invitation (issue 18), which who then accepts.
func addMember(t *testing.T, svc *atoms.Service, by *atoms.Actor, org atoms.EntityRef, who *atoms.Actor, role domain.Role) {
	t.Helper()
	_, inv, err := svc.AddMember(t.Context(), by, org, who.User.ID, role)
	if err != nil {
		t.Fatal(err)
	}
	if inv == nil {
		t.Fatal("adding an existing user made no invitation")
	}
	if _, err := svc.AnswerInvitation(t.Context(), who, atoms.InvitationRef{ID: inv.ID}, true); err != nil {
		t.Fatal(err)
	}
}

// twoOwners makes an organization owned by two users and returns their
// callers.
func twoOwners(t *testing.T, svcs [2]*atoms.Service, c atoms.Caller) (*domain.Entity, [2]atoms.Caller) {
	t.Helper()
	ctx := t.Context()
	id := uniq("second")
	c2 := atoms.Caller{Issuer: "race", Subject: id, Email: id + "@example.com", EmailVerified: true, Name: id}
	u2 := actor(t, svcs[1], c2)
	owner := actor(t, svcs[0], c)
	org, err := svcs[0].CreateEntity(ctx, owner, domain.Organization, map[string]any{"name": uniq("Owned")})
	if err != nil {
		t.Fatal(err)
	}
	addMember(t, svcs[0], owner, atoms.EntityRef{Type: domain.Organization, ID: org.ID}, u2, domain.RoleOwner)
	return org, [2]atoms.Caller{c, c2}
}

// Two owners demoting each other on two replicas at once: one succeeds,
// the other is refused (it would remove the last owner), and the
// organization keeps an owner. Without the members lock both checks saw
// the other owner and both passed.
func TestRaceLastOwnerStays(t *testing.T) {
	svcs, c := services(t)
	ctx := t.Context()
	org, callers := twoOwners(t, svcs, c)
	actors := [2]*atoms.Actor{actor(t, svcs[0], callers[0]), actor(t, svcs[1], callers[1])}
	ref := atoms.EntityRef{Type: domain.Organization, ID: org.ID}
	errs := both(func(i int) error {
		other := actors[1-i].User.ID
		_, err := svcs[i].SetMemberRole(ctx, actors[i], ref, other, domain.RoleMember)
		return err
	})
	// The loser is refused either as the last owner or, having lost its
	// own owner role meanwhile, for not being an owner any more.
	wins := 0
	for _, err := range errs {
		if err == nil {
			wins++
		} else if !errors.Is(err, domain.ErrInvalid) && !errors.Is(err, domain.ErrConflict) && !errors.Is(err, domain.ErrForbidden) {
			t.Fatalf("unexpected error %v", err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d demotions succeeded (errors %v); want exactly one", wins, errs)
	}
	members, err := svcs[0].ListMembers(ctx, actor(t, svcs[0], callers[0]), ref)
	if err != nil && errors.Is(err, domain.ErrNotFound) {
		members, err = svcs[1].ListMembers(ctx, actor(t, svcs[1], callers[1]), ref)
	}
	if err != nil {
		t.Fatal(err)
	}
	owners := 0
	for _, m := range members {
		if m.Role == domain.RoleOwner {
			owners++
		}
	}
	if owners != 1 {
		t.Fatalf("owners after the race = %d; want 1 (%+v)", owners, members)
	}
}

// A member removed on one replica while writing on another: once the
// removal returned, no write of theirs commits any more. Their write
// either committed before (and the removal waited for it) or is refused.
func TestRaceMembershipBeforeWrite(t *testing.T) {
	svcs, c := services(t)
	ctx := t.Context()
	owner := actor(t, svcs[0], c)
	org, err := svcs[0].CreateEntity(ctx, owner, domain.Organization, map[string]any{"name": uniq("Team")})
	if err != nil {
		t.Fatal(err)
	}
	project, err := svcs[0].CreateEntity(ctx, owner, domain.Project, map[string]any{"name": "P", "organization_id": org.ID})
	if err != nil {
		t.Fatal(err)
	}
	id := uniq("member")
	mc := atoms.Caller{Issuer: "race", Subject: id, Email: id + "@example.com", EmailVerified: true, Name: id}
	m := actor(t, svcs[1], mc)
	ref := atoms.EntityRef{Type: domain.Organization, ID: org.ID}
	addMember(t, svcs[0], owner, ref, m, domain.RoleMember)
	writer := actor(t, svcs[1], mc) // checked as a member, before the removal
	tests := func() int {
		page, err := svcs[0].ListEntities(ctx, owner, domain.Test, atoms.ListParams{Filters: map[string]any{"project_id": project.ID}})
		if err != nil {
			t.Error(err)
		}
		return page.Total
	}
	atRemoval := -1
	errs := both(func(i int) error {
		if i == 0 {
			_, err := svcs[0].RemoveMember(ctx, owner, ref, m.User.ID)
			atRemoval = tests()
			return err
		}
		_, err := svcs[1].CreateEntity(ctx, writer, domain.Test, map[string]any{"title": "T", "project_id": project.ID})
		if errors.Is(err, domain.ErrConflict) || errors.Is(err, domain.ErrNotFound) {
			return nil // refused: the membership was gone
		}
		return err
	})
	if errs[0] != nil || errs[1] != nil {
		t.Fatal(errs)
	}
	if after := tests(); after != atRemoval {
		t.Fatalf("tests in the project when the removal returned = %d, after the removed member's write finished = %d: a write committed after the removal", atRemoval, after)
	}
}

// Two derives_from links that would close a cycle together, made on two
// replicas at once: exactly one is made, the other refused as a cycle.
func TestRaceDerivesFromCycle(t *testing.T) {
	svcs, c := services(t)
	ctx := t.Context()
	a := actor(t, svcs[0], c)
	org, err := svcs[0].CreateEntity(ctx, a, domain.Organization, map[string]any{"name": uniq("Links")})
	if err != nil {
		t.Fatal(err)
	}
	project, err := svcs[0].CreateEntity(ctx, a, domain.Project, map[string]any{"name": "P", "organization_id": org.ID})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := svcs[0].CreateEntity(ctx, a, domain.Document, map[string]any{"name": "D", "project_id": project.ID})
	if err != nil {
		t.Fatal(err)
	}
	var reqs [2]atoms.EntityRef
	for i := range reqs {
		r, err := svcs[0].CreateEntity(ctx, a, domain.Requirement, map[string]any{"name": fmt.Sprintf("R%d", i), "document_id": doc.ID})
		if err != nil {
			t.Fatal(err)
		}
		reqs[i] = atoms.EntityRef{Type: domain.Requirement, ID: r.ID}
	}
	actors := [2]*atoms.Actor{a, actor(t, svcs[1], c)}
	errs := both(func(i int) error {
		_, _, err := svcs[i].Link(ctx, actors[i], domain.TraceLink, reqs[i], reqs[1-i], atoms.LinkParams{LinkType: "derives_from"})
		return err
	})
	oneWinner(t, "derives_from links in both directions", errs, domain.ErrInvalid)
}
