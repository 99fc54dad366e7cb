-- Finding an entity's search_index row by entity_id scanned the whole FTS
-- table (entity_id is an UNINDEXED column), which made every write O(n).
-- search_docs maps an entity to its FTS rowid through a real index.
CREATE TABLE search_docs (
    rowid     INTEGER PRIMARY KEY,
    entity_id TEXT NOT NULL UNIQUE
) STRICT;

INSERT INTO search_docs (rowid, entity_id) SELECT rowid, entity_id FROM search_index;

-- checkExternalID looks requirements up by (project_id, external_id); the
-- partial unique index cannot serve that query.
CREATE INDEX requirements_project_external_id ON requirements (project_id, external_id);
