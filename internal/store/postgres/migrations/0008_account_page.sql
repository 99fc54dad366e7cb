-- The account page (issue 22): browser sessions, so that a person can see
-- where they are signed in and sign out everywhere (a session cookie names
-- its row, and a revoked row ends it at once), and the page a sign-in
-- started from /account returns to.
CREATE TABLE browser_sessions (
    id         text COLLATE "C" PRIMARY KEY,
    account_id text COLLATE "C" NOT NULL REFERENCES local_accounts (id) ON DELETE CASCADE,
    user_agent text NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz
);
CREATE INDEX browser_sessions_account_id ON browser_sessions (account_id);
CREATE INDEX browser_sessions_expires_at ON browser_sessions (expires_at);

ALTER TABLE signin_requests ADD COLUMN return_path text NOT NULL DEFAULT '';
