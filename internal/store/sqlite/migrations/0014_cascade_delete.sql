-- Soft delete cascades: deleting an entity hides every live entity below
-- it, and restoring it brings back exactly those. deleted_with is the id
-- of the entity whose delete hid a row: its own id for the entity that was
-- deleted, an ancestor's for the rows hidden with it; NULL for live rows.
ALTER TABLE organizations ADD COLUMN deleted_with TEXT;
ALTER TABLE projects ADD COLUMN deleted_with TEXT;
ALTER TABLE documents ADD COLUMN deleted_with TEXT;
ALTER TABLE blocks ADD COLUMN deleted_with TEXT;
ALTER TABLE requirements ADD COLUMN deleted_with TEXT;
ALTER TABLE tests ADD COLUMN deleted_with TEXT;

-- Rows deleted before this version were each deleted on their own.
UPDATE organizations SET deleted_with = id WHERE is_deleted = 1;
UPDATE projects SET deleted_with = id WHERE is_deleted = 1;
UPDATE documents SET deleted_with = id WHERE is_deleted = 1;
UPDATE blocks SET deleted_with = id WHERE is_deleted = 1;
UPDATE requirements SET deleted_with = id WHERE is_deleted = 1;
UPDATE tests SET deleted_with = id WHERE is_deleted = 1;

-- Live rows under a deleted parent were still shown; hide them with the
-- parent's delete, top down, so that restoring the parent brings them back.
UPDATE projects SET is_deleted = 1,
    deleted_at = (SELECT p.deleted_at FROM organizations p WHERE p.id = projects.organization_id),
    deleted_with = (SELECT p.deleted_with FROM organizations p WHERE p.id = projects.organization_id)
WHERE is_deleted = 0 AND organization_id IN (SELECT id FROM organizations WHERE is_deleted = 1);
UPDATE documents SET is_deleted = 1,
    deleted_at = (SELECT p.deleted_at FROM projects p WHERE p.id = documents.project_id),
    deleted_with = (SELECT p.deleted_with FROM projects p WHERE p.id = documents.project_id)
WHERE is_deleted = 0 AND project_id IN (SELECT id FROM projects WHERE is_deleted = 1);
UPDATE blocks SET is_deleted = 1,
    deleted_at = (SELECT p.deleted_at FROM documents p WHERE p.id = blocks.document_id),
    deleted_with = (SELECT p.deleted_with FROM documents p WHERE p.id = blocks.document_id)
WHERE is_deleted = 0 AND document_id IN (SELECT id FROM documents WHERE is_deleted = 1);
UPDATE requirements SET is_deleted = 1,
    deleted_at = (SELECT p.deleted_at FROM documents p WHERE p.id = requirements.document_id),
    deleted_with = (SELECT p.deleted_with FROM documents p WHERE p.id = requirements.document_id)
WHERE is_deleted = 0 AND document_id IN (SELECT id FROM documents WHERE is_deleted = 1);
UPDATE tests SET is_deleted = 1,
    deleted_at = (SELECT p.deleted_at FROM projects p WHERE p.id = tests.project_id),
    deleted_with = (SELECT p.deleted_with FROM projects p WHERE p.id = tests.project_id)
WHERE is_deleted = 0 AND project_id IN (SELECT id FROM projects WHERE is_deleted = 1);

-- The rows just hidden leave the search index.
DELETE FROM search_index WHERE rowid IN (
    SELECT d.rowid FROM search_docs d WHERE d.entity_id IN (
        SELECT id FROM projects WHERE is_deleted = 1 UNION ALL SELECT id FROM documents WHERE is_deleted = 1
        UNION ALL SELECT id FROM blocks WHERE is_deleted = 1 UNION ALL SELECT id FROM requirements WHERE is_deleted = 1
        UNION ALL SELECT id FROM tests WHERE is_deleted = 1));
DELETE FROM search_docs WHERE entity_id IN (
    SELECT id FROM projects WHERE is_deleted = 1 UNION ALL SELECT id FROM documents WHERE is_deleted = 1
    UNION ALL SELECT id FROM blocks WHERE is_deleted = 1 UNION ALL SELECT id FROM requirements WHERE is_deleted = 1
    UNION ALL SELECT id FROM tests WHERE is_deleted = 1);

CREATE INDEX organizations_deleted_with ON organizations (deleted_with) WHERE deleted_with IS NOT NULL;
CREATE INDEX projects_deleted_with ON projects (deleted_with) WHERE deleted_with IS NOT NULL;
CREATE INDEX documents_deleted_with ON documents (deleted_with) WHERE deleted_with IS NOT NULL;
CREATE INDEX blocks_deleted_with ON blocks (deleted_with) WHERE deleted_with IS NOT NULL;
CREATE INDEX requirements_deleted_with ON requirements (deleted_with) WHERE deleted_with IS NOT NULL;
CREATE INDEX tests_deleted_with ON tests (deleted_with) WHERE deleted_with IS NOT NULL;
