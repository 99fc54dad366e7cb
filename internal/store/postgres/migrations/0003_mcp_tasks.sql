-- MCP tasks (the tasks extension, internal/tasks): a tool call that runs
-- on after its request, read by tasks/get on any replica. The JSON columns
-- are the wire's; version makes updates optimistic (sqlcore/tasks.go).
CREATE TABLE mcp_tasks (
    id               text PRIMARY KEY,
    owner            text NOT NULL,
    tool             text NOT NULL,
    status           text NOT NULL,
    status_message   text NOT NULL,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    heartbeat_at     timestamptz NOT NULL,
    expires_at       timestamptz NOT NULL,
    poll_interval_ms bigint NOT NULL,
    input_requests   text,
    input_responses  text,
    cancel_requested integer NOT NULL,
    result           text,
    error            text,
    version          bigint NOT NULL
);
CREATE INDEX mcp_tasks_expires ON mcp_tasks (expires_at);
CREATE INDEX mcp_tasks_live ON mcp_tasks (status, heartbeat_at);
