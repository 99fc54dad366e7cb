package storetest

import (
	"testing"
	"time"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

var signinTests = []test{
	{"SigninRequestSingleUse", testSigninRequest},
	{"SigninRequestPurged", testSigninRequestPurged},
	{"LinkedIdentities", testLinkedIdentities},
}

func testSigninRequest(t *testing.T, f *fixture) {
	ts := f.now()
	r := &store.SigninRequest{StateHash: "st1", Connector: "oidc", Nonce: "n", Verifier: "v", Authz: "client_id=c&state=x",
		ReturnPath: "/account", CreatedAt: ts, ExpiresAt: ts.Add(10 * time.Minute)}
	if err := f.s.CreateSigninRequest(f.ctx, r); err != nil {
		t.Fatal(err)
	}
	wantErr(t, f.s.CreateSigninRequest(f.ctx, r), domain.ErrConflict)
	wantErr(t, f.s.CreateSigninRequest(f.ctx, &store.SigninRequest{StateHash: "st2"}), domain.ErrInvalid)
	at := f.now()
	if wins := race(t, 4, func() error { _, err := f.s.ConsumeSigninRequest(f.ctx, "st1", at); return err }); wins != 1 {
		t.Fatalf("%d concurrent callbacks succeeded; want 1", wins)
	}
	got, err := f.s.ConsumeSigninRequest(f.ctx, "st1", f.now())
	wantErr(t, err, store.ErrAlreadyUsed)
	want := *r
	want.UsedAt = &at
	sameRecord(t, "used sign-in request", got, &want)
	_, err = f.s.ConsumeSigninRequest(f.ctx, "unknown", at)
	wantErr(t, err, domain.ErrNotFound)
}

func testSigninRequestPurged(t *testing.T, f *fixture) {
	ts := f.now()
	for _, h := range []string{"old", "new"} {
		exp := ts.Add(10 * time.Minute)
		if h == "old" {
			exp = ts.Add(-time.Minute)
		}
		if err := f.s.CreateSigninRequest(f.ctx, &store.SigninRequest{StateHash: h, Connector: "github", CreatedAt: ts, ExpiresAt: exp}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.s.PurgeExpiredTokens(f.ctx, ts); err != nil {
		t.Fatal(err)
	}
	_, err := f.s.ConsumeSigninRequest(f.ctx, "old", ts)
	wantErr(t, err, domain.ErrNotFound)
	if _, err := f.s.ConsumeSigninRequest(f.ctx, "new", ts); err != nil {
		t.Fatalf("a live request was purged: %v", err)
	}
}

func testLinkedIdentities(t *testing.T, f *fixture) {
	alice := f.account("a1", "alice@example.com")
	bob := f.account("b1", "bob@example.com")
	ts := f.now()
	gh := &store.LinkedIdentity{Connector: "github", Subject: "7", AccountID: alice.ID, Email: "alice@example.com", CreatedAt: ts, LastUsedAt: ts}
	wos := &store.LinkedIdentity{Connector: "workos", Subject: "user_01", AccountID: alice.ID, Email: "alice@example.com", OrgID: "org_1", CreatedAt: ts, LastUsedAt: ts}
	for _, id := range []*store.LinkedIdentity{wos, gh} {
		if err := f.s.PutLinkedIdentity(f.ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	got, err := f.s.GetLinkedIdentity(f.ctx, "github", "7")
	if err != nil {
		t.Fatal(err)
	}
	sameRecord(t, "linked identity", got, gh)
	_, err = f.s.GetLinkedIdentity(f.ctx, "github", "8")
	wantErr(t, err, domain.ErrNotFound)

	// A later sign-in refreshes email, org and last use, never the
	// account or the first link's time.
	later := f.now()
	again := *wos
	again.Email, again.OrgID, again.LastUsedAt, again.CreatedAt = "alice@new.example", "org_2", later, later
	if err := f.s.PutLinkedIdentity(f.ctx, &again); err != nil {
		t.Fatal(err)
	}
	got, _ = f.s.GetLinkedIdentity(f.ctx, "workos", "user_01")
	want := *wos
	want.Email, want.OrgID, want.LastUsedAt = "alice@new.example", "org_2", later
	sameRecord(t, "refreshed identity", got, &want)

	stolen := *gh
	stolen.AccountID = bob.ID
	wantErr(t, f.s.PutLinkedIdentity(f.ctx, &stolen), domain.ErrConflict)
	wantErr(t, f.s.PutLinkedIdentity(f.ctx, &store.LinkedIdentity{Connector: "oidc", Subject: "x", AccountID: "nobody", CreatedAt: ts, LastUsedAt: ts}), domain.ErrNotFound)
	wantErr(t, f.s.PutLinkedIdentity(f.ctx, &store.LinkedIdentity{Connector: "oidc", AccountID: alice.ID}), domain.ErrInvalid)

	list, err := f.s.ListLinkedIdentities(f.ctx, alice.ID)
	if err != nil || len(list) != 2 || list[0].Connector != "github" || list[1].Connector != "workos" {
		t.Fatalf("ListLinkedIdentities = %d, %v; want github then workos", len(list), err)
	}
	if list, _ := f.s.ListLinkedIdentities(f.ctx, bob.ID); len(list) != 0 {
		t.Fatalf("bob has %d identities; want none", len(list))
	}
	n, err := f.s.DeleteLinkedIdentities(f.ctx, alice.ID, "github")
	if err != nil || n != 1 {
		t.Fatalf("DeleteLinkedIdentities = %d, %v; want 1", n, err)
	}
	_, err = f.s.GetLinkedIdentity(f.ctx, "github", "7")
	wantErr(t, err, domain.ErrNotFound)
	if n, _ := f.s.DeleteLinkedIdentities(f.ctx, alice.ID, "github"); n != 0 {
		t.Fatalf("second unlink removed %d; want 0", n)
	}
}
