-- MCP tasks (the tasks extension, internal/tasks): a tool call that runs
-- on after its request, read by tasks/get on any process. The JSON columns
-- are the wire's; version makes updates optimistic (sqlcore/tasks.go).
CREATE TABLE mcp_tasks (
    id               TEXT PRIMARY KEY,
    owner            TEXT NOT NULL,
    tool             TEXT NOT NULL,
    status           TEXT NOT NULL,
    status_message   TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    heartbeat_at     TEXT NOT NULL,
    expires_at       TEXT NOT NULL,
    poll_interval_ms INTEGER NOT NULL,
    input_requests   TEXT,
    input_responses  TEXT,
    cancel_requested INTEGER NOT NULL,
    result           TEXT,
    error            TEXT,
    version          INTEGER NOT NULL
) STRICT;
CREATE INDEX mcp_tasks_expires ON mcp_tasks (expires_at);
CREATE INDEX mcp_tasks_live ON mcp_tasks (status, heartbeat_at);
