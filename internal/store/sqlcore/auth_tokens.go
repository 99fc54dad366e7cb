package sqlcore

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

const authCodeColumns = `hash, client_id, account_id, redirect_uri, scope, resource, code_challenge,
	code_challenge_method, family_id, created_at, expires_at, used_at`

// CreateAuthCode inserts c.
func (o Ops) CreateAuthCode(ctx context.Context, c *store.AuthCode) error {
	if c.Hash == "" || c.ClientID == "" || c.AccountID == "" || c.FamilyID == "" {
		return fmt.Errorf("create authorization code: %w: hash, client, account and family are required", domain.ErrInvalid)
	}
	_, err := o.exec(ctx, `INSERT INTO oauth_codes (`+authCodeColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		c.Hash, c.ClientID, c.AccountID, c.RedirectURI, c.Scope, c.Resource, c.CodeChallenge,
		c.CodeChallengeMethod, c.FamilyID, o.D.Time(c.CreatedAt), o.D.Time(c.ExpiresAt), o.D.NullTime(c.UsedAt))
	return wrapf(err, "create authorization code")
}

// GetAuthCode returns the code with the hash.
func (o Ops) GetAuthCode(ctx context.Context, hash string) (*store.AuthCode, error) {
	c, err := o.scanAuthCode(o.Read.QueryRow(ctx, `SELECT `+authCodeColumns+` FROM oauth_codes WHERE hash = $1`, hash))
	if err != nil {
		return nil, fmt.Errorf("get authorization code: %w", err)
	}
	return c, nil
}

// ConsumeAuthCode marks the code used. The conditional UPDATE … WHERE
// used_at IS NULL is the single-use guarantee: one caller turns NULL into
// a time; a concurrent one (on any PostgreSQL replica, which waits for the
// row lock and then re-checks the condition) finds used_at set.
func (o Ops) ConsumeAuthCode(ctx context.Context, hash string, at time.Time) (*store.AuthCode, error) {
	c, err := consumeOnce(ctx, o, o.scanAuthCode, "oauth_codes", "hash", authCodeColumns, hash, at)
	if err != nil {
		return c, fmt.Errorf("consume authorization code: %w", err)
	}
	return c, nil
}

func (o Ops) scanAuthCode(row Row) (*store.AuthCode, error) {
	var c store.AuthCode
	err := row.Scan(&c.Hash, &c.ClientID, &c.AccountID, &c.RedirectURI, &c.Scope, &c.Resource, &c.CodeChallenge,
		&c.CodeChallengeMethod, &c.FamilyID, o.D.ScanTime(&c.CreatedAt), o.D.ScanTime(&c.ExpiresAt), o.D.ScanNullTime(&c.UsedAt))
	if err != nil {
		return nil, NotFound(err)
	}
	return &c, nil
}

const familyColumns = `id, client_id, account_id, scope, resource, created_at, revoked_at`

// CreateTokenFamily inserts f.
func (o Ops) CreateTokenFamily(ctx context.Context, f *store.TokenFamily) error {
	if f.ID == "" || f.ClientID == "" || f.AccountID == "" {
		return fmt.Errorf("create token family: %w: id, client and account are required", domain.ErrInvalid)
	}
	_, err := o.exec(ctx, `INSERT INTO oauth_token_families (`+familyColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		f.ID, f.ClientID, f.AccountID, f.Scope, f.Resource, o.D.Time(f.CreatedAt), o.D.NullTime(f.RevokedAt))
	return wrapf(err, "create token family %q", f.ID)
}

// GetTokenFamily returns the family with the id.
func (o Ops) GetTokenFamily(ctx context.Context, id string) (*store.TokenFamily, error) {
	var f store.TokenFamily
	err := o.Read.QueryRow(ctx, `SELECT `+familyColumns+` FROM oauth_token_families WHERE id = $1`, id).
		Scan(&f.ID, &f.ClientID, &f.AccountID, &f.Scope, &f.Resource, o.D.ScanTime(&f.CreatedAt), o.D.ScanNullTime(&f.RevokedAt))
	if err != nil {
		return nil, fmt.Errorf("get token family %q: %w", id, NotFound(err))
	}
	return &f, nil
}

// RevokeTokenFamily revokes one family, all or nothing.
func (o Ops) RevokeTokenFamily(ctx context.Context, id string, at time.Time) error {
	err := o.Conn.Atomically(ctx, func(q Querier) error {
		var n int
		if err := q.QueryRow(ctx, `SELECT count(*) FROM oauth_token_families WHERE id = $1`, id).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return domain.ErrNotFound
		}
		return o.revokeFamilies(ctx, q, at, `id = $1`, id)
	})
	return wrapf(err, "revoke token family %q", id)
}

// revokeFamilies revokes the families matching where (a condition on
// oauth_token_families with the arguments args as $1…) and deny-lists
// their access tokens. It runs in the caller's transaction (q).
//
// The families are updated first: in PostgreSQL that takes their row
// locks, which RecordAccessToken shares, so a token being recorded
// concurrently in one of them is committed before the deny-list insert
// runs, and that insert (a new statement, with a new snapshot) sees it.
// Both statements are idempotent.
func (o Ops) revokeFamilies(ctx context.Context, q Querier, at time.Time, where string, args ...any) error {
	_, err := q.Exec(ctx, `UPDATE oauth_token_families SET revoked_at = coalesce(revoked_at, $`+strconv.Itoa(len(args)+1)+`) WHERE `+where,
		append(append([]any(nil), args...), o.D.Time(at))...)
	if err != nil {
		return err
	}
	_, err = q.Exec(ctx,
		`INSERT INTO oauth_denied_jtis (jti, expires_at)
		 SELECT a.jti, a.expires_at FROM oauth_access_tokens a
		 WHERE a.family_id IN (SELECT id FROM oauth_token_families WHERE `+where+`)
		 ON CONFLICT (jti) DO NOTHING`, args...)
	return err
}

// ListActiveFamilies returns the account's usable families.
func (o Ops) ListActiveFamilies(ctx context.Context, accountID string, now time.Time) ([]*store.ActiveFamily, error) {
	ts := o.D.Time(now)
	out, err := queryAll(ctx, o.Read, func(row Row) (*store.ActiveFamily, error) {
		var f store.ActiveFamily
		err := row.Scan(&f.ID, &f.ClientID, &f.AccountID, &f.Scope, &f.Resource, o.D.ScanTime(&f.CreatedAt), o.D.ScanNullTime(&f.RevokedAt),
			o.D.ScanNullTime(&f.LastIssuedAt))
		return &f, err
	}, `SELECT f.id, f.client_id, f.account_id, f.scope, f.resource, f.created_at, f.revoked_at,
		       (SELECT max(r.created_at) FROM oauth_refresh_tokens r WHERE r.family_id = f.id)
		FROM oauth_token_families f
		WHERE f.account_id = $1 AND f.revoked_at IS NULL
		  AND (EXISTS (SELECT 1 FROM oauth_refresh_tokens r WHERE r.family_id = f.id AND r.used_at IS NULL AND r.expires_at > $2)
		       OR EXISTS (SELECT 1 FROM oauth_access_tokens a WHERE a.family_id = f.id AND a.expires_at > $2))
		ORDER BY f.created_at, f.id`, accountID, ts)
	if err != nil {
		return nil, fmt.Errorf("list active token families of %q: %w", accountID, err)
	}
	return out, nil
}

// RevokeClientGrants revokes what the account granted the client, all or
// nothing.
func (o Ops) RevokeClientGrants(ctx context.Context, accountID, clientID string, at time.Time) error {
	err := o.Conn.Atomically(ctx, func(q Querier) error {
		if err := o.revokeFamilies(ctx, q, at, `account_id = $1 AND client_id = $2`, accountID, clientID); err != nil {
			return err
		}
		_, err := q.Exec(ctx, `DELETE FROM oauth_consents WHERE account_id = $1 AND client_id = $2`, accountID, clientID)
		return err
	})
	return wrapf(err, "revoke the grants of %q to %q", accountID, clientID)
}

const refreshColumns = `hash, family_id, client_id, account_id, scope, resource, created_at, expires_at, used_at`

// CreateRefreshToken inserts t; its family must exist.
func (o Ops) CreateRefreshToken(ctx context.Context, t *store.RefreshToken) error {
	if t.Hash == "" || t.FamilyID == "" {
		return fmt.Errorf("create refresh token: %w: hash and family are required", domain.ErrInvalid)
	}
	_, err := o.exec(ctx, `INSERT INTO oauth_refresh_tokens (`+refreshColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		t.Hash, t.FamilyID, t.ClientID, t.AccountID, t.Scope, t.Resource,
		o.D.Time(t.CreatedAt), o.D.Time(t.ExpiresAt), o.D.NullTime(t.UsedAt))
	return wrapf(err, "create refresh token")
}

// GetRefreshToken returns the token with the hash.
func (o Ops) GetRefreshToken(ctx context.Context, hash string) (*store.RefreshToken, error) {
	t, err := o.scanRefresh(o.Read.QueryRow(ctx, `SELECT `+refreshColumns+` FROM oauth_refresh_tokens WHERE hash = $1`, hash))
	if err != nil {
		return nil, fmt.Errorf("get refresh token: %w", err)
	}
	return t, nil
}

// UseRefreshToken marks the token used, with the same conditional UPDATE
// as ConsumeAuthCode: a replay finds used_at set and is reported.
func (o Ops) UseRefreshToken(ctx context.Context, hash string, at time.Time) (*store.RefreshToken, error) {
	t, err := consumeOnce(ctx, o, o.scanRefresh, "oauth_refresh_tokens", "hash", refreshColumns, hash, at)
	if err != nil {
		return t, fmt.Errorf("use refresh token: %w", err)
	}
	return t, nil
}

func (o Ops) scanRefresh(row Row) (*store.RefreshToken, error) {
	var t store.RefreshToken
	err := row.Scan(&t.Hash, &t.FamilyID, &t.ClientID, &t.AccountID, &t.Scope, &t.Resource,
		o.D.ScanTime(&t.CreatedAt), o.D.ScanTime(&t.ExpiresAt), o.D.ScanNullTime(&t.UsedAt))
	if err != nil {
		return nil, NotFound(err)
	}
	return &t, nil
}

// RecordAccessToken remembers an issued access token. If its family is
// revoked, the token is deny-listed at once. In PostgreSQL the family row
// is read FOR SHARE (Dialect.ForShare): a concurrent revocation (which
// updates that row first) either finished before, and is seen here, or
// waits for this transaction and then deny-lists the token it recorded.
// SQLite's single writer orders the two by itself.
func (o Ops) RecordAccessToken(ctx context.Context, t *store.AccessToken) error {
	if t.JTI == "" || t.FamilyID == "" {
		return fmt.Errorf("record access token: %w: jti and family are required", domain.ErrInvalid)
	}
	expires := o.D.Time(t.ExpiresAt)
	err := o.Conn.Atomically(ctx, func(q Querier) error {
		if _, err := q.Exec(ctx, `INSERT INTO oauth_access_tokens (jti, family_id, expires_at) VALUES ($1, $2, $3)`,
			t.JTI, t.FamilyID, expires); err != nil {
			return o.D.MapErr(err)
		}
		// The family row is locked whether or not it is revoked: FOR SHARE
		// on the rows a WHERE revoked_at IS NOT NULL keeps would lock
		// nothing in the case that matters.
		_, err := q.Exec(ctx,
			`WITH family AS (SELECT revoked_at FROM oauth_token_families WHERE id = $3`+o.D.ForShare+`)
			 INSERT INTO oauth_denied_jtis (jti, expires_at)
			 SELECT $1, $2 FROM family WHERE family.revoked_at IS NOT NULL
			 ON CONFLICT (jti) DO NOTHING`,
			t.JTI, expires, t.FamilyID)
		return err
	})
	return wrapf(err, "record access token")
}

// DenyAccessToken deny-lists a jti.
func (o Ops) DenyAccessToken(ctx context.Context, jti string, expiresAt time.Time) error {
	if jti == "" {
		return fmt.Errorf("deny access token: %w: empty jti", domain.ErrInvalid)
	}
	_, err := o.exec(ctx, `INSERT INTO oauth_denied_jtis (jti, expires_at) VALUES ($1, $2) ON CONFLICT (jti) DO NOTHING`,
		jti, o.D.Time(expiresAt))
	return wrapf(err, "deny access token")
}

// AccessTokenDenied reports whether the jti is deny-listed.
func (o Ops) AccessTokenDenied(ctx context.Context, jti string) (bool, error) {
	var n int
	if err := o.Read.QueryRow(ctx, `SELECT count(*) FROM oauth_denied_jtis WHERE jti = $1`, jti).Scan(&n); err != nil {
		return false, fmt.Errorf("check access token deny-list: %w", err)
	}
	return n > 0, nil
}

// AccessTokenRefused reports whether the jti is deny-listed and whether
// the account is disabled, in one round trip: it runs on every request.
func (o Ops) AccessTokenRefused(ctx context.Context, jti, accountID string) (store.TokenRefusal, error) {
	var r store.TokenRefusal
	err := o.Read.QueryRow(ctx,
		`SELECT EXISTS (SELECT 1 FROM oauth_denied_jtis WHERE jti = $1),
		        EXISTS (SELECT 1 FROM local_accounts WHERE id = $2 AND disabled_at IS NOT NULL)`,
		jti, accountID).Scan(&r.Denied, &r.AccountDisabled)
	if err != nil {
		return store.TokenRefusal{}, fmt.Errorf("check access token deny-list and account: %w", err)
	}
	return r, nil
}

// PurgeExpiredTokens deletes what expired before now, all or nothing. A
// family goes once nothing of it can be presented any more (no refresh
// token, no code that could still be replayed, no access token record).
func (o Ops) PurgeExpiredTokens(ctx context.Context, now time.Time) (int, error) {
	ts := o.D.Time(now)
	total := 0
	err := o.Conn.Atomically(ctx, func(q Querier) error {
		total = 0
		for _, stmt := range []string{
			`DELETE FROM oauth_codes WHERE expires_at < $1`,
			`DELETE FROM oauth_refresh_tokens WHERE expires_at < $1`,
			`DELETE FROM oauth_access_tokens WHERE expires_at < $1`,
			`DELETE FROM oauth_denied_jtis WHERE expires_at < $1`,
			`DELETE FROM oauth_setup_tokens WHERE expires_at < $1`,
			`DELETE FROM signin_requests WHERE expires_at < $1`,
			`DELETE FROM browser_sessions WHERE expires_at < $1`,
			`DELETE FROM oauth_token_families WHERE created_at < $1
			   AND NOT EXISTS (SELECT 1 FROM oauth_refresh_tokens r WHERE r.family_id = oauth_token_families.id)
			   AND NOT EXISTS (SELECT 1 FROM oauth_access_tokens a WHERE a.family_id = oauth_token_families.id)
			   AND NOT EXISTS (SELECT 1 FROM oauth_codes c WHERE c.family_id = oauth_token_families.id)`,
		} {
			n, err := q.Exec(ctx, stmt, ts)
			if err != nil {
				return err
			}
			total += int(n)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("purge expired tokens: %w", err)
	}
	return total, nil
}
