package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

// CreateSigningKey inserts k.
func (o ops) CreateSigningKey(ctx context.Context, k *store.SigningKey) error {
	if k.ID == "" || k.Algorithm == "" || len(k.PrivateKey) == 0 {
		return fmt.Errorf("create signing key: %w: id, algorithm and key are required", domain.ErrInvalid)
	}
	_, err := o.write.ExecContext(ctx,
		`INSERT INTO oauth_signing_keys (id, algorithm, private_key, created_at, retired_at) VALUES (?, ?, ?, ?, ?)`,
		k.ID, k.Algorithm, k.PrivateKey, encodeTime(k.CreatedAt), encodeTimePtr(k.RetiredAt))
	if err != nil {
		return fmt.Errorf("create signing key %q: %w", k.ID, mapErr(err))
	}
	return nil
}

// ListSigningKeys returns every key, newest first.
func (o ops) ListSigningKeys(ctx context.Context) ([]*store.SigningKey, error) {
	rows, err := o.read.QueryContext(ctx,
		`SELECT id, algorithm, private_key, created_at, retired_at FROM oauth_signing_keys ORDER BY created_at DESC, id DESC`)
	if err != nil {
		return nil, fmt.Errorf("list signing keys: %w", err)
	}
	defer rows.Close()
	var out []*store.SigningKey
	for rows.Next() {
		var (
			k         store.SigningKey
			createdAt string
			retiredAt sql.NullString
		)
		if err := rows.Scan(&k.ID, &k.Algorithm, &k.PrivateKey, &createdAt, &retiredAt); err != nil {
			return nil, fmt.Errorf("list signing keys: %w", err)
		}
		if k.CreatedAt, err = decodeTime(createdAt); err != nil {
			return nil, err
		}
		if k.RetiredAt, err = decodeTimePtr(retiredAt); err != nil {
			return nil, err
		}
		out = append(out, &k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list signing keys: %w", err)
	}
	return out, nil
}

// RetireSigningKeys retires every active key but keepID.
func (o ops) RetireSigningKeys(ctx context.Context, keepID string, at time.Time) error {
	_, err := o.write.ExecContext(ctx,
		`UPDATE oauth_signing_keys SET retired_at = ? WHERE retired_at IS NULL AND id <> ?`, encodeTime(at), keepID)
	if err != nil {
		return fmt.Errorf("retire signing keys: %w", err)
	}
	return nil
}

// DeleteSigningKeysRetiredBefore deletes keys retired before t.
func (o ops) DeleteSigningKeysRetiredBefore(ctx context.Context, t time.Time) (int, error) {
	res, err := o.write.ExecContext(ctx,
		`DELETE FROM oauth_signing_keys WHERE retired_at IS NOT NULL AND retired_at < ?`, encodeTime(t))
	if err != nil {
		return 0, fmt.Errorf("delete retired signing keys: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// PutConsent adds or replaces a consent.
func (o ops) PutConsent(ctx context.Context, c *store.Consent) error {
	_, err := o.write.ExecContext(ctx,
		`INSERT INTO oauth_consents (account_id, client_id, scope, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
		 ON CONFLICT (account_id, client_id) DO UPDATE SET scope = excluded.scope, updated_at = excluded.updated_at`,
		c.AccountID, c.ClientID, c.Scope, encodeTime(c.CreatedAt), encodeTime(c.UpdatedAt))
	if err != nil {
		return fmt.Errorf("put consent of %q for %q: %w", c.AccountID, c.ClientID, mapErr(err))
	}
	return nil
}

// GetConsent returns a consent.
func (o ops) GetConsent(ctx context.Context, accountID, clientID string) (*store.Consent, error) {
	var (
		c                    store.Consent
		createdAt, updatedAt string
	)
	err := o.read.QueryRowContext(ctx,
		`SELECT account_id, client_id, scope, created_at, updated_at FROM oauth_consents WHERE account_id = ? AND client_id = ?`,
		accountID, clientID).Scan(&c.AccountID, &c.ClientID, &c.Scope, &createdAt, &updatedAt)
	if err != nil {
		return nil, fmt.Errorf("get consent of %q for %q: %w", accountID, clientID, notFound(err))
	}
	if c.CreatedAt, err = decodeTime(createdAt); err != nil {
		return nil, err
	}
	if c.UpdatedAt, err = decodeTime(updatedAt); err != nil {
		return nil, err
	}
	return &c, nil
}

// DeleteConsents deletes an account's consents.
func (o ops) DeleteConsents(ctx context.Context, accountID string) error {
	if _, err := o.write.ExecContext(ctx, `DELETE FROM oauth_consents WHERE account_id = ?`, accountID); err != nil {
		return fmt.Errorf("delete consents of %q: %w", accountID, err)
	}
	return nil
}

// CreateSetupToken inserts t.
func (o ops) CreateSetupToken(ctx context.Context, t *store.SetupToken) error {
	if t.Hash == "" {
		return fmt.Errorf("create setup token: %w: hash is required", domain.ErrInvalid)
	}
	_, err := o.write.ExecContext(ctx,
		`INSERT INTO oauth_setup_tokens (hash, created_at, expires_at, used_at) VALUES (?, ?, ?, ?)`,
		t.Hash, encodeTime(t.CreatedAt), encodeTime(t.ExpiresAt), encodeTimePtr(t.UsedAt))
	if err != nil {
		return fmt.Errorf("create setup token: %w", mapErr(err))
	}
	return nil
}

// ConsumeSetupToken marks a setup token used, once.
func (o ops) ConsumeSetupToken(ctx context.Context, hash string, at time.Time) (*store.SetupToken, error) {
	t, err := scanSetupToken(o.write.QueryRowContext(ctx,
		`UPDATE oauth_setup_tokens SET used_at = ? WHERE hash = ? AND used_at IS NULL RETURNING hash, created_at, expires_at, used_at`,
		encodeTime(at), hash))
	if err == nil {
		return t, nil
	}
	if !errors.Is(err, domain.ErrNotFound) {
		return nil, fmt.Errorf("consume setup token: %w", err)
	}
	t, err = scanSetupToken(o.write.QueryRowContext(ctx,
		`SELECT hash, created_at, expires_at, used_at FROM oauth_setup_tokens WHERE hash = ?`, hash))
	if err != nil {
		return nil, fmt.Errorf("consume setup token: %w", err)
	}
	return t, fmt.Errorf("consume setup token: %w", store.ErrAlreadyUsed)
}

func scanSetupToken(row rowScanner) (*store.SetupToken, error) {
	var (
		t                    store.SetupToken
		createdAt, expiresAt string
		usedAt               sql.NullString
	)
	if err := row.Scan(&t.Hash, &createdAt, &expiresAt, &usedAt); err != nil {
		return nil, notFound(err)
	}
	var err error
	if t.CreatedAt, err = decodeTime(createdAt); err != nil {
		return nil, err
	}
	if t.ExpiresAt, err = decodeTime(expiresAt); err != nil {
		return nil, err
	}
	if t.UsedAt, err = decodeTimePtr(usedAt); err != nil {
		return nil, err
	}
	return &t, nil
}
