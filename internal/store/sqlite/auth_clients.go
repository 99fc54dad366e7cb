package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
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
	_, err := o.write.ExecContext(ctx,
		`INSERT INTO oauth_clients (`+oauthClientColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.SecretHash, c.Name, encodeList(c.RedirectURIs), encodeList(c.GrantTypes), encodeList(c.ResponseTypes),
		c.TokenEndpointAuthMethod, c.ApplicationType, c.Scope, c.ClientURI, c.LogoURI, c.Source,
		encodeTime(c.CreatedAt), encodeTimePtr(c.RevokedAt))
	if err != nil {
		return fmt.Errorf("create oauth client %q: %w", c.ID, mapErr(err))
	}
	return nil
}

// GetOAuthClient returns the client with the id.
func (o ops) GetOAuthClient(ctx context.Context, id string) (*store.OAuthClient, error) {
	c, err := scanOAuthClient(o.read.QueryRowContext(ctx, `SELECT `+oauthClientColumns+` FROM oauth_clients WHERE id = ?`, id))
	if err != nil {
		return nil, fmt.Errorf("get oauth client %q: %w", id, err)
	}
	return c, nil
}

// ListOAuthClients returns every client, oldest first.
func (o ops) ListOAuthClients(ctx context.Context) ([]*store.OAuthClient, error) {
	rows, err := o.read.QueryContext(ctx, `SELECT `+oauthClientColumns+` FROM oauth_clients ORDER BY created_at, id`)
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
// families. Outside a transaction the statements run one by one; each is
// idempotent, so a retry after a failure finishes the job.
func (o ops) RevokeOAuthClient(ctx context.Context, id string, at time.Time) error {
	res, err := o.write.ExecContext(ctx,
		`UPDATE oauth_clients SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?`, encodeTime(at), id)
	if err != nil {
		return fmt.Errorf("revoke oauth client %q: %w", id, err)
	}
	if err := expectOneRow(res); err != nil {
		return fmt.Errorf("revoke oauth client %q: %w", id, err)
	}
	if err := o.revokeFamilies(ctx, `client_id = ?`, id, at); err != nil {
		return fmt.Errorf("revoke tokens of oauth client %q: %w", id, err)
	}
	return nil
}

func scanOAuthClient(row rowScanner) (*store.OAuthClient, error) {
	var (
		c                           store.OAuthClient
		redirects, grants, respType string
		createdAt                   string
		revokedAt                   sql.NullString
	)
	err := row.Scan(&c.ID, &c.SecretHash, &c.Name, &redirects, &grants, &respType,
		&c.TokenEndpointAuthMethod, &c.ApplicationType, &c.Scope, &c.ClientURI, &c.LogoURI, &c.Source,
		&createdAt, &revokedAt)
	if err != nil {
		return nil, notFound(err)
	}
	if c.RedirectURIs, err = decodeList(redirects); err != nil {
		return nil, err
	}
	if c.GrantTypes, err = decodeList(grants); err != nil {
		return nil, err
	}
	if c.ResponseTypes, err = decodeList(respType); err != nil {
		return nil, err
	}
	if c.CreatedAt, err = decodeTime(createdAt); err != nil {
		return nil, err
	}
	if c.RevokedAt, err = decodeTimePtr(revokedAt); err != nil {
		return nil, err
	}
	return &c, nil
}

// encodeList stores a string list as a JSON array; nil becomes [].
func encodeList(l []string) string {
	if l == nil {
		l = []string{}
	}
	b, _ := json.Marshal(l) // a []string always marshals
	return string(b)
}

func decodeList(s string) ([]string, error) {
	var l []string
	if err := json.Unmarshal([]byte(s), &l); err != nil {
		return nil, fmt.Errorf("stored list %q: %w", s, err)
	}
	return l, nil
}
