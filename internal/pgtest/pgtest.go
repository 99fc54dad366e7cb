// Package pgtest gives a test an empty PostgreSQL database of its own, or
// a whole PostgreSQL cluster of its own to stop, crash and restart.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// defaultAdminURL is the server the tests use unless
// ATOMCP_TEST_POSTGRES_URL names another: a database the tests can
// connect to as a user that may CREATE DATABASE.
const defaultAdminURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// NewDB creates an empty database for the test on the PostgreSQL server
// of ATOMCP_TEST_POSTGRES_URL (default: postgres on 127.0.0.1), drops it
// when the test ends, and returns its URL. Without a server the test is
// skipped, unless CI is set: then it fails.
func NewDB(t testing.TB) *url.URL {
	t.Helper()
	admin := os.Getenv("ATOMCP_TEST_POSTGRES_URL")
	if admin == "" {
		admin = defaultAdminURL
	}
	cfg, err := pgx.ParseConfig(admin)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnectTimeout = 3 * time.Second
	conn, err := pgx.ConnectConfig(t.Context(), cfg)
	if err != nil {
		why := strings.Join(strings.Fields(err.Error()), " ")
		if os.Getenv("CI") != "" {
			t.Fatalf("PostgreSQL not reachable at %s:%d: %s (CI is set, so this fails instead of skipping)", cfg.Host, cfg.Port, why)
		}
		t.Skipf("PostgreSQL not reachable at %s:%d: %s", cfg.Host, cfg.Port, why)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "atomcp_test_" + hex.EncodeToString(b)
	if _, err := conn.Exec(t.Context(), `CREATE DATABASE `+name); err != nil {
		conn.Close(context.Background())
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		if _, err := conn.Exec(ctx, `DROP DATABASE `+name+` WITH (FORCE)`); err != nil {
			t.Errorf("drop %s: %v", name, err)
		}
		conn.Close(ctx)
	})
	user := url.User(cfg.User)
	if cfg.Password != "" {
		user = url.UserPassword(cfg.User, cfg.Password)
	}
	return &url.URL{Scheme: "postgres", User: user, Host: net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))),
		Path: "/" + name, RawQuery: "sslmode=disable"}
}
