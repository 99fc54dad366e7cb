package postgres

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
func (o ops) CreateOAuthClient(ctx context.Context, c *store.OAuthClient) error {
	if c.ID == "" || c.Source == "" || c.TokenEndpointAuthMethod == "" {
		return fmt.Errorf("create oauth client %q: %w: id, source and token endpoint auth method are required", c.ID, domain.ErrInvalid)
	}
	err := o.write(ctx, func(q querier) error {
		_, err := q.Exec(ctx,
			`INSERT INTO oauth_clients (`+oauthClientColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
			c.ID, c.SecretHash, c.Name, list(c.RedirectURIs), list(c.GrantTypes), list(c.ResponseTypes),
			c.TokenEndpointAuthMethod, c.ApplicationType, c.Scope, c.ClientURI, c.LogoURI, c.Source, c.CreatedAt, c.RevokedAt)
		return err
	})
	if err != nil {
		return fmt.Errorf("create oauth client %q: %w", c.ID, mapErr(err))
	}
	return nil
}

// list stores nil as an empty array, as the SQLite backend stores [].
func list(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

// GetOAuthClient returns the client with the id.
func (o ops) GetOAuthClient(ctx context.Context, id string) (*store.OAuthClient, error) {
	c, err := scanOAuthClient(o.q.QueryRow(ctx, `SELECT `+oauthClientColumns+` FROM oauth_clients WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("get oauth client %q: %w", id, err)
	}
	return c, nil
}

// ListOAuthClients returns every client, oldest first.
func (o ops) ListOAuthClients(ctx context.Context) ([]*store.OAuthClient, error) {
	rows, err := o.q.Query(ctx, `SELECT `+oauthClientColumns+` FROM oauth_clients ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list oauth clients: %w", err)
	}
	defer rows.Close()
	var out []*store.OAuthClient
	for rows.Next() {
		c, err := scanOAuthClient(rows)
		if err != nil {
			return nil, fmt.Errorf("list oauth clients: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list oauth clients: %w", err)
	}
	return out, nil
}

// RevokeOAuthClient marks the client revoked and revokes its token
// families, all or nothing.
func (o ops) RevokeOAuthClient(ctx context.Context, id string, at time.Time) error {
	err := o.atomically(ctx, func(q querier) error {
		tag, err := q.Exec(ctx, `UPDATE oauth_clients SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1`, id, at)
		if err != nil {
			return err
		}
		if err := expectOneRow(tag); err != nil {
			return err
		}
		if err := revokeFamilies(ctx, q, `client_id = $1`, id, at); err != nil {
			return fmt.Errorf("revoke its tokens: %w", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("revoke oauth client %q: %w", id, err)
	}
	return nil
}

func scanOAuthClient(row rowScanner) (*store.OAuthClient, error) {
	var c store.OAuthClient
	err := row.Scan(&c.ID, &c.SecretHash, &c.Name, &c.RedirectURIs, &c.GrantTypes, &c.ResponseTypes,
		&c.TokenEndpointAuthMethod, &c.ApplicationType, &c.Scope, &c.ClientURI, &c.LogoURI, &c.Source,
		&c.CreatedAt, &c.RevokedAt)
	if err != nil {
		return nil, notFound(err)
	}
	c.CreatedAt, c.RevokedAt = c.CreatedAt.UTC(), utcPtr(c.RevokedAt)
	return &c, nil
}
