package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/atomcp/atomcp/internal/store"
	"github.com/atomcp/atomcp/internal/store/sqlcore"
)

// busyTimeout is how long a connection waits for a lock held by another
// process (a second atomcp, `atomcp migrate`, the sqlite3 shell) before it
// fails with SQLITE_BUSY. Within one Store, writers queue for the single
// writer connection and never wait here.
const busyTimeout = 5 * time.Second

// Store is a store.Store on one SQLite database file. It is safe for
// concurrent use.
type Store struct {
	ops
	path   string
	writer *sql.DB // exactly one connection; transactions BEGIN IMMEDIATE
	reader *sql.DB // read-only connections (PRAGMA query_only)
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the database file at path. The directory
// must exist. Open does not change the schema; call Migrate for that.
func Open(ctx context.Context, path string) (*Store, error) {
	abs, err := checkPath(path)
	if err != nil {
		return nil, fmt.Errorf("open sqlite database %q: %w", path, err)
	}
	drv, err := newDriver()
	if err != nil {
		return nil, fmt.Errorf("open sqlite database %q: %w", abs, err)
	}

	writer := sql.OpenDB(connector{driver: drv, dsn: dsn(abs, true)})
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxIdleTime(0)
	writer.SetConnMaxLifetime(0)
	// The writer connects first: its pragmas switch a new file to WAL, so
	// the read-only connections never need to write to set it.
	if err := writer.PingContext(ctx); err != nil {
		_ = writer.Close()
		return nil, fmt.Errorf("open sqlite database %q: %w", abs, err)
	}

	readers := max(4, runtime.GOMAXPROCS(0))
	reader := sql.OpenDB(connector{driver: drv, dsn: dsn(abs, false)})
	reader.SetMaxOpenConns(readers)
	reader.SetMaxIdleConns(readers)
	if err := reader.PingContext(ctx); err != nil {
		_ = errors.Join(reader.Close(), writer.Close())
		return nil, fmt.Errorf("open sqlite database %q: %w", abs, err)
	}

	s := &Store{path: abs, writer: writer, reader: reader}
	s.ops = newOps(conn{read: reader, write: writer}, NewDialect(), sqlcore.NewTables())
	return s, nil
}

// checkPath refuses what the store cannot serve and returns the absolute
// path. The path is made absolute so that every pooled connection opens the
// same file even if the working directory changes.
func checkPath(path string) (string, error) {
	switch {
	case path == "":
		return "", errors.New("empty path")
	case path == ":memory:" || strings.HasPrefix(path, "file:"):
		// The readers and the writer are separate connections; an
		// in-memory database would give each its own empty database.
		return "", errors.New("in-memory databases and file: URIs are not supported; give a file path")
	case strings.ContainsRune(path, '?'):
		return "", errors.New("the path must not contain '?' (query parameters are not supported)")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	dir := filepath.Dir(abs)
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return "", fmt.Errorf("directory %q does not exist; create it first", dir)
	case err != nil:
		return "", err
	case !st.IsDir():
		return "", fmt.Errorf("%q is not a directory", dir)
	}
	return abs, nil
}

// dsn returns the modernc DSN for path. The pragmas go in _pragma
// parameters because the driver runs those on every new connection, and
// foreign_keys and busy_timeout are per-connection settings.
func dsn(path string, writer bool) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "journal_mode(WAL)")
	// NORMAL is safe in WAL mode: a power loss can lose the last commits but
	// never corrupts the database.
	q.Add("_pragma", "synchronous(NORMAL)")
	// Reads through a memory map and a 32 MiB page cache per connection
	// instead of a read syscall per page: queries over tens of thousands of
	// rows were spending most of their time in pread.
	q.Add("_pragma", "mmap_size(268435456)")
	q.Add("_pragma", "cache_size(-32768)")
	if writer {
		// Take the write lock at BEGIN: a deferred transaction that reads
		// first and writes later can fail with SQLITE_BUSY without waiting
		// when another process wrote in between.
		q.Set("_txlock", "immediate")
	} else {
		q.Add("_pragma", "query_only(1)")
	}
	return path + "?" + q.Encode()
}

// Path returns the absolute path of the database file.
func (s *Store) Path() string { return s.path }

// Ping checks that the database file can be read.
func (s *Store) Ping(ctx context.Context) error {
	var n int
	if err := s.reader.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&n); err != nil {
		return fmt.Errorf("ping sqlite database %q: %w", s.path, err)
	}
	return nil
}

// Close closes every connection.
func (s *Store) Close() error {
	return errors.Join(s.reader.Close(), s.writer.Close())
}
