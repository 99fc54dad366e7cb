package sqlcore

import (
	"context"
	"fmt"
	"time"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

// CreateSigningKey inserts k.
func (o Ops) CreateSigningKey(ctx context.Context, k *store.SigningKey) error {
	if k.ID == "" || k.Algorithm == "" || len(k.PrivateKey) == 0 {
		return fmt.Errorf("create signing key: %w: id, algorithm and key are required", domain.ErrInvalid)
	}
	_, err := o.exec(ctx,
		`INSERT INTO oauth_signing_keys (id, algorithm, private_key, created_at, retired_at) VALUES ($1, $2, $3, $4, $5)`,
		k.ID, k.Algorithm, k.PrivateKey, o.D.Time(k.CreatedAt), o.D.NullTime(k.RetiredAt))
	return wrapf(err, "create signing key %q", k.ID)
}

// ListSigningKeys returns every key, newest first.
func (o Ops) ListSigningKeys(ctx context.Context) ([]*store.SigningKey, error) {
	out, err := queryAll(ctx, o.Read, func(r Row) (*store.SigningKey, error) {
		var k store.SigningKey
		return &k, r.Scan(&k.ID, &k.Algorithm, &k.PrivateKey, o.D.ScanTime(&k.CreatedAt), o.D.ScanNullTime(&k.RetiredAt))
	}, `SELECT id, algorithm, private_key, created_at, retired_at FROM oauth_signing_keys ORDER BY created_at DESC, id DESC`)
	if err != nil {
		return nil, fmt.Errorf("list signing keys: %w", err)
	}
	return out, nil
}

// UpdateSigningKeyMaterial replaces a key's stored private key.
func (o Ops) UpdateSigningKeyMaterial(ctx context.Context, id string, privateKey []byte) error {
	if len(privateKey) == 0 {
		return fmt.Errorf("update signing key %q: %w: the key is required", id, domain.ErrInvalid)
	}
	n, err := o.exec(ctx, `UPDATE oauth_signing_keys SET private_key = $1 WHERE id = $2`, privateKey, id)
	if err != nil {
		return fmt.Errorf("update signing key %q: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("update signing key %q: %w", id, domain.ErrNotFound)
	}
	return nil
}

// RetireSigningKeys retires every active key but keepID.
func (o Ops) RetireSigningKeys(ctx context.Context, keepID string, at time.Time) error {
	_, err := o.exec(ctx, `UPDATE oauth_signing_keys SET retired_at = $1 WHERE retired_at IS NULL AND id <> $2`, o.D.Time(at), keepID)
	return wrapf(err, "retire signing keys")
}

// DeleteSigningKeysRetiredBefore deletes keys retired before t.
func (o Ops) DeleteSigningKeysRetiredBefore(ctx context.Context, t time.Time) (int, error) {
	n, err := o.exec(ctx, `DELETE FROM oauth_signing_keys WHERE retired_at IS NOT NULL AND retired_at < $1`, o.D.Time(t))
	if err != nil {
		return 0, fmt.Errorf("delete retired signing keys: %w", err)
	}
	return int(n), nil
}

// PutConsent adds or replaces a consent.
func (o Ops) PutConsent(ctx context.Context, c *store.Consent) error {
	_, err := o.exec(ctx,
		`INSERT INTO oauth_consents (account_id, client_id, scope, created_at, updated_at) VALUES ($1, $2, $3, $4, $5)
		 ON CONFLICT (account_id, client_id) DO UPDATE SET scope = excluded.scope, updated_at = excluded.updated_at`,
		c.AccountID, c.ClientID, c.Scope, o.D.Time(c.CreatedAt), o.D.Time(c.UpdatedAt))
	return wrapf(err, "put consent of %q for %q", c.AccountID, c.ClientID)
}

// GetConsent returns a consent.
func (o Ops) GetConsent(ctx context.Context, accountID, clientID string) (*store.Consent, error) {
	var c store.Consent
	err := o.Read.QueryRow(ctx,
		`SELECT account_id, client_id, scope, created_at, updated_at FROM oauth_consents WHERE account_id = $1 AND client_id = $2`,
		accountID, clientID).Scan(&c.AccountID, &c.ClientID, &c.Scope, o.D.ScanTime(&c.CreatedAt), o.D.ScanTime(&c.UpdatedAt))
	if err != nil {
		return nil, fmt.Errorf("get consent of %q for %q: %w", accountID, clientID, NotFound(err))
	}
	return &c, nil
}

// DeleteConsents deletes an account's consents.
func (o Ops) DeleteConsents(ctx context.Context, accountID string) error {
	if _, err := o.exec(ctx, `DELETE FROM oauth_consents WHERE account_id = $1`, accountID); err != nil {
		return fmt.Errorf("delete consents of %q: %w", accountID, err)
	}
	return nil
}

// CreateSetupToken inserts t.
func (o Ops) CreateSetupToken(ctx context.Context, t *store.SetupToken) error {
	if t.Hash == "" {
		return fmt.Errorf("create setup token: %w: hash is required", domain.ErrInvalid)
	}
	_, err := o.exec(ctx, `INSERT INTO oauth_setup_tokens (hash, created_at, expires_at, used_at, purpose, email, account_id) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		t.Hash, o.D.Time(t.CreatedAt), o.D.Time(t.ExpiresAt), o.D.NullTime(t.UsedAt), t.Purpose, t.Email, t.AccountID)
	return wrapf(err, "create setup token")
}

const setupTokenColumns = `hash, created_at, expires_at, used_at, purpose, email, account_id`

// ConsumeSetupToken marks a setup token used, once (see ConsumeAuthCode).
func (o Ops) ConsumeSetupToken(ctx context.Context, hash string, at time.Time) (*store.SetupToken, error) {
	t, err := consumeOnce(ctx, o, o.scanSetupToken, "oauth_setup_tokens", "hash", setupTokenColumns, hash, at)
	if err != nil {
		return t, fmt.Errorf("consume setup token: %w", err)
	}
	return t, nil
}

func (o Ops) scanSetupToken(row Row) (*store.SetupToken, error) {
	var t store.SetupToken
	if err := row.Scan(&t.Hash, o.D.ScanTime(&t.CreatedAt), o.D.ScanTime(&t.ExpiresAt), o.D.ScanNullTime(&t.UsedAt), &t.Purpose, &t.Email, &t.AccountID); err != nil {
		return nil, NotFound(err)
	}
	return &t, nil
}
