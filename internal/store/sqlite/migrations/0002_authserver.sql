-- 0002_authserver: the embedded OAuth 2.1 authorization server.
--
-- No secret is stored in the clear: codes, refresh tokens, setup tokens and
-- client secrets are SHA-256 hashes (hex), passwords argon2id hashes. The
-- signing keys are the exception (the server signs with them).
--
-- Lists (redirect URIs, grant types, response types) are JSON arrays in
-- TEXT. Timestamps follow 0001_init's convention.

CREATE TABLE oauth_clients (
    id                         TEXT PRIMARY KEY,
    secret_hash                TEXT NOT NULL DEFAULT '',
    name                       TEXT NOT NULL DEFAULT '',
    redirect_uris              TEXT NOT NULL,
    grant_types                TEXT NOT NULL,
    response_types             TEXT NOT NULL,
    token_endpoint_auth_method TEXT NOT NULL,
    application_type           TEXT NOT NULL DEFAULT '',
    scope                      TEXT NOT NULL DEFAULT '',
    client_uri                 TEXT NOT NULL DEFAULT '',
    logo_uri                   TEXT NOT NULL DEFAULT '',
    source                     TEXT NOT NULL,
    created_at                 TEXT NOT NULL,
    revoked_at                 TEXT
) STRICT;

CREATE TABLE local_accounts (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL CHECK (email = lower(email)),
    name          TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('owner', 'user')),
    disabled_at   TEXT,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until  TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX local_accounts_email_key ON local_accounts (email);

-- A family is everything issued from one authorization code. Codes and
-- families reference clients and accounts loosely (no FOREIGN KEY): a code
-- of a client identified by a metadata document URL has no client row.
CREATE TABLE oauth_token_families (
    id         TEXT PRIMARY KEY,
    client_id  TEXT NOT NULL,
    account_id TEXT NOT NULL,
    scope      TEXT NOT NULL,
    resource   TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
) STRICT;
CREATE INDEX oauth_token_families_client_id ON oauth_token_families (client_id);
CREATE INDEX oauth_token_families_account_id ON oauth_token_families (account_id);

CREATE TABLE oauth_codes (
    hash                  TEXT PRIMARY KEY,
    client_id             TEXT NOT NULL,
    account_id            TEXT NOT NULL,
    redirect_uri          TEXT NOT NULL,
    scope                 TEXT NOT NULL,
    resource              TEXT NOT NULL,
    code_challenge        TEXT NOT NULL,
    code_challenge_method TEXT NOT NULL,
    family_id             TEXT NOT NULL,
    created_at            TEXT NOT NULL,
    expires_at            TEXT NOT NULL,
    used_at               TEXT
) STRICT;
CREATE INDEX oauth_codes_expires_at ON oauth_codes (expires_at);

CREATE TABLE oauth_refresh_tokens (
    hash       TEXT PRIMARY KEY,
    family_id  TEXT NOT NULL REFERENCES oauth_token_families (id) ON DELETE CASCADE,
    client_id  TEXT NOT NULL,
    account_id TEXT NOT NULL,
    scope      TEXT NOT NULL,
    resource   TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT
) STRICT;
CREATE INDEX oauth_refresh_tokens_family_id ON oauth_refresh_tokens (family_id);
CREATE INDEX oauth_refresh_tokens_expires_at ON oauth_refresh_tokens (expires_at);

-- Issued access tokens, so that revoking a family can deny-list them.
CREATE TABLE oauth_access_tokens (
    jti        TEXT PRIMARY KEY,
    family_id  TEXT NOT NULL REFERENCES oauth_token_families (id) ON DELETE CASCADE,
    expires_at TEXT NOT NULL
) STRICT;
CREATE INDEX oauth_access_tokens_family_id ON oauth_access_tokens (family_id);

-- Revoked access tokens, until they would have expired anyway.
CREATE TABLE oauth_denied_jtis (
    jti        TEXT PRIMARY KEY,
    expires_at TEXT NOT NULL
) STRICT;

CREATE TABLE oauth_signing_keys (
    id          TEXT PRIMARY KEY,
    algorithm   TEXT NOT NULL,
    private_key BLOB NOT NULL,
    created_at  TEXT NOT NULL,
    retired_at  TEXT
) STRICT;

CREATE TABLE oauth_consents (
    account_id TEXT NOT NULL REFERENCES local_accounts (id) ON DELETE CASCADE,
    client_id  TEXT NOT NULL,
    scope      TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (account_id, client_id)
) STRICT;

CREATE TABLE oauth_setup_tokens (
    hash       TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT
) STRICT;
