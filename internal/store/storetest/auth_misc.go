package storetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

var signingKeyTests = []test{
	{"SigningKeys", testSigningKeys},
	{"ServerSecretCreatedOnce", testServerSecret},
}

// The first value stored under a name stays; later ones get it back.
func testServerSecret(t *testing.T, f *fixture) {
	got, err := f.s.EnsureServerSecret(f.ctx, "k", []byte{1, 2, 0, 3}, f.now())
	if err != nil || !bytes.Equal(got, []byte{1, 2, 0, 3}) {
		t.Fatalf("first EnsureServerSecret = %v, %v; want its value", got, err)
	}
	got, err = f.s.EnsureServerSecret(f.ctx, "k", []byte{9}, f.now())
	if err != nil || !bytes.Equal(got, []byte{1, 2, 0, 3}) {
		t.Fatalf("second EnsureServerSecret = %v, %v; want the first value", got, err)
	}
	if got, err := f.s.EnsureServerSecret(f.ctx, "other", []byte{9}, f.now()); err != nil || !bytes.Equal(got, []byte{9}) {
		t.Fatalf("EnsureServerSecret(other) = %v, %v; want its own value", got, err)
	}
	_, err = f.s.EnsureServerSecret(f.ctx, "", []byte{9}, f.now())
	wantErr(t, err, domain.ErrInvalid)
}

var consentTests = []test{
	{"Consents", testConsents},
}

var setupTokenTests = []test{
	{"SetupTokenSingleUse", testSetupToken},
}

func testSigningKeys(t *testing.T, f *fixture) {
	k1 := &store.SigningKey{ID: "k1", Algorithm: "ES256", PrivateKey: []byte{0x30, 0x01, 0x00, 0xff}, CreatedAt: f.now()}
	k2 := &store.SigningKey{ID: "k2", Algorithm: "ES256", PrivateKey: []byte{0x30, 0x02}, CreatedAt: f.now()}
	for _, k := range []*store.SigningKey{k1, k2} {
		if err := f.s.CreateSigningKey(f.ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	wantErr(t, f.s.CreateSigningKey(f.ctx, k1), domain.ErrConflict)
	keys, err := f.s.ListSigningKeys(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0].ID != "k2" || keys[1].ID != "k1" {
		t.Fatalf("ListSigningKeys = %d keys; want k2 then k1", len(keys))
	}
	if !bytes.Equal(keys[1].PrivateKey, k1.PrivateKey) {
		t.Errorf("key bytes = %x; want %x", keys[1].PrivateKey, k1.PrivateKey)
	}
	sameRecord(t, "key", keys[1], k1)

	at := f.now()
	if err := f.s.RetireSigningKeys(f.ctx, "k2", at); err != nil {
		t.Fatal(err)
	}
	keys, _ = f.s.ListSigningKeys(f.ctx)
	if keys[0].RetiredAt != nil || keys[1].RetiredAt == nil || !keys[1].RetiredAt.Equal(at) {
		t.Errorf("after retiring all but k2: k2 retired %v, k1 retired %v; want nil, %v", keys[0].RetiredAt, keys[1].RetiredAt, at)
	}
	n, err := f.s.DeleteSigningKeysRetiredBefore(f.ctx, at) // not before: kept
	if err != nil || n != 0 {
		t.Errorf("DeleteSigningKeysRetiredBefore(retirement) = %d, %v; want 0", n, err)
	}
	n, err = f.s.DeleteSigningKeysRetiredBefore(f.ctx, at.Add(time.Second))
	if err != nil || n != 1 {
		t.Errorf("DeleteSigningKeysRetiredBefore(later) = %d, %v; want 1", n, err)
	}
	keys, _ = f.s.ListSigningKeys(f.ctx)
	if len(keys) != 1 || keys[0].ID != "k2" {
		t.Errorf("after deletion %d keys remain; want k2 only", len(keys))
	}
}

func testConsents(t *testing.T, f *fixture) {
	f.account("a1", "alice@example.com")
	c := &store.Consent{AccountID: "a1", ClientID: "c1", Scope: "atoms:read", CreatedAt: f.now(), UpdatedAt: f.now()}
	if err := f.s.PutConsent(f.ctx, c); err != nil {
		t.Fatal(err)
	}
	got, err := f.s.GetConsent(f.ctx, "a1", "c1")
	if err != nil {
		t.Fatal(err)
	}
	sameRecord(t, "consent", got, c)

	grown := *c
	grown.Scope, grown.CreatedAt, grown.UpdatedAt = "atoms:read atoms:write", f.now(), f.now()
	if err := f.s.PutConsent(f.ctx, &grown); err != nil {
		t.Fatal(err)
	}
	got, _ = f.s.GetConsent(f.ctx, "a1", "c1")
	want := grown
	want.CreatedAt = c.CreatedAt // replacing keeps the first consent's time
	sameRecord(t, "replaced consent", got, &want)

	_, err = f.s.GetConsent(f.ctx, "a1", "c2")
	wantErr(t, err, domain.ErrNotFound)
	wantErr(t, f.s.PutConsent(f.ctx, &store.Consent{AccountID: "nobody", ClientID: "c1", CreatedAt: f.now(), UpdatedAt: f.now()}), domain.ErrInvalid)

	if err := f.s.DeleteConsents(f.ctx, "a1"); err != nil {
		t.Fatal(err)
	}
	_, err = f.s.GetConsent(f.ctx, "a1", "c1")
	wantErr(t, err, domain.ErrNotFound)
}

func testSetupToken(t *testing.T, f *fixture) {
	ts := f.now()
	tok := &store.SetupToken{Hash: "s1", CreatedAt: ts, ExpiresAt: ts.Add(15 * time.Minute)}
	if err := f.s.CreateSetupToken(f.ctx, tok); err != nil {
		t.Fatal(err)
	}
	at := f.now()
	if wins := race(t, 4, func() error { _, err := f.s.ConsumeSetupToken(f.ctx, "s1", at); return err }); wins != 1 {
		t.Fatalf("%d concurrent setups succeeded; want 1", wins)
	}
	got, err := f.s.ConsumeSetupToken(f.ctx, "s1", f.now())
	wantErr(t, err, store.ErrAlreadyUsed)
	want := *tok
	want.UsedAt = &at
	sameRecord(t, "used setup token", got, &want)
	_, err = f.s.ConsumeSetupToken(f.ctx, "unknown", at)
	wantErr(t, err, domain.ErrNotFound)

	// Account invitation and reset links keep their purpose and target.
	link := &store.SetupToken{Hash: "s2", CreatedAt: ts, ExpiresAt: ts.Add(time.Hour), Purpose: store.SetupPurposeReset, Email: "a@example.com", AccountID: "acc-1"}
	if err := f.s.CreateSetupToken(f.ctx, link); err != nil {
		t.Fatal(err)
	}
	got, err = f.s.ConsumeSetupToken(f.ctx, "s2", at)
	if err != nil {
		t.Fatal(err)
	}
	want = *link
	want.UsedAt = &at
	sameRecord(t, "reset link", got, &want)
}
