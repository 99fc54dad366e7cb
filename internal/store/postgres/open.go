package postgres

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/atomcp/atomcp/internal/store"
	"github.com/atomcp/atomcp/internal/store/sqlcore"
)

// connectTimeout bounds each connection attempt when the URL sets none
// (connect_timeout), so that a server that does not answer fails start-up
// instead of hanging it.
const connectTimeout = 10 * time.Second

// Store is a store.Store on a PostgreSQL database. It is safe for
// concurrent use, by one process or by several processes on one database.
type Store struct {
	ops
	pool *pgxpool.Pool
	// where names the server and database for messages: host:port/db,
	// never the password.
	where string
	// timeout is Options.StatementTimeout.
	timeout time.Duration
}

// Options tune how the store waits on the server.
type Options struct {
	// ConnectTimeout bounds each connection attempt when the URL sets no
	// connect_timeout; 0 means 10 seconds.
	ConnectTimeout time.Duration
	// StatementTimeout is the server's statement_timeout on every
	// connection (PostgreSQL cancels a statement that runs longer), and,
	// two seconds more, how long the store waits for any one answer of the
	// server, so that a stalled network fails the call with
	// domain.ErrUnavailable instead of hanging it. Migrations are exempt.
	// 0 disables both.
	StatementTimeout time.Duration
}

var _ store.Store = (*Store)(nil)

// Open connects to the database a postgres:// or postgresql:// URL (or a
// key=value connection string) names and checks that it answers. It does
// not change the schema; call Migrate for that. Errors name the host and
// the cause in one line, never the password.
func Open(ctx context.Context, url string) (*Store, error) {
	return OpenWith(ctx, url, Options{})
}

// OpenWith is Open with options.
func OpenWith(ctx context.Context, url string, opts Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgconn's parse errors print the URL with its password replaced.
		return nil, fmt.Errorf("open PostgreSQL database: %s", oneLine(err.Error()))
	}
	return OpenConfig(ctx, cfg, opts)
}

// OpenConfig is OpenWith with a parsed pool configuration.
func OpenConfig(ctx context.Context, cfg *pgxpool.Config, opts Options) (*Store, error) {
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = opts.ConnectTimeout
		if cfg.ConnConfig.ConnectTimeout <= 0 {
			cfg.ConnConfig.ConnectTimeout = connectTimeout
		}
	}
	if opts.StatementTimeout > 0 {
		if _, set := cfg.ConnConfig.RuntimeParams["statement_timeout"]; !set {
			cfg.ConnConfig.RuntimeParams["statement_timeout"] = strconv.FormatInt(opts.StatementTimeout.Milliseconds(), 10)
		}
	}
	where := Where(cfg.ConnConfig.Config)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, &connError{"open PostgreSQL database " + where, err}
	}
	// NewWithConfig connects lazily; a wrong host or password must fail
	// here, at start-up, not at the first request.
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, &connError{"open PostgreSQL database " + where, err}
	}
	s := &Store{pool: pool, where: where, timeout: opts.StatementTimeout}
	s.ops = newOps(conn{q: pool, pool: pool, timeout: s.timeout}, newDialect(), sqlcore.NewTables())
	return s, nil
}

// Where describes a connection target as host:port/database for
// messages: no user, no password.
func Where(c pgconn.Config) string {
	host := c.Host
	if strings.HasPrefix(host, "/") {
		host = "socket " + host
	} else {
		host = net.JoinHostPort(host, strconv.Itoa(int(c.Port)))
	}
	return host + "/" + c.Database
}

// connError is a failure to reach the database, in one line: what was
// tried, where, and the cause (see describe). The driver's error stays in
// the chain for errors.Is and errors.As.
type connError struct {
	what  string
	cause error
}

func (e *connError) Error() string { return e.what + ": " + describe(e.cause) }
func (e *connError) Unwrap() error { return e.cause }

// describe is the cause of a connection failure in one line: the
// server's message for an error the server sent (a wrong password, a
// missing database), the network error otherwise.
func describe(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return oneLine(pgErr.Message + " (SQLSTATE " + pgErr.Code + ")")
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return oneLine(netErr.Error())
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "no answer before the deadline"
	}
	return oneLine(err.Error())
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", "; ")), " ")
}

// Where returns host:port/database of the store, for messages.
func (s *Store) Where() string { return s.where }

// Pool returns the store's connection pool, for callers that need
// PostgreSQL itself (shared rate limits, tests).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return &connError{"ping PostgreSQL database " + s.where, unavailable(context.Background(), ctx, s.timeout, err)}
	}
	return nil
}

// Close closes every connection.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}
