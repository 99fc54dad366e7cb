package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

var localAccountTests = []test{
	{"LocalAccountRoundTrip", testLocalAccountRoundTrip},
	{"LocalAccountInvalid", testLocalAccountInvalid},
	{"LoginFailuresCountInParallel", testLoginFailuresParallel},
}

func (f *fixture) account(id, email string) *store.LocalAccount {
	f.t.Helper()
	ts := f.now()
	a := &store.LocalAccount{ID: id, Email: email, Name: "Name of " + id, PasswordHash: "$argon2id$v=19$m=65536,t=1,p=4$c2FsdA$aGFzaA", // #nosec G101 -- a fake hash of the contract tests
		Role: "user", CreatedAt: ts, UpdatedAt: ts}
	if err := f.s.CreateLocalAccount(f.ctx, a); err != nil {
		f.t.Fatalf("CreateLocalAccount: %v", err)
	}
	return a
}

func testLocalAccountRoundTrip(t *testing.T, f *fixture) {
	n, err := f.s.CountLocalAccounts(f.ctx)
	if err != nil || n != 0 {
		t.Fatalf("CountLocalAccounts of an empty store = %d, %v; want 0", n, err)
	}
	alice := f.account("a1", "alice@example.com")
	bob := f.account("b1", "bob@example.com")

	got, err := f.s.GetLocalAccount(f.ctx, alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	sameRecord(t, "account", got, alice)
	got, err = f.s.GetLocalAccountByEmail(f.ctx, "bob@example.com")
	if err != nil {
		t.Fatal(err)
	}
	sameRecord(t, "account by email", got, bob)
	_, err = f.s.GetLocalAccountByEmail(f.ctx, "carol@example.com")
	wantErr(t, err, domain.ErrNotFound)
	_, err = f.s.GetLocalAccount(f.ctx, "nobody")
	wantErr(t, err, domain.ErrNotFound)

	changed := *alice
	changed.Name, changed.PasswordHash, changed.Role = "Alice L.", "$argon2id$new", "owner"
	changed.DisabledAt, changed.LockedUntil, changed.FailedLogins = ptr(f.now()), ptr(f.now()), 3
	changed.UpdatedAt = f.now()
	if err := f.s.UpdateLocalAccount(f.ctx, &changed); err != nil {
		t.Fatal(err)
	}
	got, _ = f.s.GetLocalAccount(f.ctx, alice.ID)
	sameRecord(t, "updated account", got, &changed)

	list, err := f.s.ListLocalAccounts(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != alice.ID || list[1].ID != bob.ID {
		t.Errorf("ListLocalAccounts returned %d accounts; want alice then bob", len(list))
	}
	if n, _ := f.s.CountLocalAccounts(f.ctx); n != 2 {
		t.Errorf("CountLocalAccounts = %d; want 2", n)
	}
	missing := changed
	missing.ID = "nobody"
	wantErr(t, f.s.UpdateLocalAccount(f.ctx, &missing), domain.ErrNotFound)
}

func testLocalAccountInvalid(t *testing.T, f *fixture) {
	f.account("a1", "alice@example.com")
	base := store.LocalAccount{ID: "x", Email: "x@example.com", PasswordHash: "h", Role: "user", CreatedAt: f.now(), UpdatedAt: f.now()}
	tests := []struct {
		name   string
		change func(*store.LocalAccount)
		want   error
	}{
		{"same email", func(a *store.LocalAccount) { a.Email = "alice@example.com" }, domain.ErrConflict},
		{"same id", func(a *store.LocalAccount) { a.ID = "a1" }, domain.ErrConflict},
		{"upper-case email", func(a *store.LocalAccount) { a.Email = "X@example.com" }, domain.ErrInvalid},
		{"no password", func(a *store.LocalAccount) { a.PasswordHash = "" }, domain.ErrInvalid},
		{"bad role", func(a *store.LocalAccount) { a.Role = "admin" }, domain.ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := base
			tc.change(&a)
			wantErr(t, f.s.CreateLocalAccount(f.ctx, &a), tc.want)
		})
	}
}

// Parallel wrong passwords must all count: a read-modify-write in the
// caller would lose some and weaken the back-off.
func testLoginFailuresParallel(t *testing.T, f *fixture) {
	a := f.account("a1", "alice@example.com")
	base := f.now()
	const n = 8
	var wg sync.WaitGroup
	counts := make(chan int, n)
	for range n {
		wg.Go(func() {
			c, err := f.s.RecordLoginFailure(f.ctx, a.ID, func(failures int) time.Time {
				return base.Add(time.Duration(failures) * time.Minute)
			})
			if err != nil {
				t.Error(err)
			}
			counts <- c
		})
	}
	wg.Wait()
	close(counts)
	seen := map[int]bool{}
	for c := range counts {
		seen[c] = true
	}
	if len(seen) != n {
		t.Errorf("parallel failures returned counts %v; want each of 1..%d once", seen, n)
	}
	got, err := f.s.GetLocalAccount(f.ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.FailedLogins != n {
		t.Errorf("FailedLogins = %d; want %d", got.FailedLogins, n)
	}
	if want := base.Add(n * time.Minute); got.LockedUntil == nil || !got.LockedUntil.Equal(want) {
		t.Errorf("LockedUntil = %v; want the longest back-off %v", got.LockedUntil, want)
	}
	_, err = f.s.RecordLoginFailure(f.ctx, "nobody", func(int) time.Time { return base })
	wantErr(t, err, domain.ErrNotFound)
}
