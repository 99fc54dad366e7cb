-- Sign-in at upstream identity providers (internal/authserver/connector):
-- the sign-ins in progress (single use, ten minutes; any replica may
-- receive the provider's callback) and the identities linked to accounts.
CREATE TABLE signin_requests (
    state_hash text COLLATE "C" PRIMARY KEY,
    connector  text NOT NULL,
    nonce      text NOT NULL,
    verifier   text NOT NULL,
    authz      text NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX signin_requests_expires_at ON signin_requests (expires_at);

CREATE TABLE linked_identities (
    connector    text COLLATE "C" NOT NULL,
    subject      text COLLATE "C" NOT NULL,
    account_id   text COLLATE "C" NOT NULL REFERENCES local_accounts (id) ON DELETE CASCADE,
    email        text NOT NULL,
    org_id       text NOT NULL,
    created_at   timestamptz NOT NULL,
    last_used_at timestamptz NOT NULL,
    PRIMARY KEY (connector, subject)
);
CREATE INDEX linked_identities_account_id ON linked_identities (account_id);
