-- Entity vectors for semantic search, one per entity. seq grows with every
-- write (INSERT OR REPLACE deletes the old row and AUTOINCREMENT never
-- reuses a number), so that a reader can load only what changed since the
-- largest seq it holds. The vector is little-endian float32, dimensions
-- values long. There is no foreign key to the entity: its table depends
-- on entity_type, and a vector must never block deleting an entity; the
-- queries join search_docs (which lists exactly the live entities) instead.
CREATE TABLE embeddings (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    entity_id       TEXT NOT NULL UNIQUE,
    entity_type     TEXT NOT NULL,
    organization_id TEXT NOT NULL,
    project_id      TEXT NOT NULL DEFAULT '',
    model           TEXT NOT NULL CHECK (model <> ''),
    dimensions      INTEGER NOT NULL CHECK (dimensions > 0),
    content_hash    TEXT NOT NULL,
    vector          BLOB NOT NULL CHECK (length(vector) = 4 * dimensions),
    updated_at      TEXT NOT NULL
) STRICT;

CREATE INDEX embeddings_organization_model_seq ON embeddings (organization_id, model, seq);

-- The embedding worker reads the queue oldest first, a batch at a time;
-- without this index each read sorted the whole queue, which made a
-- backfill of 100,000 entities quadratic.
CREATE INDEX embedding_queue_enqueued_at ON embedding_queue (enqueued_at, entity_id);
