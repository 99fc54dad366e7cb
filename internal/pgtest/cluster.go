package pgtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// defaultBinDir is where Debian's postgresql-15 package puts initdb,
// pg_ctl and postgres; ATOMCP_TEST_PG_BINDIR names another directory.
const defaultBinDir = "/usr/lib/postgresql/15/bin"

// Cluster is a PostgreSQL server of the test's own, in a temporary
// directory on a free loopback port, that the test may stop, crash and
// restart (which the shared server of NewDB must never be). Trust auth,
// user postgres.
type Cluster struct {
	t      testing.TB
	bin    string
	dir    string // the temporary directory: data/, the socket, the log
	data   string
	Port   int
	asUser *user.User // run the binaries as this user (when the test is root), or nil
}

// StartCluster initializes a cluster and starts it; it is stopped and
// removed when the test ends. Without the PostgreSQL binaries the test is
// skipped, unless CI is set: then it fails.
func StartCluster(t testing.TB) *Cluster {
	t.Helper()
	bin := os.Getenv("ATOMCP_TEST_PG_BINDIR")
	if bin == "" {
		bin = defaultBinDir
	}
	unavailable := func(why string) {
		t.Helper()
		if os.Getenv("CI") != "" {
			t.Fatalf("cannot start a PostgreSQL cluster of the test's own: %s (CI is set, so this fails instead of skipping)", why)
		}
		t.Skipf("cannot start a PostgreSQL cluster of the test's own: %s", why)
	}
	for _, name := range []string{"initdb", "pg_ctl", "postgres"} {
		if _, err := os.Stat(filepath.Join(bin, name)); err != nil { // #nosec G703 -- a test helper: bin is the developer's ATOMCP_TEST_PG_BINDIR or the packaged default, not request input
			unavailable(fmt.Sprintf("no %s in %s (install postgresql-15 or set ATOMCP_TEST_PG_BINDIR)", name, bin))
		}
	}
	c := &Cluster{t: t, bin: bin}
	// initdb and postgres refuse to run as root: run them as postgres.
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			unavailable("running as root and there is no postgres user to run the server as: " + err.Error())
		}
		if _, err := exec.LookPath("runuser"); err != nil {
			unavailable("running as root and runuser is missing")
		}
		c.asUser = u
	}
	dir, err := os.MkdirTemp("", "atomcp-pg-")
	if err != nil {
		t.Fatal(err)
	}
	c.dir, c.data = dir, filepath.Join(dir, "data")
	t.Cleanup(func() {
		c.pgctl("stop", "-m", "immediate") //nolint:errcheck // it may be stopped already
		os.RemoveAll(dir)
	})
	if c.asUser != nil {
		uid, _ := strconv.Atoi(c.asUser.Uid)
		gid, _ := strconv.Atoi(c.asUser.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := c.run("initdb", "-D", c.data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale", "C"); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	c.Port = freePort(t)
	// In postgresql.conf, so that every restart keeps them. fsync off: the
	// tests crash the server, never the machine, so the OS's page cache
	// survives and committed transactions are replayed from the WAL.
	conf := fmt.Sprintf("\nport = %d\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '%s'\nfsync = off\nfull_page_writes = off\nmax_connections = 100\nshared_buffers = 16MB\n",
		c.Port, dir)
	f, err := os.OpenFile(filepath.Join(c.data, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.WriteString(conf)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	c.Start()
	return c
}

func freePort(t testing.TB) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// run runs one of the PostgreSQL binaries, as the postgres user when the
// test is root.
func (c *Cluster) run(name string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	path := filepath.Join(c.bin, name)
	var cmd *exec.Cmd
	if c.asUser != nil {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", c.asUser.Username, "--", path}, args...)...) // #nosec G204 -- a test helper running a PostgreSQL binary of the developer's ATOMCP_TEST_PG_BINDIR as the postgres user, with arguments of its own; no shell
	} else {
		cmd = exec.CommandContext(ctx, path, args...) // #nosec G204 -- a test helper running a PostgreSQL binary of the developer's ATOMCP_TEST_PG_BINDIR, with arguments of its own; no shell
	}
	cmd.Dir = c.dir
	return cmd.CombinedOutput()
}

func (c *Cluster) pgctl(args ...string) ([]byte, error) {
	return c.run("pg_ctl", append([]string{"-D", c.data, "-w", "-t", "60"}, args...)...)
}

// URL is the address of database db on the cluster.
func (c *Cluster) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.Port, db)
}

// NewDB creates database name and returns its URL.
func (c *Cluster) NewDB(name string) string {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		c.t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, `CREATE DATABASE `+pgx.Identifier{name}.Sanitize()); err != nil {
		c.t.Fatal(err)
	}
	return c.URL(name)
}

// Start starts the cluster and waits until it accepts connections.
func (c *Cluster) Start() {
	c.t.Helper()
	if out, err := c.pgctl("start", "-l", filepath.Join(c.dir, "server.log")); err != nil {
		c.t.Fatalf("pg_ctl start: %v\n%s\n%s", err, out, c.Log())
	}
}

// Stop shuts the cluster down: mode "fast" (roll back open transactions,
// close sessions), "smart" (wait for sessions) or "immediate" (a crash:
// every process quits at once and the next start recovers from the WAL).
func (c *Cluster) Stop(mode string) {
	c.t.Helper()
	if out, err := c.pgctl("stop", "-m", mode); err != nil {
		c.t.Fatalf("pg_ctl stop -m %s: %v\n%s", mode, err, out)
	}
}

// Restart stops the cluster in mode (see Stop) and starts it again.
func (c *Cluster) Restart(mode string) {
	c.t.Helper()
	c.Stop(mode)
	c.Start()
}

// Kill crashes the cluster (Stop("immediate")); Start recovers it.
func (c *Cluster) Kill() { c.Stop("immediate") }

// Log returns the server's log so far, for failure messages.
func (c *Cluster) Log() string {
	b, _ := os.ReadFile(filepath.Join(c.dir, "server.log"))
	s := string(b)
	if len(s) > 8000 {
		s = "…" + s[len(s)-8000:]
	}
	return strings.TrimSpace(s)
}
