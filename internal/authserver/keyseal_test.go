package authserver

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/atomcp/atomcp/internal/secretkey"
	"github.com/atomcp/atomcp/internal/store/sqlite"
)

// TestSealedSigningKeys: plaintext keys of an older database are sealed at
// start, under the same kid (tokens they signed keep verifying); the
// database then opens only with that key-encryption key; ResealKeys moves
// it to another one.
func TestSealedSigningKeys(t *testing.T) {
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "atomcp.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return time.Unix(1_800_000_000, 0) }
	kid, err := RotateKeys(ctx, st, nil, time.Hour, now()) // as an older atomcp stored it
	if err != nil {
		t.Fatal(err)
	}
	kek, _, _ := secretkey.Generate()
	ks, err := NewKeySet(ctx, st, kek, time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	if sk, _ := ks.current(ctx); sk == nil || sk.id != kid {
		t.Fatalf("signer after sealing: %+v, want kid %s", sk, kid)
	}
	stored, err := st.ListSigningKeys(ctx)
	if err != nil || len(stored) != 1 || !secretkey.IsSealed(stored[0].PrivateKey) {
		t.Fatalf("stored after start: %v %+v", err, stored)
	}
	if _, err := NewKeySet(ctx, st, nil, time.Hour, now); err == nil {
		t.Error("a sealed database opened without the key-encryption key")
	}
	next, _, _ := secretkey.Generate()
	if err := ResealKeys(ctx, st, kek, next, false); err != nil {
		t.Fatal(err)
	}
	if _, err := NewKeySet(ctx, st, kek, time.Hour, now); !errors.Is(err, secretkey.ErrWrongKey) {
		t.Errorf("the old key-encryption key after ResealKeys: %v", err)
	}
	ks, err = NewKeySet(ctx, st, next, time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	if sk, _ := ks.current(ctx); sk == nil || sk.id != kid {
		t.Fatalf("signer after ResealKeys: %+v", sk)
	}
	newKID, err := ks.Rotate(ctx) // new keys are sealed too
	if err != nil {
		t.Fatal(err)
	}
	stored, _ = st.ListSigningKeys(ctx)
	for _, k := range stored {
		if k.ID == newKID && !secretkey.IsSealed(k.PrivateKey) {
			t.Error("a rotated key is stored in the clear")
		}
	}
}
