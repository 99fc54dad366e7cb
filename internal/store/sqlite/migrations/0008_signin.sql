-- Sign-in at upstream identity providers (internal/authserver/connector):
-- the sign-ins in progress (single use, ten minutes; any replica may
-- receive the provider's callback) and the identities linked to accounts.
CREATE TABLE signin_requests (
    state_hash TEXT PRIMARY KEY,
    connector  TEXT NOT NULL,
    nonce      TEXT NOT NULL,
    verifier   TEXT NOT NULL,
    authz      TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT
) STRICT;
CREATE INDEX signin_requests_expires_at ON signin_requests (expires_at);

CREATE TABLE linked_identities (
    connector    TEXT NOT NULL,
    subject      TEXT NOT NULL,
    account_id   TEXT NOT NULL REFERENCES local_accounts (id) ON DELETE CASCADE,
    email        TEXT NOT NULL,
    org_id       TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    last_used_at TEXT NOT NULL,
    PRIMARY KEY (connector, subject)
) STRICT;
CREATE INDEX linked_identities_account_id ON linked_identities (account_id);
