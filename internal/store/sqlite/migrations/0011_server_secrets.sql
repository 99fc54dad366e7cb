-- Secrets every process serving this database must share (the key that
-- signs multi-round requestStates), created once by whichever starts first.
CREATE TABLE server_secrets (
    name       TEXT PRIMARY KEY,
    value      BLOB NOT NULL,
    created_at TEXT NOT NULL
) STRICT;
