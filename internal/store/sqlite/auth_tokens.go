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

const authCodeColumns = `hash, client_id, account_id, redirect_uri, scope, resource, code_challenge,
	code_challenge_method, family_id, created_at, expires_at, used_at`

// CreateAuthCode inserts c.
func (o ops) CreateAuthCode(ctx context.Context, c *store.AuthCode) error {
	if c.Hash == "" || c.ClientID == "" || c.AccountID == "" || c.FamilyID == "" {
		return fmt.Errorf("create authorization code: %w: hash, client, account and family are required", domain.ErrInvalid)
	}
	_, err := o.write.ExecContext(ctx,
		`INSERT INTO oauth_codes (`+authCodeColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.Hash, c.ClientID, c.AccountID, c.RedirectURI, c.Scope, c.Resource, c.CodeChallenge,
		c.CodeChallengeMethod, c.FamilyID, encodeTime(c.CreatedAt), encodeTime(c.ExpiresAt), encodeTimePtr(c.UsedAt))
	if err != nil {
		return fmt.Errorf("create authorization code: %w", mapErr(err))
	}
	return nil
}

// GetAuthCode returns the code with the hash.
func (o ops) GetAuthCode(ctx context.Context, hash string) (*store.AuthCode, error) {
	c, err := scanAuthCode(o.read.QueryRowContext(ctx, `SELECT `+authCodeColumns+` FROM oauth_codes WHERE hash = ?`, hash))
	if err != nil {
		return nil, fmt.Errorf("get authorization code: %w", err)
	}
	return c, nil
}

// ConsumeAuthCode marks the code used. The conditional UPDATE … WHERE
// used_at IS NULL is the single-use guarantee: only one caller can turn
// NULL into a time, whatever the isolation level.
func (o ops) ConsumeAuthCode(ctx context.Context, hash string, at time.Time) (*store.AuthCode, error) {
	c, err := scanAuthCode(o.write.QueryRowContext(ctx,
		`UPDATE oauth_codes SET used_at = ? WHERE hash = ? AND used_at IS NULL RETURNING `+authCodeColumns,
		encodeTime(at), hash))
	if err == nil {
		return c, nil
	}
	if !errors.Is(err, domain.ErrNotFound) {
		return nil, fmt.Errorf("consume authorization code: %w", err)
	}
	// Nothing updated: unknown, or used before.
	c, err = scanAuthCode(o.write.QueryRowContext(ctx, `SELECT `+authCodeColumns+` FROM oauth_codes WHERE hash = ?`, hash))
	if err != nil {
		return nil, fmt.Errorf("consume authorization code: %w", err)
	}
	return c, fmt.Errorf("consume authorization code: %w", store.ErrAlreadyUsed)
}

func scanAuthCode(row rowScanner) (*store.AuthCode, error) {
	var (
		c                    store.AuthCode
		createdAt, expiresAt string
		usedAt               sql.NullString
	)
	err := row.Scan(&c.Hash, &c.ClientID, &c.AccountID, &c.RedirectURI, &c.Scope, &c.Resource, &c.CodeChallenge,
		&c.CodeChallengeMethod, &c.FamilyID, &createdAt, &expiresAt, &usedAt)
	if err != nil {
		return nil, notFound(err)
	}
	if c.CreatedAt, err = decodeTime(createdAt); err != nil {
		return nil, err
	}
	if c.ExpiresAt, err = decodeTime(expiresAt); err != nil {
		return nil, err
	}
	if c.UsedAt, err = decodeTimePtr(usedAt); err != nil {
		return nil, err
	}
	return &c, nil
}

const familyColumns = `id, client_id, account_id, scope, resource, created_at, revoked_at`

// CreateTokenFamily inserts f.
func (o ops) CreateTokenFamily(ctx context.Context, f *store.TokenFamily) error {
	if f.ID == "" || f.ClientID == "" || f.AccountID == "" {
		return fmt.Errorf("create token family: %w: id, client and account are required", domain.ErrInvalid)
	}
	_, err := o.write.ExecContext(ctx,
		`INSERT INTO oauth_token_families (`+familyColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		f.ID, f.ClientID, f.AccountID, f.Scope, f.Resource, encodeTime(f.CreatedAt), encodeTimePtr(f.RevokedAt))
	if err != nil {
		return fmt.Errorf("create token family %q: %w", f.ID, mapErr(err))
	}
	return nil
}

// GetTokenFamily returns the family with the id.
func (o ops) GetTokenFamily(ctx context.Context, id string) (*store.TokenFamily, error) {
	var (
		f         store.TokenFamily
		createdAt string
		revokedAt sql.NullString
	)
	err := o.read.QueryRowContext(ctx, `SELECT `+familyColumns+` FROM oauth_token_families WHERE id = ?`, id).
		Scan(&f.ID, &f.ClientID, &f.AccountID, &f.Scope, &f.Resource, &createdAt, &revokedAt)
	if err != nil {
		return nil, fmt.Errorf("get token family %q: %w", id, notFound(err))
	}
	if f.CreatedAt, err = decodeTime(createdAt); err != nil {
		return nil, err
	}
	if f.RevokedAt, err = decodeTimePtr(revokedAt); err != nil {
		return nil, err
	}
	return &f, nil
}

// RevokeTokenFamily revokes one family.
func (o ops) RevokeTokenFamily(ctx context.Context, id string, at time.Time) error {
	var n int
	if err := o.write.QueryRowContext(ctx, `SELECT count(*) FROM oauth_token_families WHERE id = ?`, id).Scan(&n); err != nil {
		return fmt.Errorf("revoke token family %q: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("revoke token family %q: %w", id, domain.ErrNotFound)
	}
	if err := o.revokeFamilies(ctx, `id = ?`, id, at); err != nil {
		return fmt.Errorf("revoke token family %q: %w", id, err)
	}
	return nil
}

// revokeFamilies revokes the families matching where (a condition on
// oauth_token_families with one argument) and deny-lists their access
// tokens. The deny-list insert comes first and both statements are
// idempotent, so that a failure between them leaves nothing half-revoked
// that a retry would not finish.
func (o ops) revokeFamilies(ctx context.Context, where string, arg any, at time.Time) error {
	_, err := o.write.ExecContext(ctx,
		`INSERT INTO oauth_denied_jtis (jti, expires_at)
		 SELECT a.jti, a.expires_at FROM oauth_access_tokens a
		 JOIN oauth_token_families f ON f.id = a.family_id
		 WHERE f.`+where+`
		 ON CONFLICT (jti) DO NOTHING`, arg)
	if err != nil {
		return err
	}
	_, err = o.write.ExecContext(ctx,
		`UPDATE oauth_token_families SET revoked_at = ? WHERE `+where+` AND revoked_at IS NULL`, encodeTime(at), arg)
	return err
}

const refreshColumns = `hash, family_id, client_id, account_id, scope, resource, created_at, expires_at, used_at`

// CreateRefreshToken inserts t; its family must exist.
func (o ops) CreateRefreshToken(ctx context.Context, t *store.RefreshToken) error {
	if t.Hash == "" || t.FamilyID == "" {
		return fmt.Errorf("create refresh token: %w: hash and family are required", domain.ErrInvalid)
	}
	_, err := o.write.ExecContext(ctx,
		`INSERT INTO oauth_refresh_tokens (`+refreshColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		t.Hash, t.FamilyID, t.ClientID, t.AccountID, t.Scope, t.Resource,
		encodeTime(t.CreatedAt), encodeTime(t.ExpiresAt), encodeTimePtr(t.UsedAt))
	if err != nil {
		return fmt.Errorf("create refresh token: %w", mapErr(err))
	}
	return nil
}

// GetRefreshToken returns the token with the hash.
func (o ops) GetRefreshToken(ctx context.Context, hash string) (*store.RefreshToken, error) {
	t, err := scanRefresh(o.read.QueryRowContext(ctx, `SELECT `+refreshColumns+` FROM oauth_refresh_tokens WHERE hash = ?`, hash))
	if err != nil {
		return nil, fmt.Errorf("get refresh token: %w", err)
	}
	return t, nil
}

// UseRefreshToken marks the token used, with the same conditional UPDATE
// as ConsumeAuthCode: a replay finds used_at set and is reported.
func (o ops) UseRefreshToken(ctx context.Context, hash string, at time.Time) (*store.RefreshToken, error) {
	t, err := scanRefresh(o.write.QueryRowContext(ctx,
		`UPDATE oauth_refresh_tokens SET used_at = ? WHERE hash = ? AND used_at IS NULL RETURNING `+refreshColumns,
		encodeTime(at), hash))
	if err == nil {
		return t, nil
	}
	if !errors.Is(err, domain.ErrNotFound) {
		return nil, fmt.Errorf("use refresh token: %w", err)
	}
	t, err = scanRefresh(o.write.QueryRowContext(ctx, `SELECT `+refreshColumns+` FROM oauth_refresh_tokens WHERE hash = ?`, hash))
	if err != nil {
		return nil, fmt.Errorf("use refresh token: %w", err)
	}
	return t, fmt.Errorf("use refresh token: %w", store.ErrAlreadyUsed)
}

func scanRefresh(row rowScanner) (*store.RefreshToken, error) {
	var (
		t                    store.RefreshToken
		createdAt, expiresAt string
		usedAt               sql.NullString
	)
	err := row.Scan(&t.Hash, &t.FamilyID, &t.ClientID, &t.AccountID, &t.Scope, &t.Resource, &createdAt, &expiresAt, &usedAt)
	if err != nil {
		return nil, notFound(err)
	}
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

// RecordAccessToken remembers an issued access token. If its family was
// revoked meanwhile, the token is deny-listed at once.
func (o ops) RecordAccessToken(ctx context.Context, t *store.AccessToken) error {
	if t.JTI == "" || t.FamilyID == "" {
		return fmt.Errorf("record access token: %w: jti and family are required", domain.ErrInvalid)
	}
	_, err := o.write.ExecContext(ctx,
		`INSERT INTO oauth_access_tokens (jti, family_id, expires_at) VALUES (?, ?, ?)`,
		t.JTI, t.FamilyID, encodeTime(t.ExpiresAt))
	if err != nil {
		return fmt.Errorf("record access token: %w", mapErr(err))
	}
	_, err = o.write.ExecContext(ctx,
		`INSERT INTO oauth_denied_jtis (jti, expires_at)
		 SELECT ?, ? WHERE EXISTS (SELECT 1 FROM oauth_token_families WHERE id = ? AND revoked_at IS NOT NULL)
		 ON CONFLICT (jti) DO NOTHING`,
		t.JTI, encodeTime(t.ExpiresAt), t.FamilyID)
	if err != nil {
		return fmt.Errorf("record access token: %w", err)
	}
	return nil
}

// DenyAccessToken deny-lists a jti.
func (o ops) DenyAccessToken(ctx context.Context, jti string, expiresAt time.Time) error {
	if jti == "" {
		return fmt.Errorf("deny access token: %w: empty jti", domain.ErrInvalid)
	}
	_, err := o.write.ExecContext(ctx,
		`INSERT INTO oauth_denied_jtis (jti, expires_at) VALUES (?, ?) ON CONFLICT (jti) DO NOTHING`,
		jti, encodeTime(expiresAt))
	if err != nil {
		return fmt.Errorf("deny access token: %w", err)
	}
	return nil
}

// AccessTokenDenied reports whether the jti is deny-listed.
func (o ops) AccessTokenDenied(ctx context.Context, jti string) (bool, error) {
	var n int
	if err := o.read.QueryRowContext(ctx, `SELECT count(*) FROM oauth_denied_jtis WHERE jti = ?`, jti).Scan(&n); err != nil {
		return false, fmt.Errorf("check access token deny-list: %w", err)
	}
	return n > 0, nil
}

// PurgeExpiredTokens deletes what expired before now. A family goes once
// nothing of it can be presented any more (no live refresh token, no code
// that could still be replayed, no access token record).
func (o ops) PurgeExpiredTokens(ctx context.Context, now time.Time) (int, error) {
	ts := encodeTime(now)
	total := 0
	for _, q := range []string{
		`DELETE FROM oauth_codes WHERE expires_at < ?`,
		`DELETE FROM oauth_refresh_tokens WHERE expires_at < ?`,
		`DELETE FROM oauth_access_tokens WHERE expires_at < ?`,
		`DELETE FROM oauth_denied_jtis WHERE expires_at < ?`,
		`DELETE FROM oauth_setup_tokens WHERE expires_at < ?`,
		`DELETE FROM oauth_token_families WHERE created_at < ?
		   AND NOT EXISTS (SELECT 1 FROM oauth_refresh_tokens r WHERE r.family_id = oauth_token_families.id)
		   AND NOT EXISTS (SELECT 1 FROM oauth_access_tokens a WHERE a.family_id = oauth_token_families.id)
		   AND NOT EXISTS (SELECT 1 FROM oauth_codes c WHERE c.family_id = oauth_token_families.id)`,
	} {
		res, err := o.write.ExecContext(ctx, q, ts)
		if err != nil {
			return total, fmt.Errorf("purge expired tokens: %w", err)
		}
		n, _ := res.RowsAffected()
		total += int(n)
	}
	return total, nil
}
