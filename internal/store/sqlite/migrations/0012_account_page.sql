-- The account page (issue 22): browser sessions, so that a person can see
-- where they are signed in and sign out everywhere (a session cookie names
-- its row, and a revoked row ends it at once), and the page a sign-in
-- started from /account returns to.
CREATE TABLE browser_sessions (
    id         TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES local_accounts (id) ON DELETE CASCADE,
    user_agent TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    revoked_at TEXT
) STRICT;
CREATE INDEX browser_sessions_account_id ON browser_sessions (account_id);
CREATE INDEX browser_sessions_expires_at ON browser_sessions (expires_at);

ALTER TABLE signin_requests ADD COLUMN return_path TEXT NOT NULL DEFAULT '';
