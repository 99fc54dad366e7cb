-- 0001_init: the atomcp schema on PostgreSQL.
--
-- The same tables as the SQLite backend's migrations 0001 to 0005, written
-- once for PostgreSQL. Never edited once released: a schema change is a new
-- file with the next number. TestMigrationMatchesDomain checks that the
-- entity tables have exactly the columns domain.Kinds() describes.
--
-- Conventions:
--   * ids and references are text COLLATE "C", so that they compare and
--     sort byte by byte whatever the database's locale (as in Go and in
--     the SQLite backend);
--   * timestamps are timestamptz (exact to the microsecond), booleans
--     boolean, integers bigint, JSON fields jsonb;
--   * entity tables (one per domain kind) share the bookkeeping columns id,
--     organization_id, created_at, updated_at, created_by, updated_by,
--     is_deleted, deleted_at; a field that is Required in the domain is NOT
--     NULL here;
--   * references between entities have no ON DELETE action: the store
--     never changes rows it was not asked to, so deleting an entity that is
--     still referenced fails. Rows that only describe a relationship
--     (members, requirement_tests, assignments) go with the rows they relate.
--   * foreign keys keep PostgreSQL's default names (<table>_<column>_fkey),
--     and the store names the column of a violated one from the error.

CREATE TABLE organizations (
    id              text COLLATE "C" PRIMARY KEY,
    organization_id text COLLATE "C" NOT NULL CHECK (organization_id = id),
    name            text NOT NULL,
    slug            text,
    type            text,
    description     text,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    created_by      text,
    updated_by      text,
    is_deleted      boolean NOT NULL DEFAULT false,
    deleted_at      timestamptz
);
-- A deleted organization keeps its slug so that it can be restored.
CREATE UNIQUE INDEX organizations_slug_key ON organizations (slug);

CREATE TABLE projects (
    id              text COLLATE "C" PRIMARY KEY,
    organization_id text COLLATE "C" NOT NULL REFERENCES organizations (id),
    name            text NOT NULL,
    slug            text,
    description     text,
    status          text,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    created_by      text,
    updated_by      text,
    is_deleted      boolean NOT NULL DEFAULT false,
    deleted_at      timestamptz
);
-- Also serves as the index of the parent field organization_id.
CREATE UNIQUE INDEX projects_organization_slug_key ON projects (organization_id, slug);

CREATE TABLE documents (
    id              text COLLATE "C" PRIMARY KEY,
    organization_id text COLLATE "C" NOT NULL REFERENCES organizations (id),
    project_id      text COLLATE "C" NOT NULL REFERENCES projects (id),
    name            text NOT NULL,
    description     text,
    content         text,
    version         bigint,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    created_by      text,
    updated_by      text,
    is_deleted      boolean NOT NULL DEFAULT false,
    deleted_at      timestamptz
);
CREATE INDEX documents_organization_id ON documents (organization_id);
CREATE INDEX documents_project_id ON documents (project_id);

CREATE TABLE blocks (
    id              text COLLATE "C" PRIMARY KEY,
    organization_id text COLLATE "C" NOT NULL REFERENCES organizations (id),
    document_id     text COLLATE "C" NOT NULL REFERENCES documents (id),
    type            text,
    content         text,
    position        bigint,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    created_by      text,
    updated_by      text,
    is_deleted      boolean NOT NULL DEFAULT false,
    deleted_at      timestamptz
);
CREATE INDEX blocks_organization_id ON blocks (organization_id);
CREATE INDEX blocks_document_id ON blocks (document_id, position);

CREATE TABLE requirements (
    id              text COLLATE "C" PRIMARY KEY,
    organization_id text COLLATE "C" NOT NULL REFERENCES organizations (id),
    document_id     text COLLATE "C" NOT NULL REFERENCES documents (id),
    project_id      text COLLATE "C" REFERENCES projects (id),
    block_id        text COLLATE "C" REFERENCES blocks (id),
    name            text NOT NULL,
    description     text,
    content         text,
    external_id     text,
    status          text,
    priority        text,
    type            text,
    properties      jsonb,
    version         bigint,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    created_by      text,
    updated_by      text,
    is_deleted      boolean NOT NULL DEFAULT false,
    deleted_at      timestamptz
);
CREATE INDEX requirements_organization_id ON requirements (organization_id);
CREATE INDEX requirements_document_id ON requirements (document_id);
CREATE INDEX requirements_project_id ON requirements (project_id, external_id);
CREATE INDEX requirements_block_id ON requirements (block_id);
-- An external id (REQ-012) names one live requirement of a project; a
-- deleted requirement gives its external id up, and requirements without
-- one do not collide.
CREATE UNIQUE INDEX requirements_project_external_id_key ON requirements (project_id, external_id)
    WHERE NOT is_deleted AND external_id IS NOT NULL AND external_id <> '';

CREATE TABLE tests (
    id              text COLLATE "C" PRIMARY KEY,
    organization_id text COLLATE "C" NOT NULL REFERENCES organizations (id),
    project_id      text COLLATE "C" NOT NULL REFERENCES projects (id),
    title           text NOT NULL,
    description     text,
    status          text,
    priority        text,
    is_active       boolean,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    created_by      text,
    updated_by      text,
    is_deleted      boolean NOT NULL DEFAULT false,
    deleted_at      timestamptz
);
CREATE INDEX tests_organization_id ON tests (organization_id);
CREATE INDEX tests_project_id ON tests (project_id);

-- People, keyed by the (issuer, subject) of their verified token.
CREATE TABLE users (
    id         text COLLATE "C" PRIMARY KEY,
    issuer     text NOT NULL,
    subject    text NOT NULL,
    email      text NOT NULL DEFAULT '',
    name       text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    CONSTRAINT users_issuer_subject_key UNIQUE (issuer, subject)
);
CREATE INDEX users_email_lower ON users (lower(email));

CREATE TABLE organization_members (
    organization_id text COLLATE "C" NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id         text COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role            text NOT NULL,
    status          text NOT NULL,
    created_at      timestamptz NOT NULL,
    PRIMARY KEY (organization_id, user_id)
);
CREATE INDEX organization_members_user_id ON organization_members (user_id);

-- invited_by is a plain user id without a reference: an invitation
-- outlives the person who sent it.
CREATE TABLE invitations (
    id              text COLLATE "C" PRIMARY KEY,
    organization_id text COLLATE "C" NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    email           text NOT NULL,
    role            text NOT NULL,
    status          text NOT NULL,
    invited_by      text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL
);
CREATE INDEX invitations_organization_id ON invitations (organization_id);
CREATE INDEX invitations_pending_email ON invitations (lower(email)) WHERE status = 'pending';

-- A user's current organization, project and document. Losing the thing
-- it points at only clears that part of the context.
CREATE TABLE workspace_contexts (
    user_id         text COLLATE "C" PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    organization_id text COLLATE "C" REFERENCES organizations (id) ON DELETE SET NULL,
    project_id      text COLLATE "C" REFERENCES projects (id) ON DELETE SET NULL,
    document_id     text COLLATE "C" REFERENCES documents (id) ON DELETE SET NULL,
    updated_at      timestamptz NOT NULL
);
CREATE INDEX workspace_contexts_organization_id ON workspace_contexts (organization_id);
CREATE INDEX workspace_contexts_project_id ON workspace_contexts (project_id);
CREATE INDEX workspace_contexts_document_id ON workspace_contexts (document_id);

-- The audit log has no references on purpose: it must outlive what it
-- describes. Ids come from an identity sequence and only grow, so "newest
-- first" is "highest id first".
CREATE TABLE audit_log (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at              timestamptz NOT NULL,
    actor_id        text NOT NULL DEFAULT '',
    action          text NOT NULL,
    entity_type     text NOT NULL DEFAULT '',
    entity_id       text COLLATE "C" NOT NULL DEFAULT '',
    organization_id text COLLATE "C" NOT NULL DEFAULT '',
    before_json     text,
    after_json      text
);
CREATE INDEX audit_log_entity_id ON audit_log (entity_id, id);
CREATE INDEX audit_log_organization_id ON audit_log (organization_id, id);

-- A trace link joins any two of requirement, test, document and block, so
-- its ends cannot be foreign keys; orphans are found by the analyze query.
CREATE TABLE trace_links (
    id              text COLLATE "C" PRIMARY KEY,
    organization_id text COLLATE "C" NOT NULL REFERENCES organizations (id),
    source_type     text NOT NULL,
    source_id       text COLLATE "C" NOT NULL,
    target_type     text NOT NULL,
    target_id       text COLLATE "C" NOT NULL,
    link_type       text NOT NULL,
    description     text,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    created_by      text,
    updated_by      text,
    is_deleted      boolean NOT NULL DEFAULT false,
    deleted_at      timestamptz
);
CREATE INDEX trace_links_organization_id ON trace_links (organization_id);
CREATE INDEX trace_links_source ON trace_links (source_id);
CREATE INDEX trace_links_target ON trace_links (target_id);
CREATE UNIQUE INDEX trace_links_ends_key ON trace_links (source_type, source_id, target_type, target_id, link_type)
    WHERE NOT is_deleted;

CREATE TABLE requirement_tests (
    id              text COLLATE "C" PRIMARY KEY,
    organization_id text COLLATE "C" NOT NULL REFERENCES organizations (id),
    requirement_id  text COLLATE "C" NOT NULL REFERENCES requirements (id) ON DELETE CASCADE,
    test_id         text COLLATE "C" NOT NULL REFERENCES tests (id) ON DELETE CASCADE,
    coverage        text NOT NULL,
    status          text,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    created_by      text,
    updated_by      text,
    CONSTRAINT requirement_tests_pair_key UNIQUE (requirement_id, test_id)
);
CREATE INDEX requirement_tests_organization_id ON requirement_tests (organization_id);
CREATE INDEX requirement_tests_test_id ON requirement_tests (test_id);

-- An assignment gives a user a role on any entity (entity_type, entity_id).
CREATE TABLE assignments (
    id              text COLLATE "C" PRIMARY KEY,
    organization_id text COLLATE "C" NOT NULL REFERENCES organizations (id),
    user_id         text COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    entity_type     text NOT NULL,
    entity_id       text COLLATE "C" NOT NULL,
    role            text NOT NULL,
    created_at      timestamptz NOT NULL,
    created_by      text,
    CONSTRAINT assignments_key UNIQUE (entity_type, entity_id, user_id, role)
);
CREATE INDEX assignments_organization_id ON assignments (organization_id);
CREATE INDEX assignments_user_id ON assignments (user_id);
CREATE INDEX assignments_entity_id ON assignments (entity_id);

-- The embedded OAuth 2.1 authorization server. No secret is stored in the
-- clear: codes, refresh tokens, setup tokens and client secrets are SHA-256
-- hashes, passwords argon2id hashes. The signing keys are the exception.

CREATE TABLE oauth_clients (
    id                         text COLLATE "C" PRIMARY KEY,
    secret_hash                text NOT NULL DEFAULT '',
    name                       text NOT NULL DEFAULT '',
    redirect_uris              text[] NOT NULL,
    grant_types                text[] NOT NULL,
    response_types             text[] NOT NULL,
    token_endpoint_auth_method text NOT NULL,
    application_type           text NOT NULL DEFAULT '',
    scope                      text NOT NULL DEFAULT '',
    client_uri                 text NOT NULL DEFAULT '',
    logo_uri                   text NOT NULL DEFAULT '',
    source                     text NOT NULL,
    created_at                 timestamptz NOT NULL,
    revoked_at                 timestamptz
);

CREATE TABLE local_accounts (
    id            text COLLATE "C" PRIMARY KEY,
    email         text NOT NULL CHECK (email = lower(email)),
    name          text NOT NULL DEFAULT '',
    password_hash text NOT NULL,
    role          text NOT NULL CHECK (role IN ('owner', 'user')),
    disabled_at   timestamptz,
    failed_logins integer NOT NULL DEFAULT 0,
    locked_until  timestamptz,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);
CREATE UNIQUE INDEX local_accounts_email_key ON local_accounts (email);

-- A family is everything issued from one authorization code. Codes and
-- families reference clients and accounts loosely (no foreign key): a code
-- of a client identified by a metadata document URL has no client row.
CREATE TABLE oauth_token_families (
    id         text COLLATE "C" PRIMARY KEY,
    client_id  text COLLATE "C" NOT NULL,
    account_id text COLLATE "C" NOT NULL,
    scope      text NOT NULL,
    resource   text NOT NULL,
    created_at timestamptz NOT NULL,
    revoked_at timestamptz
);
CREATE INDEX oauth_token_families_client_id ON oauth_token_families (client_id);
CREATE INDEX oauth_token_families_account_id ON oauth_token_families (account_id);

CREATE TABLE oauth_codes (
    hash                  text COLLATE "C" PRIMARY KEY,
    client_id             text COLLATE "C" NOT NULL,
    account_id            text COLLATE "C" NOT NULL,
    redirect_uri          text NOT NULL,
    scope                 text NOT NULL,
    resource              text NOT NULL,
    code_challenge        text NOT NULL,
    code_challenge_method text NOT NULL,
    family_id             text COLLATE "C" NOT NULL,
    created_at            timestamptz NOT NULL,
    expires_at            timestamptz NOT NULL,
    used_at               timestamptz
);
CREATE INDEX oauth_codes_expires_at ON oauth_codes (expires_at);
CREATE INDEX oauth_codes_family_id ON oauth_codes (family_id);

CREATE TABLE oauth_refresh_tokens (
    hash       text COLLATE "C" PRIMARY KEY,
    family_id  text COLLATE "C" NOT NULL REFERENCES oauth_token_families (id) ON DELETE CASCADE,
    client_id  text COLLATE "C" NOT NULL,
    account_id text COLLATE "C" NOT NULL,
    scope      text NOT NULL,
    resource   text NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX oauth_refresh_tokens_family_id ON oauth_refresh_tokens (family_id);
CREATE INDEX oauth_refresh_tokens_expires_at ON oauth_refresh_tokens (expires_at);

-- Issued access tokens, so that revoking a family can deny-list them.
CREATE TABLE oauth_access_tokens (
    jti        text COLLATE "C" PRIMARY KEY,
    family_id  text COLLATE "C" NOT NULL REFERENCES oauth_token_families (id) ON DELETE CASCADE,
    expires_at timestamptz NOT NULL
);
CREATE INDEX oauth_access_tokens_family_id ON oauth_access_tokens (family_id);
CREATE INDEX oauth_access_tokens_expires_at ON oauth_access_tokens (expires_at);

-- Revoked access tokens, until they would have expired anyway.
CREATE TABLE oauth_denied_jtis (
    jti        text COLLATE "C" PRIMARY KEY,
    expires_at timestamptz NOT NULL
);
CREATE INDEX oauth_denied_jtis_expires_at ON oauth_denied_jtis (expires_at);

CREATE TABLE oauth_signing_keys (
    id          text COLLATE "C" PRIMARY KEY,
    algorithm   text NOT NULL,
    private_key bytea NOT NULL,
    created_at  timestamptz NOT NULL,
    retired_at  timestamptz
);

CREATE TABLE oauth_consents (
    account_id text COLLATE "C" NOT NULL REFERENCES local_accounts (id) ON DELETE CASCADE,
    client_id  text COLLATE "C" NOT NULL,
    scope      text NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (account_id, client_id)
);

CREATE TABLE oauth_setup_tokens (
    hash       text COLLATE "C" PRIMARY KEY,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);

-- Full-text search over the searchable fields of live entities: one row
-- per live entity (none for a soft-deleted one), written by the store in
-- the transaction of every entity write. name and body are the original
-- text, for ts_headline; document is the tsvector the store computes from
-- the same words that queries are split into (name weighted A, body B).
CREATE TABLE search_index (
    entity_id       text COLLATE "C" PRIMARY KEY,
    entity_type     text NOT NULL,
    organization_id text COLLATE "C" NOT NULL,
    project_id      text COLLATE "C" NOT NULL DEFAULT '',
    name            text NOT NULL,
    body            text NOT NULL,
    document        tsvector NOT NULL
);
CREATE INDEX search_index_document ON search_index USING gin (document);
CREATE INDEX search_index_organization_id ON search_index (organization_id, entity_type);

-- Entities whose embedding must be computed; every write of a live entity
-- queues it (or renews its entry).
CREATE TABLE embedding_queue (
    entity_id   text COLLATE "C" PRIMARY KEY,
    entity_type text NOT NULL,
    enqueued_at timestamptz NOT NULL
);
CREATE INDEX embedding_queue_enqueued_at ON embedding_queue (enqueued_at, entity_id);

-- Entity vectors for semantic search, one per entity. seq is taken from
-- embeddings_seq by every write (an insert or a replace), under a
-- transaction-scoped advisory lock, so that a larger seq is always
-- committed after a smaller one: a reader holding vectors up to some seq
-- loads exactly what was written since. There is no foreign key to the
-- entity (its table depends on entity_type, and a vector must never block
-- deleting an entity); queries join search_index, which lists exactly the
-- live entities. The vector is real[] (float4, bit for bit): similarity is
-- computed in the process, so no vector extension is needed.
CREATE SEQUENCE embeddings_seq;
CREATE TABLE embeddings (
    seq             bigint NOT NULL DEFAULT nextval('embeddings_seq') UNIQUE,
    entity_id       text COLLATE "C" PRIMARY KEY,
    entity_type     text NOT NULL,
    organization_id text COLLATE "C" NOT NULL,
    project_id      text COLLATE "C" NOT NULL DEFAULT '',
    model           text NOT NULL CHECK (model <> ''),
    content_hash    text NOT NULL,
    vector          real[] NOT NULL CHECK (cardinality(vector) > 0),
    updated_at      timestamptz NOT NULL
);
ALTER SEQUENCE embeddings_seq OWNED BY embeddings.seq;
CREATE INDEX embeddings_organization_model_seq ON embeddings (organization_id, model, seq);
