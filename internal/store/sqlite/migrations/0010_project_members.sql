-- Project membership (the Atoms data model's project_members): a member
-- of the project's organization with a role in one project.

CREATE TABLE project_members (
    project_id      TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role            TEXT NOT NULL,
    status          TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    PRIMARY KEY (project_id, user_id)
) STRICT;
CREATE INDEX project_members_user_id ON project_members (user_id);
CREATE INDEX project_members_organization_id ON project_members (organization_id);
