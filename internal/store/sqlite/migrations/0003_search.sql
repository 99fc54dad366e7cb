-- Full-text search over the searchable fields of live entities, ranked
-- with bm25, and the queue of entities whose embeddings must be computed.
-- The store keeps both in step with every entity write, in the same
-- transaction.

CREATE VIRTUAL TABLE search_index USING fts5(
    name,
    body,
    entity_type UNINDEXED,
    entity_id UNINDEXED,
    organization_id UNINDEXED,
    project_id UNINDEXED,
    tokenize = 'unicode61 remove_diacritics 2'
);

INSERT INTO search_index (name, body, entity_type, entity_id, organization_id, project_id)
SELECT name, coalesce(description, ''), 'organization', id, organization_id, ''
FROM organizations WHERE is_deleted = 0;

INSERT INTO search_index (name, body, entity_type, entity_id, organization_id, project_id)
SELECT name, coalesce(description, ''), 'project', id, organization_id, id
FROM projects WHERE is_deleted = 0;

INSERT INTO search_index (name, body, entity_type, entity_id, organization_id, project_id)
SELECT name, trim(coalesce(description, '') || ' ' || coalesce(content, '')), 'document', id, organization_id, project_id
FROM documents WHERE is_deleted = 0;

INSERT INTO search_index (name, body, entity_type, entity_id, organization_id, project_id)
SELECT '', coalesce(content, ''), 'block', id, organization_id, ''
FROM blocks WHERE is_deleted = 0;

INSERT INTO search_index (name, body, entity_type, entity_id, organization_id, project_id)
SELECT trim(name || ' ' || coalesce(external_id, '')), trim(coalesce(description, '') || ' ' || coalesce(content, '')), 'requirement', id, organization_id, coalesce(project_id, '')
FROM requirements WHERE is_deleted = 0;

INSERT INTO search_index (name, body, entity_type, entity_id, organization_id, project_id)
SELECT title, coalesce(description, ''), 'test', id, organization_id, project_id
FROM tests WHERE is_deleted = 0;

CREATE TABLE embedding_queue (
    entity_id   TEXT PRIMARY KEY,
    entity_type TEXT NOT NULL,
    enqueued_at TEXT NOT NULL
) STRICT;
