package sqlcore

import (
	"context"
	"fmt"
	"time"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

const oauthClientColumns = `id, secret_hash, name, redirect_uris, grant_types, response_types,
	token_endpoint_auth_method, application_type, scope, client_uri, logo_uri, source, created_at, revoked_at`

// CreateOAuthClient inserts c.
func (o Ops) CreateOAuthClient(ctx context.Context, c *store.OAuthClient) error {
	if c.ID == "" || c.Source == "" || c.TokenEndpointAuthMethod == "" {
		return fmt.Errorf("create oauth client %q: %w: id, source and token endpoint auth method are required", c.ID, domain.ErrInvalid)
	}
	_, err := o.exec(ctx,
		`INSERT INTO oauth_clients (`+oauthClientColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		c.ID, c.SecretHash, c.Name, o.D.List(c.RedirectURIs), o.D.List(c.GrantTypes), o.D.List(c.ResponseTypes),
		c.TokenEndpointAuthMethod, c.ApplicationType, c.Scope, c.ClientURI, c.LogoURI, c.Source,
		o.D.Time(c.CreatedAt), o.D.NullTime(c.RevokedAt))
	return wrapf(err, "create oauth client %q", c.ID)
}

// GetOAuthClient returns the client with the id.
func (o Ops) GetOAuthClient(ctx context.Context, id string) (*store.OAuthClient, error) {
	c, err := o.scanOAuthClient(o.Read.QueryRow(ctx, `SELECT `+oauthClientColumns+` FROM oauth_clients WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("get oauth client %q: %w", id, err)
	}
	return c, nil
}

// ListOAuthClients returns every client, oldest first.
func (o Ops) ListOAuthClients(ctx context.Context) ([]*store.OAuthClient, error) {
	out, err := queryAll(ctx, o.Read, o.scanOAuthClient, `SELECT `+oauthClientColumns+` FROM oauth_clients ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list oauth clients: %w", err)
	}
	return out, nil
}

// RevokeOAuthClient marks the client revoked and revokes its token
// families, all or nothing.
func (o Ops) RevokeOAuthClient(ctx context.Context, id string, at time.Time) error {
	err := o.Conn.Atomically(ctx, func(q Querier) error {
		if err := expectOneRow(q.Exec(ctx, `UPDATE oauth_clients SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1`,
			id, o.D.Time(at))); err != nil {
			return err
		}
		if err := o.revokeFamilies(ctx, q, at, `client_id = $1`, id); err != nil {
			return fmt.Errorf("revoke its tokens: %w", err)
		}
		return nil
	})
	return wrapf(err, "revoke oauth client %q", id)
}

func (o Ops) scanOAuthClient(row Row) (*store.OAuthClient, error) {
	var c store.OAuthClient
	err := row.Scan(&c.ID, &c.SecretHash, &c.Name,
		o.D.ScanList(&c.RedirectURIs), o.D.ScanList(&c.GrantTypes), o.D.ScanList(&c.ResponseTypes),
		&c.TokenEndpointAuthMethod, &c.ApplicationType, &c.Scope, &c.ClientURI, &c.LogoURI, &c.Source,
		o.D.ScanTime(&c.CreatedAt), o.D.ScanNullTime(&c.RevokedAt))
	if err != nil {
		return nil, NotFound(err)
	}
	return &c, nil
}
