package e2e

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite" // the "sqlite" driver, to look at the database the binary wrote

	"github.com/atomcp/atomcp/internal/pgtest"
)

// importSource is an Atoms (Supabase) database large enough that the
// import's one transaction spills to the SQLite WAL long before it
// commits: the tables the import reads, with the columns it uses.
const importSource = `
CREATE TABLE profiles (id uuid PRIMARY KEY, email text, full_name text, workos_id text, created_at timestamptz DEFAULT now(), updated_at timestamptz DEFAULT now());
CREATE TABLE organizations (id uuid PRIMARY KEY, name text NOT NULL, slug text, description text, type text,
	created_by uuid, created_at timestamptz DEFAULT now(), updated_at timestamptz DEFAULT now(), is_deleted boolean DEFAULT false);
CREATE TABLE organization_members (id uuid PRIMARY KEY, organization_id uuid, user_id uuid, role text, status text, created_at timestamptz DEFAULT now());
CREATE TABLE projects (id uuid PRIMARY KEY, organization_id uuid, name text, slug text, description text, status text,
	created_at timestamptz DEFAULT now(), updated_at timestamptz DEFAULT now(), is_deleted boolean DEFAULT false);
CREATE TABLE documents (id uuid PRIMARY KEY, project_id uuid, name text, slug text, description text,
	created_at timestamptz DEFAULT now(), updated_at timestamptz DEFAULT now(), is_deleted boolean DEFAULT false);
CREATE TABLE requirements (id uuid PRIMARY KEY, document_id uuid, name text, description text, external_id text, status text, priority text,
	created_at timestamptz DEFAULT now(), updated_at timestamptz DEFAULT now(), is_deleted boolean DEFAULT false);

INSERT INTO profiles VALUES ('00000000-0000-4000-8000-000000000001', 'ada@example.com', 'Ada', 'user_01ADA');
INSERT INTO organizations (id, name, slug, type) VALUES ('10000000-0000-4000-8000-000000000001', 'Big Org', 'big-org', 'team');
INSERT INTO organization_members VALUES ('20000000-0000-4000-8000-000000000001', '10000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000001', 'owner', 'active');
INSERT INTO projects (id, organization_id, name, slug, status) VALUES ('30000000-0000-4000-8000-000000000001', '10000000-0000-4000-8000-000000000001', 'Big', 'big', 'active');
INSERT INTO documents (id, project_id, name)
	SELECT ('50000000-0000-4000-8000-' || lpad(d::text, 12, '0'))::uuid, '30000000-0000-4000-8000-000000000001', 'Document ' || d
	FROM generate_series(1, 20) AS d;
INSERT INTO requirements (id, document_id, name, description, external_id, status, priority)
	SELECT ('70000000-0000-4000-8000-' || lpad(r::text, 12, '0'))::uuid,
		('50000000-0000-4000-8000-' || lpad((r %% 20 + 1)::text, 12, '0'))::uuid,
		'Requirement ' || r, repeat('The system shall do thing ' || r || ' reliably. ', 100), 'BIG-' || r, 'active', 'medium'
	FROM generate_series(1, %d) AS r;
`

// TestKillDuringImport: SIGKILL in the middle of atomcp import atoms
// leaves the SQLite database intact and without any of the import (it is
// one transaction: all or nothing, not resumable chunks); a re-run then
// imports everything once. (That a second complete run creates nothing
// twice is internal/atomsimport's TestImportAtoms.)
func TestKillDuringImport(t *testing.T) {
	const requirements = 5000
	src := pgtest.NewDB(t).String()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, fmt.Sprintf(importSource, requirements)); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)

	dbPath := filepath.Join(t.TempDir(), "atomcp.db")
	importCmd := func() *exec.Cmd {
		cmd := exec.CommandContext(ctx, binary, "import", "atoms", "--from", src, "--issuer", "https://issuer.example")
		cmd.Env = append(os.Environ(), "ATOMCP_DATABASE_URL=sqlite://"+dbPath, "ATOMCP_AUTH=none")
		return cmd
	}

	// The schema exists first, so that the WAL grows only with the import.
	migrate := exec.CommandContext(ctx, binary, "migrate")
	migrate.Env = append(os.Environ(), "ATOMCP_DATABASE_URL=sqlite://"+dbPath)
	if out, err := migrate.CombinedOutput(); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	walBase := fileSize(dbPath + "-wal")

	cmd := importCmd()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	// Mid-way: the transaction has spilled pages to the WAL (uncommitted
	// frames), which happens only once it has written tens of megabytes.
	const spilled = 8 << 20
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
wait:
	for {
		select {
		case err := <-exited:
			t.Fatalf("the import finished (%v) before the WAL grew by %d bytes; make the input larger\n%s", err, spilled, out.String())
		case <-tick.C:
			if fileSize(dbPath+"-wal")-walBase > spilled {
				break wait
			}
		case <-ctx.Done():
			t.Fatal("timed out waiting for the import to write")
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-exited
	t.Logf("killed the import with a WAL of %d bytes", fileSize(dbPath+"-wal"))

	db := openSQLite(t, dbPath)
	integrityOK(t, db)
	for _, table := range []string{"users", "organizations", "projects", "documents", "requirements", "organization_members"} {
		if n := countRows(t, db, table); n != 0 {
			t.Errorf("%d rows in %s after the import was killed; want 0 (all or nothing)", n, table)
		}
	}
	db.Close()

	// A re-run completes, with every row once.
	run := func() string {
		t.Helper()
		out, err := importCmd().CombinedOutput()
		if err != nil {
			t.Fatalf("import: %v\n%s", err, out)
		}
		return string(out)
	}
	first := run()
	db = openSQLite(t, dbPath)
	defer db.Close()
	integrityOK(t, db)
	want := map[string]int{"users": 1, "organizations": 1, "projects": 1, "documents": 20, "requirements": requirements}
	for table, n := range want {
		if got := countRows(t, db, table); got != n {
			t.Errorf("%d rows in %s after the re-run; want %d\n%s", got, table, n, first)
		}
	}
}

func fileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}

func openSQLite(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	return db
}

func integrityOK(t *testing.T, db *sql.DB) {
	t.Helper()
	var res string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&res); err != nil || res != "ok" {
		t.Fatalf("integrity_check = %q, %v; want ok", res, err)
	}
}

func countRows(t *testing.T, db *sql.DB, table string) int {
	t.Helper()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}
