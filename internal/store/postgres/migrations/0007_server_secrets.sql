-- Secrets every replica must share (the key that signs multi-round
-- requestStates), created once by whichever replica starts first.
CREATE TABLE server_secrets (
    name       text PRIMARY KEY,
    value      bytea NOT NULL,
    created_at timestamptz NOT NULL
);
