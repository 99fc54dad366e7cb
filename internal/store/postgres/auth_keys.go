package postgres

import (
	"context"
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
	err := o.write(ctx, func(q querier) error {
		_, err := q.Exec(ctx,
			`INSERT INTO oauth_signing_keys (id, algorithm, private_key, created_at, retired_at) VALUES ($1, $2, $3, $4, $5)`,
			k.ID, k.Algorithm, k.PrivateKey, k.CreatedAt, k.RetiredAt)
		return err
	})
	if err != nil {
		return fmt.Errorf("create signing key %q: %w", k.ID, mapErr(err))
	}
	return nil
}

// ListSigningKeys returns every key, newest first.
func (o ops) ListSigningKeys(ctx context.Context) ([]*store.SigningKey, error) {
	rows, err := o.q.Query(ctx,
		`SELECT id, algorithm, private_key, created_at, retired_at FROM oauth_signing_keys ORDER BY created_at DESC, id DESC`)
	if err != nil {
		return nil, fmt.Errorf("list signing keys: %w", err)
	}
	defer rows.Close()
	var out []*store.SigningKey
	for rows.Next() {
		var k store.SigningKey
		if err := rows.Scan(&k.ID, &k.Algorithm, &k.PrivateKey, &k.CreatedAt, &k.RetiredAt); err != nil {
			return nil, fmt.Errorf("list signing keys: %w", err)
		}
		k.CreatedAt, k.RetiredAt = k.CreatedAt.UTC(), utcPtr(k.RetiredAt)
		out = append(out, &k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list signing keys: %w", err)
	}
	return out, nil
}

// RetireSigningKeys retires every active key but keepID.
func (o ops) RetireSigningKeys(ctx context.Context, keepID string, at time.Time) error {
	err := o.write(ctx, func(q querier) error {
		_, err := q.Exec(ctx, `UPDATE oauth_signing_keys SET retired_at = $1 WHERE retired_at IS NULL AND id <> $2`, at, keepID)
		return err
	})
	if err != nil {
		return fmt.Errorf("retire signing keys: %w", err)
	}
	return nil
}

// DeleteSigningKeysRetiredBefore deletes keys retired before t.
func (o ops) DeleteSigningKeysRetiredBefore(ctx context.Context, t time.Time) (int, error) {
	var n int64
	err := o.write(ctx, func(q querier) error {
		tag, err := q.Exec(ctx, `DELETE FROM oauth_signing_keys WHERE retired_at IS NOT NULL AND retired_at < $1`, t)
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("delete retired signing keys: %w", err)
	}
	return int(n), nil
}

// PutConsent adds or replaces a consent.
func (o ops) PutConsent(ctx context.Context, c *store.Consent) error {
	err := o.write(ctx, func(q querier) error {
		_, err := q.Exec(ctx,
			`INSERT INTO oauth_consents (account_id, client_id, scope, created_at, updated_at) VALUES ($1, $2, $3, $4, $5)
			 ON CONFLICT (account_id, client_id) DO UPDATE SET scope = excluded.scope, updated_at = excluded.updated_at`,
			c.AccountID, c.ClientID, c.Scope, c.CreatedAt, c.UpdatedAt)
		return err
	})
	if err != nil {
		return fmt.Errorf("put consent of %q for %q: %w", c.AccountID, c.ClientID, mapErr(err))
	}
	return nil
}

// GetConsent returns a consent.
func (o ops) GetConsent(ctx context.Context, accountID, clientID string) (*store.Consent, error) {
	var c store.Consent
	err := o.q.QueryRow(ctx,
		`SELECT account_id, client_id, scope, created_at, updated_at FROM oauth_consents WHERE account_id = $1 AND client_id = $2`,
		accountID, clientID).Scan(&c.AccountID, &c.ClientID, &c.Scope, &c.CreatedAt, &c.UpdatedAt)
	if err != nil {
		return nil, fmt.Errorf("get consent of %q for %q: %w", accountID, clientID, notFound(err))
	}
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return &c, nil
}

// DeleteConsents deletes an account's consents.
func (o ops) DeleteConsents(ctx context.Context, accountID string) error {
	err := o.write(ctx, func(q querier) error {
		_, err := q.Exec(ctx, `DELETE FROM oauth_consents WHERE account_id = $1`, accountID)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete consents of %q: %w", accountID, err)
	}
	return nil
}

// CreateSetupToken inserts t.
func (o ops) CreateSetupToken(ctx context.Context, t *store.SetupToken) error {
	if t.Hash == "" {
		return fmt.Errorf("create setup token: %w: hash is required", domain.ErrInvalid)
	}
	err := o.write(ctx, func(q querier) error {
		_, err := q.Exec(ctx, `INSERT INTO oauth_setup_tokens (hash, created_at, expires_at, used_at) VALUES ($1, $2, $3, $4)`,
			t.Hash, t.CreatedAt, t.ExpiresAt, t.UsedAt)
		return err
	})
	if err != nil {
		return fmt.Errorf("create setup token: %w", mapErr(err))
	}
	return nil
}

const setupTokenColumns = `hash, created_at, expires_at, used_at`

// ConsumeSetupToken marks a setup token used, once: the conditional
// UPDATE … WHERE used_at IS NULL lets one caller turn NULL into a time;
// a concurrent one waits for its row lock, then finds used_at set.
func (o ops) ConsumeSetupToken(ctx context.Context, hash string, at time.Time) (*store.SetupToken, error) {
	var t *store.SetupToken
	err := o.write(ctx, func(q querier) error {
		var err error
		t, err = scanSetupToken(q.QueryRow(ctx,
			`UPDATE oauth_setup_tokens SET used_at = $2 WHERE hash = $1 AND used_at IS NULL RETURNING `+setupTokenColumns, hash, at))
		return err
	})
	if err == nil {
		return t, nil
	}
	if !errors.Is(err, domain.ErrNotFound) {
		return nil, fmt.Errorf("consume setup token: %w", err)
	}
	t, err = scanSetupToken(o.q.QueryRow(ctx, `SELECT `+setupTokenColumns+` FROM oauth_setup_tokens WHERE hash = $1`, hash))
	if err != nil {
		return nil, fmt.Errorf("consume setup token: %w", err)
	}
	return t, fmt.Errorf("consume setup token: %w", store.ErrAlreadyUsed)
}

func scanSetupToken(row rowScanner) (*store.SetupToken, error) {
	var t store.SetupToken
	if err := row.Scan(&t.Hash, &t.CreatedAt, &t.ExpiresAt, &t.UsedAt); err != nil {
		return nil, notFound(err)
	}
	t.CreatedAt, t.ExpiresAt, t.UsedAt = t.CreatedAt.UTC(), t.ExpiresAt.UTC(), utcPtr(t.UsedAt)
	return &t, nil
}
