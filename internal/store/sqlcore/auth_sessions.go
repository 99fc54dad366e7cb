package sqlcore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

const browserSessionColumns = `id, account_id, user_agent, created_at, expires_at, revoked_at`

// CreateBrowserSession inserts s.
func (o Ops) CreateBrowserSession(ctx context.Context, s *store.BrowserSession) error {
	if s.ID == "" || s.AccountID == "" {
		return fmt.Errorf("create browser session: %w: id and account are required", domain.ErrInvalid)
	}
	_, err := o.exec(ctx, `INSERT INTO browser_sessions (`+browserSessionColumns+`) VALUES ($1, $2, $3, $4, $5, $6)`,
		s.ID, s.AccountID, s.UserAgent, o.D.Time(s.CreatedAt), o.D.Time(s.ExpiresAt), o.D.NullTime(s.RevokedAt))
	if err != nil && (o.D.IsForeignKey(err) || errors.Is(err, domain.ErrInvalid)) {
		return fmt.Errorf("create browser session of %q: %w: no such account", s.AccountID, domain.ErrNotFound)
	}
	return wrapf(err, "create browser session")
}

// GetBrowserSession returns the session with the id.
func (o Ops) GetBrowserSession(ctx context.Context, id string) (*store.BrowserSession, error) {
	s, err := o.scanBrowserSession(o.Read.QueryRow(ctx, `SELECT `+browserSessionColumns+` FROM browser_sessions WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("get browser session: %w", NotFound(err))
	}
	return s, nil
}

// ListBrowserSessions returns the account's live sessions, newest first.
func (o Ops) ListBrowserSessions(ctx context.Context, accountID string, now time.Time) ([]*store.BrowserSession, error) {
	out, err := queryAll(ctx, o.Read, o.scanBrowserSession,
		`SELECT `+browserSessionColumns+` FROM browser_sessions
		 WHERE account_id = $1 AND revoked_at IS NULL AND expires_at > $2
		 ORDER BY created_at DESC, id`, accountID, o.D.Time(now))
	if err != nil {
		return nil, fmt.Errorf("list browser sessions of %q: %w", accountID, err)
	}
	return out, nil
}

// RevokeBrowserSession revokes one session.
func (o Ops) RevokeBrowserSession(ctx context.Context, id string, at time.Time) error {
	err := expectOneRow(o.exec(ctx, `UPDATE browser_sessions SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1`, id, o.D.Time(at)))
	return wrapf(err, "revoke browser session")
}

// RevokeBrowserSessions revokes the account's sessions but one.
func (o Ops) RevokeBrowserSessions(ctx context.Context, accountID, exceptID string, at time.Time) (int, error) {
	n, err := o.exec(ctx, `UPDATE browser_sessions SET revoked_at = $3 WHERE account_id = $1 AND id <> $2 AND revoked_at IS NULL`,
		accountID, exceptID, o.D.Time(at))
	if err != nil {
		return 0, fmt.Errorf("revoke browser sessions of %q: %w", accountID, err)
	}
	return int(n), nil
}

func (o Ops) scanBrowserSession(row Row) (*store.BrowserSession, error) {
	var s store.BrowserSession
	if err := row.Scan(&s.ID, &s.AccountID, &s.UserAgent, o.D.ScanTime(&s.CreatedAt), o.D.ScanTime(&s.ExpiresAt), o.D.ScanNullTime(&s.RevokedAt)); err != nil {
		return nil, NotFound(err)
	}
	return &s, nil
}
