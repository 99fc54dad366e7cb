package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

// The storage behind the account page: browser sessions, the grants
// listed as connected apps, and revoking one client's grants.
var accountPageTests = []test{
	{"BrowserSessions", testBrowserSessions},
	{"ActiveFamilies", testActiveFamilies},
	{"RevokeClientGrants", testRevokeClientGrants},
}

func testBrowserSessions(t *testing.T, f *fixture) {
	f.account("a1", "a1@example.com")
	f.account("a2", "a2@example.com")
	ts := f.now()
	mk := func(id, account string, ttl time.Duration) *store.BrowserSession {
		s := &store.BrowserSession{ID: id, AccountID: account, UserAgent: "agent " + id, CreatedAt: f.now(), ExpiresAt: ts.Add(ttl)}
		if err := f.s.CreateBrowserSession(f.ctx, s); err != nil {
			t.Fatalf("CreateBrowserSession %s: %v", id, err)
		}
		return s
	}
	s1 := mk("s1", "a1", time.Hour)
	s2 := mk("s2", "a1", time.Hour)
	mk("s3", "a1", time.Hour)
	mk("old", "a1", time.Second) // expired by the time of the list below
	other := mk("o1", "a2", time.Hour)
	wantErr(t, f.s.CreateBrowserSession(f.ctx, s1), domain.ErrConflict)
	wantErr(t, f.s.CreateBrowserSession(f.ctx, &store.BrowserSession{ID: "x", AccountID: "nobody", CreatedAt: ts, ExpiresAt: ts}), domain.ErrNotFound)
	wantErr(t, f.s.CreateBrowserSession(f.ctx, &store.BrowserSession{ID: "", AccountID: "a1"}), domain.ErrInvalid)

	got, err := f.s.GetBrowserSession(f.ctx, "s2")
	if err != nil {
		t.Fatal(err)
	}
	sameRecord(t, "session", got, s2)
	_, err = f.s.GetBrowserSession(f.ctx, "nope")
	wantErr(t, err, domain.ErrNotFound)

	now := ts.Add(time.Minute)
	ids := func() []string {
		list, err := f.s.ListBrowserSessions(f.ctx, "a1", now)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, s := range list {
			out = append(out, s.ID)
		}
		return out
	}
	if got := ids(); !slices.Equal(got, []string{"s3", "s2", "s1"}) {
		t.Fatalf("live sessions = %v; want s3 s2 s1 (newest first, expired left out)", got)
	}
	at := f.now()
	if err := f.s.RevokeBrowserSession(f.ctx, "s3", at); err != nil {
		t.Fatal(err)
	}
	if err := f.s.RevokeBrowserSession(f.ctx, "s3", f.now()); err != nil {
		t.Fatalf("revoking twice: %v", err)
	}
	wantErr(t, f.s.RevokeBrowserSession(f.ctx, "nope", at), domain.ErrNotFound)
	if got, _ := f.s.GetBrowserSession(f.ctx, "s3"); got.RevokedAt == nil || !got.RevokedAt.Equal(at) {
		t.Errorf("revoked session = %+v; want revoked at the first revocation", got)
	}
	n, err := f.s.RevokeBrowserSessions(f.ctx, "a1", "s1", f.now())
	if err != nil || n != 2 { // s2 and the expired one; s3 was revoked already
		t.Fatalf("RevokeBrowserSessions = %d, %v; want 2", n, err)
	}
	if got := ids(); !slices.Equal(got, []string{"s1"}) {
		t.Fatalf("after sign-out elsewhere: %v; want s1", got)
	}
	if got, _ := f.s.GetBrowserSession(f.ctx, other.ID); got.RevokedAt != nil {
		t.Error("another account's session was revoked")
	}
	if n, _ := f.s.RevokeBrowserSessions(f.ctx, "a1", "", f.now()); n != 1 {
		t.Errorf("revoking all = %d; want 1 (s1)", n)
	}
	if _, err := f.s.PurgeExpiredTokens(f.ctx, ts.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	_, err = f.s.GetBrowserSession(f.ctx, "s1")
	wantErr(t, err, domain.ErrNotFound)
}

func testActiveFamilies(t *testing.T, f *fixture) {
	withRefresh := f.family("fam-r", "c1", "a1")
	f.refresh("r-old", withRefresh.ID)
	latest := f.refresh("r-new", withRefresh.ID)
	if _, err := f.s.UseRefreshToken(f.ctx, "r-old", f.now()); err != nil {
		t.Fatal(err)
	}
	accessOnly := f.family("fam-a", "c2", "a1")
	if err := f.s.RecordAccessToken(f.ctx, &store.AccessToken{JTI: "j-a", FamilyID: accessOnly.ID, ExpiresAt: f.now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	f.family("fam-code-only", "c3", "a1") // a code never exchanged: nothing usable
	revoked := f.family("fam-rev", "c1", "a1")
	f.refresh("r-rev", revoked.ID)
	if err := f.s.RevokeTokenFamily(f.ctx, revoked.ID, f.now()); err != nil {
		t.Fatal(err)
	}
	other := f.family("fam-other", "c1", "a2")
	f.refresh("r-other", other.ID)

	list, err := f.s.ListActiveFamilies(f.ctx, "a1", f.now())
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != "fam-r" || list[1].ID != "fam-a" {
		t.Fatalf("active families = %+v; want fam-r then fam-a", list)
	}
	sameRecord(t, "family", &list[0].TokenFamily, withRefresh)
	if list[0].LastIssuedAt == nil || !list[0].LastIssuedAt.Equal(latest.CreatedAt) {
		t.Errorf("last issued = %v; want the newest refresh token's creation %v", list[0].LastIssuedAt, latest.CreatedAt)
	}
	if list[1].LastIssuedAt != nil {
		t.Errorf("a family without refresh tokens has last issued %v", list[1].LastIssuedAt)
	}
	// Past every expiry nothing is usable.
	if list, _ := f.s.ListActiveFamilies(f.ctx, "a1", f.now().Add(48*time.Hour)); len(list) != 0 {
		t.Errorf("after expiry: %+v; want none", list)
	}
}

func testRevokeClientGrants(t *testing.T, f *fixture) {
	f.account("a1", "a1@example.com")
	f.account("a2", "a2@example.com")
	fam1 := f.family("fam1", "c1", "a1")
	fam2 := f.family("fam2", "c1", "a1")
	keepClient := f.family("fam3", "c2", "a1")
	keepAccount := f.family("fam4", "c1", "a2")
	exp := f.now().Add(time.Hour)
	for jti, fam := range map[string]string{"j1": fam1.ID, "j2": fam2.ID, "j3": keepClient.ID, "j4": keepAccount.ID} {
		if err := f.s.RecordAccessToken(f.ctx, &store.AccessToken{JTI: jti, FamilyID: fam, ExpiresAt: exp}); err != nil {
			t.Fatal(err)
		}
	}
	ts := f.now()
	for _, c := range []*store.Consent{{AccountID: "a1", ClientID: "c1"}, {AccountID: "a1", ClientID: "c2"}, {AccountID: "a2", ClientID: "c1"}} {
		c.Scope, c.CreatedAt, c.UpdatedAt = "atoms:read", ts, ts
		if err := f.s.PutConsent(f.ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	at := f.now()
	if err := f.s.RevokeClientGrants(f.ctx, "a1", "c1", at); err != nil {
		t.Fatal(err)
	}
	if err := f.s.RevokeClientGrants(f.ctx, "a1", "c1", f.now()); err != nil {
		t.Fatalf("revoking twice: %v", err)
	}
	if err := f.s.RevokeClientGrants(f.ctx, "a1", "never-granted", f.now()); err != nil {
		t.Fatalf("revoking a client never granted: %v", err)
	}
	for jti, want := range map[string]bool{"j1": true, "j2": true, "j3": false, "j4": false} {
		if denied, err := f.s.AccessTokenDenied(f.ctx, jti); err != nil || denied != want {
			t.Errorf("%s denied = %v, %v; want %v", jti, denied, err, want)
		}
	}
	for id, want := range map[string]bool{"fam1": true, "fam2": true, "fam3": false, "fam4": false} {
		got, err := f.s.GetTokenFamily(f.ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if (got.RevokedAt != nil) != want {
			t.Errorf("%s revoked = %v; want %v", id, got.RevokedAt, want)
		} else if want && !got.RevokedAt.Equal(at) {
			t.Errorf("%s revoked at %v; want the first revocation %v", id, got.RevokedAt, at)
		}
	}
	_, err := f.s.GetConsent(f.ctx, "a1", "c1")
	wantErr(t, err, domain.ErrNotFound)
	for _, k := range [][2]string{{"a1", "c2"}, {"a2", "c1"}} {
		if _, err := f.s.GetConsent(f.ctx, k[0], k[1]); err != nil {
			t.Errorf("consent %v went too: %v", k, err)
		}
	}
}
