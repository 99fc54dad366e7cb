package sqlcore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

const signinRequestColumns = `state_hash, connector, nonce, verifier, authz, created_at, expires_at, used_at, return_path`

// CreateSigninRequest inserts r.
func (o Ops) CreateSigninRequest(ctx context.Context, r *store.SigninRequest) error {
	if r.StateHash == "" || r.Connector == "" {
		return fmt.Errorf("create sign-in request: %w: state hash and connector are required", domain.ErrInvalid)
	}
	_, err := o.exec(ctx, `INSERT INTO signin_requests (`+signinRequestColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		r.StateHash, r.Connector, r.Nonce, r.Verifier, r.Authz, o.D.Time(r.CreatedAt), o.D.Time(r.ExpiresAt), o.D.NullTime(r.UsedAt), r.ReturnPath)
	return wrapf(err, "create sign-in request")
}

// ConsumeSigninRequest marks a sign-in request used, once (see
// ConsumeAuthCode).
func (o Ops) ConsumeSigninRequest(ctx context.Context, stateHash string, at time.Time) (*store.SigninRequest, error) {
	r, err := consumeOnce(ctx, o, o.scanSigninRequest, "signin_requests", "state_hash", signinRequestColumns, stateHash, at)
	if err != nil {
		return r, fmt.Errorf("consume sign-in request: %w", err)
	}
	return r, nil
}

func (o Ops) scanSigninRequest(row Row) (*store.SigninRequest, error) {
	var r store.SigninRequest
	if err := row.Scan(&r.StateHash, &r.Connector, &r.Nonce, &r.Verifier, &r.Authz,
		o.D.ScanTime(&r.CreatedAt), o.D.ScanTime(&r.ExpiresAt), o.D.ScanNullTime(&r.UsedAt), &r.ReturnPath); err != nil {
		return nil, NotFound(err)
	}
	return &r, nil
}

const linkedIdentityColumns = `connector, subject, account_id, email, org_id, created_at, last_used_at`

// PutLinkedIdentity inserts or refreshes an identity. The update is
// conditional on the account, so that an identity never moves to another
// account behind the caller's back.
func (o Ops) PutLinkedIdentity(ctx context.Context, id *store.LinkedIdentity) error {
	if id.Connector == "" || id.Subject == "" || id.AccountID == "" {
		return fmt.Errorf("link identity: %w: connector, subject and account are required", domain.ErrInvalid)
	}
	n, err := o.exec(ctx, `INSERT INTO linked_identities (`+linkedIdentityColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (connector, subject) DO UPDATE SET email = excluded.email, org_id = excluded.org_id, last_used_at = excluded.last_used_at
		WHERE linked_identities.account_id = excluded.account_id`,
		id.Connector, id.Subject, id.AccountID, id.Email, id.OrgID, o.D.Time(id.CreatedAt), o.D.Time(id.LastUsedAt))
	if err != nil {
		if o.D.IsForeignKey(err) || errors.Is(err, domain.ErrInvalid) {
			return fmt.Errorf("link identity to account %q: %w: no such account", id.AccountID, domain.ErrNotFound)
		}
		return fmt.Errorf("link identity: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("link identity %s/%s: %w: it is linked to another account", id.Connector, id.Subject, domain.ErrConflict)
	}
	return nil
}

// GetLinkedIdentity returns the identity.
func (o Ops) GetLinkedIdentity(ctx context.Context, connector, subject string) (*store.LinkedIdentity, error) {
	id, err := o.scanLinkedIdentity(o.Read.QueryRow(ctx,
		`SELECT `+linkedIdentityColumns+` FROM linked_identities WHERE connector = $1 AND subject = $2`, connector, subject))
	if err != nil {
		return nil, fmt.Errorf("get linked identity: %w", err)
	}
	return id, nil
}

// ListLinkedIdentities returns the account's identities.
func (o Ops) ListLinkedIdentities(ctx context.Context, accountID string) ([]*store.LinkedIdentity, error) {
	out, err := queryAll(ctx, o.Read, o.scanLinkedIdentity,
		`SELECT `+linkedIdentityColumns+` FROM linked_identities WHERE account_id = $1 ORDER BY connector, subject`, accountID)
	if err != nil {
		return nil, fmt.Errorf("list linked identities: %w", err)
	}
	return out, nil
}

// DeleteLinkedIdentities unlinks the account's identities at a connector.
func (o Ops) DeleteLinkedIdentities(ctx context.Context, accountID, connector string) (int, error) {
	n, err := o.exec(ctx, `DELETE FROM linked_identities WHERE account_id = $1 AND connector = $2`, accountID, connector)
	if err != nil {
		return 0, fmt.Errorf("unlink identities: %w", err)
	}
	return int(n), nil
}

func (o Ops) scanLinkedIdentity(row Row) (*store.LinkedIdentity, error) {
	var id store.LinkedIdentity
	if err := row.Scan(&id.Connector, &id.Subject, &id.AccountID, &id.Email, &id.OrgID,
		o.D.ScanTime(&id.CreatedAt), o.D.ScanTime(&id.LastUsedAt)); err != nil {
		return nil, NotFound(err)
	}
	return &id, nil
}
