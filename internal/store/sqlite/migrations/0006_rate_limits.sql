-- Request counts per key and fixed window, shared by every process on the
-- database (registration, token and sign-in limits of the authorization
-- server).
CREATE TABLE rate_limits (
    key          TEXT NOT NULL,
    window_start TEXT NOT NULL,
    count        INTEGER NOT NULL,
    PRIMARY KEY (key, window_start)
) STRICT;
CREATE INDEX rate_limits_window ON rate_limits (window_start);
