package atomsimport_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/atomcp/atomcp/internal/atoms"
	"github.com/atomcp/atomcp/internal/atomsimport"
	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store/sqlite"
)

const adminURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// fixture is an Atoms (Supabase) database with every table the import
// reads, in the shape of the Python server's schema (the columns it used;
// extra columns are ignored).
const fixture = `
CREATE TABLE profiles (id uuid PRIMARY KEY, email text, full_name text, workos_id text, created_at timestamptz DEFAULT now(), updated_at timestamptz DEFAULT now());
CREATE TABLE organizations (id uuid PRIMARY KEY, name text NOT NULL, slug text, description text, type text, logo_url text, billing_plan text,
	created_by uuid, created_at timestamptz DEFAULT now(), updated_at timestamptz DEFAULT now(), is_deleted boolean DEFAULT false);
CREATE TABLE organization_members (id uuid PRIMARY KEY, organization_id uuid, user_id uuid, role text, status text, created_at timestamptz DEFAULT now());
CREATE TABLE projects (id uuid PRIMARY KEY, organization_id uuid, name text, slug text, description text, status text, visibility text, tags jsonb,
	created_at timestamptz DEFAULT now(), updated_at timestamptz DEFAULT now(), is_deleted boolean DEFAULT false);
CREATE TABLE project_members (id uuid PRIMARY KEY, project_id uuid, user_id uuid, org_id uuid, role text, status text, created_at timestamptz DEFAULT now());
CREATE TABLE documents (id uuid PRIMARY KEY, project_id uuid, name text, slug text, description text, tags jsonb,
	created_at timestamptz DEFAULT now(), updated_at timestamptz DEFAULT now(), is_deleted boolean DEFAULT false);
CREATE TABLE blocks (id uuid PRIMARY KEY, document_id uuid, type text, content jsonb, position int, org_id uuid,
	created_at timestamptz DEFAULT now(), updated_at timestamptz DEFAULT now(), is_deleted boolean DEFAULT false);
CREATE TABLE requirements (id uuid PRIMARY KEY, document_id uuid, block_id uuid, name text, description text, external_id text, status text, priority text,
	level text, format text, tags jsonb, position int, original_requirement text, enchanced_requirement text, ai_analysis jsonb, properties jsonb,
	created_at timestamptz DEFAULT now(), updated_at timestamptz DEFAULT now(), is_deleted boolean DEFAULT false);
CREATE TABLE test_req (id uuid PRIMARY KEY, project_id uuid, title text, description text, test_type text, method text, test_id text, preconditions text,
	test_steps jsonb, expected_results text, result text, status text, priority text, test_environment text, estimated_duration text, category text,
	is_active boolean DEFAULT true, created_at timestamptz DEFAULT now(), updated_at timestamptz DEFAULT now(), is_deleted boolean DEFAULT false);
CREATE TABLE requirement_tests (requirement_id uuid, test_id uuid, relationship_type text, coverage_level text, execution_status text,
	created_at timestamptz DEFAULT now(), PRIMARY KEY (requirement_id, test_id));
CREATE TABLE trace_links (id uuid PRIMARY KEY, source_id uuid, target_id uuid, source_type text, target_type text, link_type text, description text,
	created_at timestamptz DEFAULT now(), updated_at timestamptz DEFAULT now(), is_deleted boolean DEFAULT false);

INSERT INTO profiles VALUES ('00000000-0000-4000-8000-000000000001', 'ada@example.com', 'Ada', 'user_01ADA'),
	('00000000-0000-4000-8000-000000000002', 'bo@example.com', 'Bo', 'user_01BO');
INSERT INTO organizations (id, name, slug, type, logo_url, billing_plan) VALUES ('10000000-0000-4000-8000-000000000001', 'Old Atoms Org', 'old-atoms', 'enterprise', 'https://x/logo.png', 'pro');
INSERT INTO organization_members VALUES ('20000000-0000-4000-8000-000000000001', '10000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000001', 'owner', 'active'),
	('20000000-0000-4000-8000-000000000002', '10000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002', 'member', 'active');
INSERT INTO projects (id, organization_id, name, slug, status, visibility, tags) VALUES ('30000000-0000-4000-8000-000000000001', '10000000-0000-4000-8000-000000000001', 'Rover', 'rover', 'active', 'team', '["mars"]');
INSERT INTO project_members VALUES ('40000000-0000-4000-8000-000000000001', '30000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002', '10000000-0000-4000-8000-000000000001', 'viewer', 'active');
INSERT INTO documents (id, project_id, name, slug) VALUES ('50000000-0000-4000-8000-000000000001', '30000000-0000-4000-8000-000000000001', 'Specs', 'specs');
INSERT INTO blocks (id, document_id, type, content, position) VALUES ('60000000-0000-4000-8000-000000000001', '50000000-0000-4000-8000-000000000001', 'table', '{"rows": [["a"]]}', 0);
INSERT INTO requirements (id, document_id, name, external_id, status, priority, level, format, tags, enchanced_requirement) VALUES
	('70000000-0000-4000-8000-000000000001', '50000000-0000-4000-8000-000000000001', 'Wheels turn', 'R-1', 'in_review', 'high', 'system', 'ears', '["drive"]', 'The wheels shall turn.'),
	('70000000-0000-4000-8000-000000000002', '50000000-0000-4000-8000-000000000001', 'Motors cool', 'R-2', 'deleted', 'medium', 'component', 'incose', NULL, NULL),
	('70000000-0000-4000-8000-000000000003', '50000000-0000-4000-8000-000000000099', 'Orphan', 'R-3', 'active', 'low', NULL, NULL, NULL, NULL);
INSERT INTO test_req (id, project_id, title, test_type, method, test_id, test_steps, status) VALUES
	('80000000-0000-4000-8000-000000000001', '30000000-0000-4000-8000-000000000001', 'Drive test', 'system', 'manual', 'TC-1', '["drive 1 m"]', 'ready');
INSERT INTO requirement_tests (requirement_id, test_id, coverage_level) VALUES ('70000000-0000-4000-8000-000000000001', '80000000-0000-4000-8000-000000000001', 'partial');
INSERT INTO trace_links (id, source_id, target_id, source_type, target_type, link_type) VALUES
	('90000000-0000-4000-8000-000000000001', '70000000-0000-4000-8000-000000000001', '70000000-0000-4000-8000-000000000002', 'requirement', 'requirement', 'parent_of');
`

// TestImportAtoms copies a fixture Atoms database, checks that the tools'
// questions have the same answers on both sides (counts, a requirement's
// links, a project's members), and that running it again changes nothing.
func TestImportAtoms(t *testing.T) {
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("no PostgreSQL at %s (CI is set): %v", adminURL, err)
		}
		t.Skipf("no PostgreSQL at %s: %v", adminURL, err)
	}
	defer admin.Close(ctx)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "atoms_import_" + hex.EncodeToString(b)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") })
	src, err := pgx.Connect(ctx, "postgres://postgres@127.0.0.1:5432/"+name+"?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close(ctx)
	if _, err := src.Exec(ctx, fixture); err != nil {
		t.Fatal(err)
	}

	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "atomcp.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	opts := atomsimport.Options{Issuer: "https://auth.example.com"}

	dry, err := atomsimport.Import(ctx, src, st, atomsimport.Options{Issuer: opts.Issuer, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if c := count(dry, "requirements"); c.Read != 3 || c.Created != 2 {
		t.Errorf("dry run requirements = %+v", c)
	}
	if _, err := st.GetEntity(ctx, domain.Organization, "10000000-0000-4000-8000-000000000001"); err == nil {
		t.Fatal("the dry run wrote the organization")
	}

	first, err := atomsimport.Import(ctx, src, st, opts)
	if err != nil {
		t.Fatal(err)
	}
	for table, want := range map[string]int{"profiles": 2, "organizations": 1, "organization_members": 2, "projects": 1, "project_members": 1,
		"documents": 1, "blocks": 1, "requirements": 2, "test_req": 1, "requirement_tests": 1, "trace_links": 1} {
		if c := count(first, table); c.Created != want {
			t.Errorf("%s: created %d; want %d (%+v)", table, c.Created, want, c)
		}
	}
	if len(first.Skipped) != 1 {
		t.Errorf("skipped = %v; want the orphan requirement", first.Skipped)
	}

	// Ada signs in with her WorkOS identity and sees the same answers.
	svc := atoms.New(st)
	ada, err := svc.Actor(ctx, atoms.Caller{Issuer: opts.Issuer, Subject: "user_01ADA", Email: "ada@example.com", Name: "Ada"})
	if err != nil {
		t.Fatal(err)
	}
	if ada.User.ID != "00000000-0000-4000-8000-000000000001" {
		t.Errorf("Ada signed in as a new user %s", ada.User.ID)
	}
	reqs, err := svc.ListEntities(ctx, ada, domain.Requirement, atoms.ListParams{})
	if err != nil {
		t.Fatal(err)
	}
	if reqs.Total != 2 {
		t.Fatalf("requirements = %d", reqs.Total)
	}
	r1, err := svc.GetEntity(ctx, ada, domain.Requirement, "R-1", false)
	if err != nil {
		t.Fatal(err)
	}
	if r1.Str("status") != "in_review" || r1.Str("level") != "system" || r1.Str("enhanced_requirement") != "The wheels shall turn." {
		t.Errorf("R-1 = %v", r1.Fields)
	}
	if r2, _ := svc.GetEntity(ctx, ada, domain.Requirement, "R-2", false); r2 == nil || r2.Str("status") != "archived" {
		t.Errorf("R-2 (deleted in Atoms) = %v", r2)
	}
	links, err := svc.ListLinks(ctx, ada, domain.TraceLink, atoms.EntityRef{Type: domain.Requirement, ID: r1.ID}, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	// R-1 parent_of R-2 is R-2 derives_from R-1.
	if len(links) != 1 || links[0].LinkType != "derives_from" || links[0].SourceID != "70000000-0000-4000-8000-000000000002" {
		t.Errorf("trace links of R-1 = %+v", links)
	}
	tests, err := svc.ListLinks(ctx, ada, domain.RequirementTest, atoms.EntityRef{Type: domain.Requirement, ID: r1.ID}, "", 10)
	if err != nil || len(tests) != 1 || tests[0].LinkType != "partial" {
		t.Errorf("requirement tests of R-1 = %+v %v", tests, err)
	}
	members, err := svc.ListProjectMembers(ctx, ada, atoms.EntityRef{Type: domain.Project, ID: "Rover"})
	if err != nil || len(members) != 1 || members[0].Email != "bo@example.com" || members[0].Role != domain.RoleViewer {
		t.Errorf("project members = %+v %v", members, err)
	}
	org, err := svc.GetEntity(ctx, ada, domain.Organization, "Old Atoms Org", false)
	if err != nil || org.Str("type") != "enterprise" || org.Str("slug") != "old-atoms" {
		t.Errorf("organization = %v %v", org, err)
	}

	// Again: everything is updated, nothing created.
	again, err := atomsimport.Import(ctx, src, st, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range again.Tables {
		if c.Created != 0 {
			t.Errorf("second run created %d %s", c.Created, c.Table)
		}
	}
	if reqs, _ := svc.ListEntities(ctx, ada, domain.Requirement, atoms.ListParams{}); reqs.Total != 2 {
		t.Errorf("after the second run: %d requirements", reqs.Total)
	}
}

func count(c *atomsimport.Counts, table string) atomsimport.TableCount {
	for _, x := range c.Tables {
		if x.Table == table {
			return x
		}
	}
	return atomsimport.TableCount{}
}
