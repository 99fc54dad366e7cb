-- 0001_init: the initial atomcp schema.
--
-- Written by hand and never edited once released: a schema change is a new
-- file with the next number. TestMigrationMatchesDomain checks that the entity
-- tables below have exactly the columns domain.Kinds() describes, so adding a
-- field to the domain without a migration fails a test.
--
-- Conventions:
--   * timestamps are TEXT in UTC with nine fractional digits
--     (2006-01-02T15:04:05.000000000Z): readable, exact to the nanosecond,
--     and ordered correctly by plain text comparison;
--   * booleans are INTEGER 0/1, JSON fields TEXT holding JSON;
--   * tables are STRICT so that a value of the wrong type is refused;
--   * entity tables (one per domain kind) share the bookkeeping columns id,
--     organization_id, created_at, updated_at, created_by, updated_by,
--     is_deleted, deleted_at; a field that is Required in the domain is NOT
--     NULL here;
--   * references between entities have no ON DELETE action: the store never
--     changes rows it was not asked to, so deleting an entity that is still
--     referenced fails. Rows that only describe a relationship (members,
--     requirement_tests, assignments) go with the rows they relate.

CREATE TABLE organizations (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL CHECK (organization_id = id),
    name            TEXT NOT NULL,
    slug            TEXT,
    type            TEXT,
    description     TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    created_by      TEXT,
    updated_by      TEXT,
    is_deleted      INTEGER NOT NULL DEFAULT 0,
    deleted_at      TEXT
) STRICT;
-- Slugs appear in URLs; a deleted organization keeps its slug so that it
-- can be restored.
CREATE UNIQUE INDEX organizations_slug_key ON organizations (slug);

CREATE TABLE projects (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    name            TEXT NOT NULL,
    slug            TEXT,
    description     TEXT,
    status          TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    created_by      TEXT,
    updated_by      TEXT,
    is_deleted      INTEGER NOT NULL DEFAULT 0,
    deleted_at      TEXT
) STRICT;
-- Also serves as the index of the parent field organization_id.
CREATE UNIQUE INDEX projects_organization_slug_key ON projects (organization_id, slug);

CREATE TABLE documents (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    project_id      TEXT NOT NULL REFERENCES projects (id),
    name            TEXT NOT NULL,
    description     TEXT,
    content         TEXT,
    version         INTEGER,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    created_by      TEXT,
    updated_by      TEXT,
    is_deleted      INTEGER NOT NULL DEFAULT 0,
    deleted_at      TEXT
) STRICT;
CREATE INDEX documents_organization_id ON documents (organization_id);
CREATE INDEX documents_project_id ON documents (project_id);

CREATE TABLE blocks (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    document_id     TEXT NOT NULL REFERENCES documents (id),
    type            TEXT,
    content         TEXT,
    position        INTEGER,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    created_by      TEXT,
    updated_by      TEXT,
    is_deleted      INTEGER NOT NULL DEFAULT 0,
    deleted_at      TEXT
) STRICT;
CREATE INDEX blocks_organization_id ON blocks (organization_id);
CREATE INDEX blocks_document_id ON blocks (document_id, position);

CREATE TABLE requirements (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    document_id     TEXT NOT NULL REFERENCES documents (id),
    project_id      TEXT REFERENCES projects (id),
    block_id        TEXT REFERENCES blocks (id),
    name            TEXT NOT NULL,
    description     TEXT,
    content         TEXT,
    external_id     TEXT,
    status          TEXT,
    priority        TEXT,
    type            TEXT,
    properties      TEXT,
    version         INTEGER,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    created_by      TEXT,
    updated_by      TEXT,
    is_deleted      INTEGER NOT NULL DEFAULT 0,
    deleted_at      TEXT
) STRICT;
CREATE INDEX requirements_organization_id ON requirements (organization_id);
CREATE INDEX requirements_document_id ON requirements (document_id);
CREATE INDEX requirements_project_id ON requirements (project_id);
CREATE INDEX requirements_block_id ON requirements (block_id);
-- An external id (REQ-012) names one live requirement of a project; a
-- deleted requirement gives its external id up, and requirements without
-- one do not collide.
CREATE UNIQUE INDEX requirements_project_external_id_key ON requirements (project_id, external_id)
    WHERE is_deleted = 0 AND external_id IS NOT NULL AND external_id <> '';

CREATE TABLE tests (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    project_id      TEXT NOT NULL REFERENCES projects (id),
    title           TEXT NOT NULL,
    description     TEXT,
    status          TEXT,
    priority        TEXT,
    is_active       INTEGER,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    created_by      TEXT,
    updated_by      TEXT,
    is_deleted      INTEGER NOT NULL DEFAULT 0,
    deleted_at      TEXT
) STRICT;
CREATE INDEX tests_organization_id ON tests (organization_id);
CREATE INDEX tests_project_id ON tests (project_id);

-- People, keyed by the (issuer, subject) of their verified token.
CREATE TABLE users (
    id         TEXT PRIMARY KEY,
    issuer     TEXT NOT NULL,
    subject    TEXT NOT NULL,
    email      TEXT NOT NULL DEFAULT '',
    name       TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CONSTRAINT users_issuer_subject_key UNIQUE (issuer, subject)
) STRICT;

CREATE TABLE organization_members (
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role            TEXT NOT NULL,
    status          TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    PRIMARY KEY (organization_id, user_id)
) STRICT;
CREATE INDEX organization_members_user_id ON organization_members (user_id);

-- invited_by is a plain user id without a reference: an invitation outlives
-- the person who sent it.
CREATE TABLE invitations (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    email           TEXT NOT NULL,
    role            TEXT NOT NULL,
    status          TEXT NOT NULL,
    invited_by      TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL
) STRICT;
CREATE INDEX invitations_organization_id ON invitations (organization_id);
CREATE INDEX invitations_status ON invitations (status);

-- A user's current organization, project and document. Losing the thing it
-- points at only clears that part of the context.
CREATE TABLE workspace_contexts (
    user_id         TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    organization_id TEXT REFERENCES organizations (id) ON DELETE SET NULL,
    project_id      TEXT REFERENCES projects (id) ON DELETE SET NULL,
    document_id     TEXT REFERENCES documents (id) ON DELETE SET NULL,
    updated_at      TEXT NOT NULL
) STRICT;
CREATE INDEX workspace_contexts_organization_id ON workspace_contexts (organization_id);
CREATE INDEX workspace_contexts_project_id ON workspace_contexts (project_id);
CREATE INDEX workspace_contexts_document_id ON workspace_contexts (document_id);

-- The audit log has no references on purpose: it must outlive what it
-- describes. AUTOINCREMENT keeps ids increasing even after deletions, so
-- "newest first" is "highest id first".
CREATE TABLE audit_log (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    at              TEXT NOT NULL,
    actor_id        TEXT NOT NULL DEFAULT '',
    action          TEXT NOT NULL,
    entity_type     TEXT NOT NULL DEFAULT '',
    entity_id       TEXT NOT NULL DEFAULT '',
    organization_id TEXT NOT NULL DEFAULT '',
    before_json     TEXT,
    after_json      TEXT
) STRICT;
CREATE INDEX audit_log_entity_id ON audit_log (entity_id);
CREATE INDEX audit_log_organization_id ON audit_log (organization_id);

-- Relationships, used from the next issue on (no Go code yet).

-- A trace link joins any two of requirement, test, document and block, so
-- its ends cannot be foreign keys; orphans are found by the analyze query.
CREATE TABLE trace_links (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    source_type     TEXT NOT NULL,
    source_id       TEXT NOT NULL,
    target_type     TEXT NOT NULL,
    target_id       TEXT NOT NULL,
    link_type       TEXT NOT NULL,
    description     TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    created_by      TEXT,
    updated_by      TEXT,
    is_deleted      INTEGER NOT NULL DEFAULT 0,
    deleted_at      TEXT
) STRICT;
CREATE INDEX trace_links_organization_id ON trace_links (organization_id);
CREATE INDEX trace_links_source ON trace_links (source_id);
CREATE INDEX trace_links_target ON trace_links (target_id);
CREATE UNIQUE INDEX trace_links_ends_key ON trace_links (source_type, source_id, target_type, target_id, link_type)
    WHERE is_deleted = 0;

CREATE TABLE requirement_tests (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    requirement_id  TEXT NOT NULL REFERENCES requirements (id) ON DELETE CASCADE,
    test_id         TEXT NOT NULL REFERENCES tests (id) ON DELETE CASCADE,
    coverage        TEXT NOT NULL,
    status          TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    created_by      TEXT,
    updated_by      TEXT,
    CONSTRAINT requirement_tests_pair_key UNIQUE (requirement_id, test_id)
) STRICT;
CREATE INDEX requirement_tests_organization_id ON requirement_tests (organization_id);
CREATE INDEX requirement_tests_test_id ON requirement_tests (test_id);

-- An assignment gives a user a role on any entity (entity_type, entity_id).
CREATE TABLE assignments (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    entity_type     TEXT NOT NULL,
    entity_id       TEXT NOT NULL,
    role            TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    created_by      TEXT,
    CONSTRAINT assignments_key UNIQUE (entity_type, entity_id, user_id, role)
) STRICT;
CREATE INDEX assignments_organization_id ON assignments (organization_id);
CREATE INDEX assignments_user_id ON assignments (user_id);
