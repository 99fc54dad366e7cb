package authserver

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/atomcp/atomcp/internal/auth"
	"github.com/atomcp/atomcp/internal/secretkey"
	"github.com/atomcp/atomcp/internal/store"
)

// signingAlg is the JWS algorithm of the keys atomcp generates: ES256
// keys are small, fast, and supported by every JWT library.
const signingAlg = "ES256"

// keyReloadInterval is how often a KeySet looks for keys that another
// process (`atomcp keys rotate`) added or retired.
const keyReloadInterval = time.Minute

// KeySet holds the signing keys kept in the database: the newest active
// key signs, and every key that is active or was retired recently enough
// that tokens it signed may still be valid verifies and is published.
type KeySet struct {
	st        store.Store
	kek       *secretkey.Key // seals the private keys in the store; nil stores them in plaintext (tests)
	now       func() time.Time
	retention time.Duration // how long a retired key stays published

	mu       sync.Mutex
	signer   *key
	keys     map[string]*key // by kid
	loadedAt time.Time
}

type key struct {
	id      string
	private *ecdsa.PrivateKey
}

// NewKeySet loads the keys, generating the first one if the database has
// none. Retired keys stay published for retention (the access-token
// lifetime plus clock-skew leeway). With a key-encryption key, keys are
// stored sealed by it, and plaintext keys an older atomcp stored are
// sealed now.
func NewKeySet(ctx context.Context, st store.Store, kek *secretkey.Key, retention time.Duration, now func() time.Time) (*KeySet, error) {
	if now == nil {
		now = time.Now
	}
	k := &KeySet{st: st, kek: kek, now: now, retention: retention}
	if kek != nil {
		if err := sealPlaintextKeys(ctx, st, kek); err != nil {
			return nil, err
		}
	}
	if err := k.reload(ctx); err != nil {
		return nil, err
	}
	if k.signer == nil {
		if _, err := rotateKeys(ctx, st, kek, retention, now(), true); err != nil {
			return nil, err
		}
		if err := k.reload(ctx); err != nil {
			return nil, err
		}
	}
	return k, nil
}

// Rotate generates a new signing key and retires the others: tokens they
// signed keep verifying until they expire, so clients in flight are not
// broken. It returns the new key's id.
func (k *KeySet) Rotate(ctx context.Context) (string, error) {
	id, err := RotateKeys(ctx, k.st, k.kek, k.retention, k.now())
	if err != nil {
		return "", err
	}
	if err := k.reload(ctx); err != nil {
		return "", err
	}
	return id, nil
}

// RotateKeys is Rotate on the store alone, for `atomcp keys rotate`: a
// running server picks the new key up within keyReloadInterval, and
// verifies with it at once when a token signed by it arrives.
func RotateKeys(ctx context.Context, st store.Store, kek *secretkey.Key, retention time.Duration, now time.Time) (string, error) {
	return rotateKeys(ctx, st, kek, retention, now, false)
}

// signingKeyLock is the store.Locks name that serializes creating the
// first signing key.
const signingKeyLock = "atomcp.signing-keys"

// rotateKeys is RotateKeys; with first set it creates a key only when no
// active key exists, under signingKeyLock, so replicas starting together
// on an empty database create one key between them and the others use it.
func rotateKeys(ctx context.Context, st store.Store, kek *secretkey.Key, retention time.Duration, now time.Time, first bool) (string, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", fmt.Errorf("generate signing key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return "", fmt.Errorf("encode signing key: %w", err)
	}
	id := uuid.NewString()
	if kek != nil {
		der = kek.Seal(der, []byte(id))
	}
	err = st.InTx(ctx, func(tx store.Ops) error {
		if first {
			if err := tx.TxLock(ctx, signingKeyLock); err != nil {
				return err
			}
		}
		// Every key must open with kek: a new key sealed by another
		// key-encryption key than the rest would leave a database no
		// single key opens.
		stored, err := tx.ListSigningKeys(ctx)
		if err != nil {
			return err
		}
		for _, sk := range stored {
			if _, err := openKey(kek, sk); err != nil {
				return err
			}
			if first && sk.RetiredAt == nil {
				id = sk.ID // created by another replica meanwhile
				return nil
			}
		}
		if err := tx.CreateSigningKey(ctx, &store.SigningKey{ID: id, Algorithm: signingAlg, PrivateKey: der, CreatedAt: now}); err != nil {
			return err
		}
		if err := tx.RetireSigningKeys(ctx, id, now); err != nil {
			return err
		}
		_, err = tx.DeleteSigningKeysRetiredBefore(ctx, now.Add(-retention))
		return err
	})
	if err != nil {
		return "", fmt.Errorf("rotate signing keys: %w", err)
	}
	return id, nil
}

// reload reads the keys from the store.
func (k *KeySet) reload(ctx context.Context) error {
	stored, err := k.st.ListSigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("load signing keys: %w", err)
	}
	now := k.now()
	keys := make(map[string]*key, len(stored))
	var signer *key
	for _, sk := range stored { // newest first
		if sk.RetiredAt != nil && now.Sub(*sk.RetiredAt) > k.retention {
			continue
		}
		if sk.Algorithm != signingAlg {
			return fmt.Errorf("signing key %s has algorithm %s; this atomcp handles %s only", sk.ID, sk.Algorithm, signingAlg)
		}
		der, err := openKey(k.kek, sk)
		if err != nil {
			return err
		}
		parsed, err := x509.ParsePKCS8PrivateKey(der)
		if err != nil {
			return fmt.Errorf("signing key %s: %w", sk.ID, err)
		}
		priv, ok := parsed.(*ecdsa.PrivateKey)
		if !ok {
			return fmt.Errorf("signing key %s is not an ECDSA key", sk.ID)
		}
		kk := &key{id: sk.ID, private: priv}
		keys[sk.ID] = kk
		if signer == nil && sk.RetiredAt == nil {
			signer = kk
		}
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.keys, k.signer, k.loadedAt = keys, signer, now
	return nil
}

// openKey returns the PKCS #8 DER of a stored key: unsealed with kek, or
// as stored when an older atomcp (or a test without a KEK) stored it in
// plaintext.
func openKey(kek *secretkey.Key, sk *store.SigningKey) ([]byte, error) {
	if !secretkey.IsSealed(sk.PrivateKey) {
		return sk.PrivateKey, nil
	}
	if kek == nil {
		return nil, fmt.Errorf("signing key %s is sealed and no secret key is configured (ATOMCP_SECRET_KEY / ATOMCP_SECRET_KEY_FILE)", sk.ID)
	}
	der, err := kek.Open(sk.PrivateKey, []byte(sk.ID))
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", sk.ID, err)
	}
	return der, nil
}

// sealPlaintextKeys seals, in one transaction, the keys an older atomcp
// stored in plaintext: the migration to sealed keys, done in code
// because SQL cannot encrypt.
func sealPlaintextKeys(ctx context.Context, st store.Store, kek *secretkey.Key) error {
	return ResealKeys(ctx, st, nil, kek, true)
}

// ResealKeys re-seals every stored signing key under next, in one
// transaction: keys sealed by prev are opened with it, plaintext ones
// taken as they are. With plaintextOnly, keys already sealed are left
// alone (and prev is not needed). `atomcp keys rotate --kek` uses it; a
// running server must be restarted with the new key, since it can no
// longer read keys added after the change with the old one.
func ResealKeys(ctx context.Context, st store.Store, prev, next *secretkey.Key, plaintextOnly bool) error {
	err := st.InTx(ctx, func(tx store.Ops) error {
		stored, err := tx.ListSigningKeys(ctx)
		if err != nil {
			return err
		}
		for _, sk := range stored {
			if plaintextOnly && secretkey.IsSealed(sk.PrivateKey) {
				continue
			}
			der, err := openKey(prev, sk)
			if err != nil {
				return err
			}
			if err := tx.UpdateSigningKeyMaterial(ctx, sk.ID, next.Seal(der, []byte(sk.ID))); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("seal signing keys: %w", err)
	}
	return nil
}

// current returns the signing key, reloading from the store when the
// cache is old.
func (k *KeySet) current(ctx context.Context) (*key, error) {
	k.mu.Lock()
	stale := k.now().Sub(k.loadedAt) > keyReloadInterval
	signer := k.signer
	k.mu.Unlock()
	if stale || signer == nil {
		if err := k.reload(ctx); err != nil {
			if signer != nil {
				return signer, nil // keep signing with the key we have
			}
			return nil, err
		}
		k.mu.Lock()
		signer = k.signer
		k.mu.Unlock()
	}
	if signer == nil {
		return nil, errors.New("no active signing key; run `atomcp keys rotate`")
	}
	return signer, nil
}

// sign signs claims with the current key.
func (k *KeySet) sign(ctx context.Context, claims jwt.Claims, typ string) (string, error) {
	sk, err := k.current(ctx)
	if err != nil {
		return "", err
	}
	t := jwt.NewWithClaims(jwt.SigningMethodES256, claims)
	t.Header["kid"] = sk.id
	if typ != "" {
		t.Header["typ"] = typ
	}
	return t.SignedString(sk.private)
}

// lookup returns the public key with the id. An unknown id makes it
// reload once (a key another process just created).
func (k *KeySet) lookup(ctx context.Context, kid string) (*ecdsa.PublicKey, error) {
	k.mu.Lock()
	kk := k.keys[kid]
	recent := k.now().Sub(k.loadedAt) < time.Second
	k.mu.Unlock()
	if kk == nil && !recent {
		if err := k.reload(ctx); err != nil {
			return nil, err
		}
		k.mu.Lock()
		kk = k.keys[kid]
		k.mu.Unlock()
	}
	if kk == nil {
		return nil, fmt.Errorf("kid %q: %w", kid, auth.ErrUnknownKey)
	}
	return &kk.private.PublicKey, nil
}

// Keyfunc returns the verification key of a token this server signed,
// for jwt.Parse and for the resource server's JWT verifier
// (auth.LocalKeys).
func (k *KeySet) Keyfunc(ctx context.Context) jwt.Keyfunc {
	return func(t *jwt.Token) (any, error) {
		if t.Method.Alg() != signingAlg {
			return nil, fmt.Errorf("unexpected signing algorithm %s", t.Method.Alg())
		}
		kid, _ := t.Header["kid"].(string)
		return k.lookup(ctx, kid)
	}
}

// jwk is a public JSON Web Key (RFC 7517) of an EC P-256 key.
type jwk struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
}

// JWKS returns the published keys, newest first.
func (k *KeySet) JWKS(ctx context.Context) (map[string][]jwk, error) {
	if _, err := k.current(ctx); err != nil { // refreshes a stale cache
		return nil, err
	}
	stored, err := k.st.ListSigningKeys(ctx)
	if err != nil {
		return nil, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	out := []jwk{}
	for _, sk := range stored {
		kk := k.keys[sk.ID]
		if kk == nil {
			continue
		}
		pub, err := kk.private.PublicKey.Bytes() // 0x04 || X || Y
		if err != nil || len(pub) != 65 {
			return nil, fmt.Errorf("encode public key %s: %v", kk.id, err)
		}
		out = append(out, jwk{Kty: "EC", Crv: "P-256", Kid: kk.id, Use: "sig", Alg: signingAlg,
			X: base64.RawURLEncoding.EncodeToString(pub[1:33]), Y: base64.RawURLEncoding.EncodeToString(pub[33:])})
	}
	return map[string][]jwk{"keys": out}, nil
}
