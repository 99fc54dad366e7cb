package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/atomcp/atomcp/internal/store"
	"github.com/atomcp/atomcp/internal/store/postgres"
	"github.com/atomcp/atomcp/internal/store/storetest"
)

// defaultAdminURL is the server the tests use unless
// ATOMCP_TEST_POSTGRES_URL names another: a database it can connect to
// as a user that may CREATE DATABASE.
const defaultAdminURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// testDB is the database of this test run, created by TestMain and
// dropped when the tests end; unreachable says why there is none.
var (
	testDB      string // URL of the run's database
	unreachable string
	schemaSeq   atomic.Int64
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	admin := os.Getenv("ATOMCP_TEST_POSTGRES_URL")
	if admin == "" {
		admin = defaultAdminURL
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cfg, err := pgx.ParseConfig(admin)
	if err != nil {
		unreachable = fmt.Sprintf("ATOMCP_TEST_POSTGRES_URL: %v", err)
		return m.Run()
	}
	cfg.ConnectTimeout = 3 * time.Second
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		unreachable = fmt.Sprintf("PostgreSQL not reachable at %s: %s", postgres.Where(cfg.Config), strings.Join(strings.Fields(err.Error()), " "))
		return m.Run()
	}
	name := "atomcp_test_" + randomHex(6)
	if _, err := conn.Exec(ctx, `CREATE DATABASE `+name); err != nil {
		conn.Close(ctx)
		fmt.Fprintf(os.Stderr, "create test database on %s: %v\n", postgres.Where(cfg.Config), err)
		return 1
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := conn.Exec(ctx, `DROP DATABASE `+name+` WITH (FORCE)`); err != nil {
			fmt.Fprintf(os.Stderr, "drop test database %s: %v\n", name, err)
		}
		conn.Close(ctx)
	}()
	dbCfg := cfg.Config.Copy()
	dbCfg.Database = name
	testDB = connString(dbCfg.Host, dbCfg.Port, dbCfg.User, dbCfg.Password, name)
	return m.Run()
}

func connString(host string, port uint16, user, password, db string) string {
	userinfo := user
	if password != "" {
		userinfo += ":" + password
	}
	return fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable", userinfo, host, port, db)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// requireServer skips the test when no PostgreSQL answers, unless CI is
// set: there a missing server is a failure, not a reason to skip.
func requireServer(t *testing.T) {
	t.Helper()
	if unreachable == "" {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s (CI is set, so this fails instead of skipping)", unreachable)
	}
	t.Skip(unreachable)
}

// newSchema creates an empty schema in the run's database and returns the
// URL of a store confined to it (search_path).
func newSchema(t *testing.T) string {
	t.Helper()
	requireServer(t)
	name := fmt.Sprintf("s%d_%s", schemaSeq.Add(1), randomHex(3))
	conn, err := pgx.Connect(t.Context(), testDB)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(t.Context(), `CREATE SCHEMA `+name); err != nil {
		t.Fatal(err)
	}
	return testDB + "&search_path=" + name
}

// openStore opens the store at url, closing it when the test ends.
func openStore(t *testing.T, url string) *postgres.Store {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 6
	s, err := postgres.OpenConfig(t.Context(), cfg, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// openMigrated opens a migrated store in a schema of its own; params
// are added to its URL.
func openMigrated(t *testing.T, params ...string) *postgres.Store {
	t.Helper()
	s := openStore(t, newSchema(t)+strings.Join(params, ""))
	if _, err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	requireServer(t)
	storetest.Run(t, func(t *testing.T) store.Store { return openMigrated(t) })
}

// TestConformanceExecMode runs the suite again the way pgx talks to
// PgBouncer in transaction mode (no named prepared statements), which
// docs/deployment.md recommends there.
func TestConformanceExecMode(t *testing.T) {
	requireServer(t)
	if testing.Short() {
		t.Skip("the suite runs in the default mode already")
	}
	storetest.Run(t, func(t *testing.T) store.Store { return openMigrated(t, "&default_query_exec_mode=exec") })
}

func TestWhereHidesPassword(t *testing.T) {
	cfg, err := pgx.ParseConfig("postgres://alice:hunter2@db.example:6543/atoms")
	if err != nil {
		t.Fatal(err)
	}
	if got := postgres.Where(cfg.Config); got != "db.example:6543/atoms" || strings.Contains(got, "hunter2") {
		t.Errorf("Where = %q", got)
	}
}
