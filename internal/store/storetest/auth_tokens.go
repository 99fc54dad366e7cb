package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

var authCodeTests = []test{
	{"AuthCodeSingleUse", testAuthCodeSingleUse},
	{"AuthCodeConcurrentConsume", testAuthCodeConcurrent},
	{"AuthCodeRolledBack", testAuthCodeRolledBack},
}

var tokenFamilyTests = []test{
	{"RefreshRotation", testRefreshRotation},
	{"RefreshConcurrentUse", testRefreshConcurrent},
	{"FamilyRevocationDenyLists", testFamilyRevocation},
	{"DenyAccessToken", testDenyAccessToken},
	{"PurgeExpiredTokens", testPurgeExpired},
}

func (f *fixture) code(hash string) *store.AuthCode {
	f.t.Helper()
	ts := f.now()
	c := &store.AuthCode{Hash: hash, ClientID: "c1", AccountID: "a1", RedirectURI: "http://127.0.0.1:3000/cb",
		Scope: "atoms:read", Resource: "https://mcp.example/api/mcp", CodeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		CodeChallengeMethod: "S256", FamilyID: "fam-" + hash, CreatedAt: ts, ExpiresAt: ts.Add(time.Minute)}
	if err := f.s.CreateAuthCode(f.ctx, c); err != nil {
		f.t.Fatalf("CreateAuthCode: %v", err)
	}
	return c
}

func testAuthCodeSingleUse(t *testing.T, f *fixture) {
	c := f.code("h1")
	got, err := f.s.GetAuthCode(f.ctx, "h1")
	if err != nil {
		t.Fatal(err)
	}
	sameRecord(t, "code", got, c)

	at := f.now()
	got, err = f.s.ConsumeAuthCode(f.ctx, "h1", at)
	if err != nil {
		t.Fatal(err)
	}
	want := *c
	want.UsedAt = &at
	sameRecord(t, "consumed code", got, &want)

	// The replay gets the code back, so that the caller can revoke what
	// was issued from it.
	got, err = f.s.ConsumeAuthCode(f.ctx, "h1", f.now())
	wantErr(t, err, store.ErrAlreadyUsed)
	if got == nil || got.FamilyID != c.FamilyID || got.UsedAt == nil || !got.UsedAt.Equal(at) {
		t.Errorf("replayed ConsumeAuthCode returned %+v; want the code, used at %v", got, at)
	}
	_, err = f.s.ConsumeAuthCode(f.ctx, "unknown", f.now())
	wantErr(t, err, domain.ErrNotFound)
	wantErr(t, f.s.CreateAuthCode(f.ctx, c), domain.ErrConflict)
}

func testAuthCodeConcurrent(t *testing.T, f *fixture) {
	f.code("h1")
	at := f.now()
	winners := race(t, 8, func() error {
		_, err := f.s.ConsumeAuthCode(f.ctx, "h1", at)
		return err
	})
	if winners != 1 {
		t.Errorf("%d concurrent consumers succeeded; want exactly 1", winners)
	}
}

// race runs fn n times at once and returns how many returned nil; every
// other call must fail with ErrAlreadyUsed.
func race(t *testing.T, n int, fn func() error) int {
	t.Helper()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		wins int
	)
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			err := fn()
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case !errors.Is(err, store.ErrAlreadyUsed):
				t.Errorf("concurrent use failed with %v; want ErrAlreadyUsed", err)
			}
		})
	}
	close(start)
	wg.Wait()
	return wins
}

// A code consumed in a transaction that rolls back stays usable: the
// token endpoint consumes the code and records the tokens together.
func testAuthCodeRolledBack(t *testing.T, f *fixture) {
	f.code("h1")
	boom := errors.New("boom")
	err := f.s.InTx(f.ctx, func(tx store.Ops) error {
		if _, err := tx.ConsumeAuthCode(f.ctx, "h1", f.now()); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx = %v; want boom", err)
	}
	if _, err := f.s.ConsumeAuthCode(f.ctx, "h1", f.now()); err != nil {
		t.Errorf("code consumed in a rolled-back transaction: %v", err)
	}
}

func (f *fixture) refresh(hash, familyID string) *store.RefreshToken {
	f.t.Helper()
	ts := f.now()
	r := &store.RefreshToken{Hash: hash, FamilyID: familyID, ClientID: "c1", AccountID: "a1", Scope: "atoms:read",
		Resource: "https://mcp.example/api/mcp", CreatedAt: ts, ExpiresAt: ts.Add(24 * time.Hour)}
	if err := f.s.CreateRefreshToken(f.ctx, r); err != nil {
		f.t.Fatalf("CreateRefreshToken: %v", err)
	}
	return r
}

func testRefreshRotation(t *testing.T, f *fixture) {
	fam := f.family("fam1", "c1", "a1")
	got, err := f.s.GetTokenFamily(f.ctx, fam.ID)
	if err != nil {
		t.Fatal(err)
	}
	sameRecord(t, "family", got, fam)
	r1 := f.refresh("r1", fam.ID)
	if got, err := f.s.GetRefreshToken(f.ctx, "r1"); err != nil {
		t.Fatal(err)
	} else {
		sameRecord(t, "refresh token", got, r1)
	}

	at := f.now()
	used, err := f.s.UseRefreshToken(f.ctx, "r1", at)
	if err != nil {
		t.Fatal(err)
	}
	want := *r1
	want.UsedAt = &at
	sameRecord(t, "used refresh token", used, &want)
	f.refresh("r2", fam.ID)

	replayed, err := f.s.UseRefreshToken(f.ctx, "r1", f.now())
	wantErr(t, err, store.ErrAlreadyUsed)
	if replayed == nil || replayed.FamilyID != fam.ID {
		t.Errorf("replay returned %+v; want the token with its family", replayed)
	}
	if _, err := f.s.UseRefreshToken(f.ctx, "r2", f.now()); err != nil {
		t.Errorf("the rotated token: %v", err)
	}
	_, err = f.s.UseRefreshToken(f.ctx, "unknown", f.now())
	wantErr(t, err, domain.ErrNotFound)
	_, err = f.s.GetTokenFamily(f.ctx, "unknown")
	wantErr(t, err, domain.ErrNotFound)
	// A refresh token belongs to an existing family.
	bad := *r1
	bad.Hash, bad.FamilyID = "r3", "no-family"
	wantErr(t, f.s.CreateRefreshToken(f.ctx, &bad), domain.ErrInvalid)
}

func testRefreshConcurrent(t *testing.T, f *fixture) {
	fam := f.family("fam1", "c1", "a1")
	f.refresh("r1", fam.ID)
	at := f.now()
	if wins := race(t, 8, func() error { _, err := f.s.UseRefreshToken(f.ctx, "r1", at); return err }); wins != 1 {
		t.Errorf("%d concurrent refreshes succeeded; want exactly 1", wins)
	}
}

func testFamilyRevocation(t *testing.T, f *fixture) {
	fam := f.family("fam1", "c1", "a1")
	exp := f.now().Add(time.Hour)
	for _, jti := range []string{"j1", "j2"} {
		if err := f.s.RecordAccessToken(f.ctx, &store.AccessToken{JTI: jti, FamilyID: fam.ID, ExpiresAt: exp}); err != nil {
			t.Fatal(err)
		}
	}
	if denied, _ := f.s.AccessTokenDenied(f.ctx, "j1"); denied {
		t.Fatal("j1 denied before any revocation")
	}
	at := f.now()
	if err := f.s.RevokeTokenFamily(f.ctx, fam.ID, at); err != nil {
		t.Fatal(err)
	}
	if err := f.s.RevokeTokenFamily(f.ctx, fam.ID, f.now()); err != nil {
		t.Errorf("revoking twice: %v", err)
	}
	got, _ := f.s.GetTokenFamily(f.ctx, fam.ID)
	if got.RevokedAt == nil || !got.RevokedAt.Equal(at) {
		t.Errorf("RevokedAt = %v; want %v", got.RevokedAt, at)
	}
	for _, jti := range []string{"j1", "j2"} {
		if denied, err := f.s.AccessTokenDenied(f.ctx, jti); err != nil || !denied {
			t.Errorf("AccessTokenDenied(%s) = %v, %v after family revocation; want true", jti, denied, err)
		}
	}
	// A token recorded after the revocation (a race with the token
	// endpoint) is denied at once.
	if err := f.s.RecordAccessToken(f.ctx, &store.AccessToken{JTI: "j3", FamilyID: fam.ID, ExpiresAt: exp}); err != nil {
		t.Fatal(err)
	}
	if denied, _ := f.s.AccessTokenDenied(f.ctx, "j3"); !denied {
		t.Error("access token recorded in a revoked family is not denied")
	}
	wantErr(t, f.s.RevokeTokenFamily(f.ctx, "unknown", at), domain.ErrNotFound)
}

func testDenyAccessToken(t *testing.T, f *fixture) {
	exp := f.now().Add(time.Hour)
	for range 2 { // idempotent
		if err := f.s.DenyAccessToken(f.ctx, "j1", exp); err != nil {
			t.Fatal(err)
		}
	}
	if denied, _ := f.s.AccessTokenDenied(f.ctx, "j1"); !denied {
		t.Error("j1 not denied")
	}
	if denied, _ := f.s.AccessTokenDenied(f.ctx, "j2"); denied {
		t.Error("j2 denied without being revoked")
	}
	wantErr(t, f.s.DenyAccessToken(f.ctx, "", exp), domain.ErrInvalid)
}

func testPurgeExpired(t *testing.T, f *fixture) {
	old := f.family("fam-old", "c1", "a1")
	live := f.family("fam-live", "c1", "a1")
	f.code("h-old") // expires a minute after creation
	f.refresh("r-live", live.ID)
	now := f.now().Add(2 * time.Hour)
	for _, a := range []*store.AccessToken{
		{JTI: "j-old", FamilyID: old.ID, ExpiresAt: now.Add(-time.Minute)},
		{JTI: "j-live", FamilyID: live.ID, ExpiresAt: now.Add(time.Hour)},
	} {
		if err := f.s.RecordAccessToken(f.ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.s.DenyAccessToken(f.ctx, "j-gone", now.Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := f.s.DenyAccessToken(f.ctx, "j-kept", now.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	n, err := f.s.PurgeExpiredTokens(f.ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	// h-old, j-old's record, j-gone and the now empty fam-old.
	if n != 4 {
		t.Errorf("PurgeExpiredTokens removed %d rows; want 4", n)
	}
	if _, err := f.s.GetAuthCode(f.ctx, "h-old"); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("expired code kept: %v", err)
	}
	if _, err := f.s.GetTokenFamily(f.ctx, old.ID); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("empty family kept: %v", err)
	}
	if _, err := f.s.GetTokenFamily(f.ctx, live.ID); err != nil {
		t.Errorf("live family purged: %v", err)
	}
	if _, err := f.s.GetRefreshToken(f.ctx, "r-live"); err != nil {
		t.Errorf("live refresh token purged: %v", err)
	}
	if denied, _ := f.s.AccessTokenDenied(f.ctx, "j-gone"); denied {
		t.Error("expired deny-list entry kept")
	}
	if denied, _ := f.s.AccessTokenDenied(f.ctx, "j-kept"); !denied {
		t.Error("live deny-list entry purged")
	}
}
