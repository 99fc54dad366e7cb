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
// writer connection (writerQueue) and never wait here.
const busyTimeout = 5 * time.Second

// Store is a store.Store on one SQLite database file. It is safe for
// concurrent use.
type Store struct {
	ops
	path   string
	writer *writerPool // exactly one connection, taken in turn; transactions BEGIN IMMEDIATE
	reader *sql.DB     // read-only connections (PRAGMA query_only)
	cache  *pageCache  // the page cache of all of them
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the database file at path. The directory
// must exist. Open does not change the schema; call Migrate for that.
func Open(ctx context.Context, path string) (*Store, error) {
	abs, err := checkPath(path)
	if err != nil {
		return nil, fmt.Errorf("open sqlite database %q: %w", path, err)
	}
	if err := createPrivate(abs); err != nil {
		return nil, fmt.Errorf("open sqlite database %q: %w", abs, err)
	}
	drv, err := newDriver()
	if err != nil {
		return nil, fmt.Errorf("open sqlite database %q: %w", abs, err)
	}

	cache := &pageCache{}
	writer := sql.OpenDB(connector{driver: drv, dsn: dsn(abs, true), cache: cache})
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

	if err := matchSidecarModes(abs); err != nil {
		_ = writer.Close()
		return nil, fmt.Errorf("open sqlite database %q: %w", abs, err)
	}

	readers := max(4, runtime.GOMAXPROCS(0))
	reader := sql.OpenDB(connector{driver: drv, dsn: dsn(abs, false), cache: cache})
	reader.SetMaxOpenConns(readers)
	reader.SetMaxIdleConns(readers)
	if err := reader.PingContext(ctx); err != nil {
		_ = errors.Join(reader.Close(), writer.Close())
		return nil, fmt.Errorf("open sqlite database %q: %w", abs, err)
	}

	s := &Store{path: abs, writer: &writerPool{db: writer}, reader: reader, cache: cache}
	s.ops = newOps(conn{read: reader, pool: s.writer}, NewDialect(), sqlcore.NewTables())
	return s, nil
}

// createPrivate creates the database file, empty and mode 0600 whatever
// the umask, when it does not exist yet, so that the driver never creates
// it with the umask's (usually world-readable) mode: the file holds
// password hashes, token hashes and sealed signing keys. An existing file
// keeps its mode; the caller decides whether that mode is acceptable
// (InsecureMode).
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600) // #nosec G304 -- the database path the operator configured
	switch {
	case errors.Is(err, os.ErrExist):
		return nil
	case err != nil:
		return err
	}
	// OpenFile's mode is filtered by the umask; a umask of 0177 or
	// tighter leaves it 0600 and a looser one cannot add bits, but set
	// it anyway so the result does not depend on the umask at all.
	if err := f.Chmod(0o600); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// matchSidecarModes gives the -wal and -shm files the database file's
// permission bits. SQLite creates them with the database's mode already;
// this covers files left by an older atomcp that created them 0644.
func matchSidecarModes(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	for _, suffix := range []string{"-wal", "-shm"} {
		side := path + suffix
		sst, err := os.Stat(side)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if sst.Mode().Perm() != st.Mode().Perm() {
			if err := os.Chmod(side, st.Mode().Perm()); err != nil {
				return err
			}
		}
	}
	return nil
}

// InsecureMode reports why other users could read the database file at
// path or replace it (a directory they may write, without the sticky bit): a one-line error that names the chmod that fixes it, or nil when
// only its owner may read it (or it does not exist). atomcp refuses to
// start on such a database unless ATOMCP_ALLOW_INSECURE_FILES=true.
func InsecureMode(path string) error {
	dir := filepath.Dir(path)
	if dst, err := os.Stat(dir); err == nil && dst.Mode().Perm()&0o022 != 0 && dst.Mode()&os.ModeSticky == 0 {
		// Anyone who may write the directory may swap the database.
		return fmt.Errorf("directory %s is mode %04o: other users can replace the database in it; fix it with `chmod go-w %s` (or set ATOMCP_ALLOW_INSECURE_FILES=true)",
			dir, dst.Mode().Perm(), shellQuote(dir))
	}
	st, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if st.Mode().Perm()&0o077 == 0 {
		return nil
	}
	return fmt.Errorf("%s is mode %04o: other users can read its secrets; fix it with `chmod 600 %s` (or set ATOMCP_ALLOW_INSECURE_FILES=true)",
		path, st.Mode().Perm(), shellQuote(path))
}

// shellQuote quotes s for a POSIX shell when it needs quoting.
func shellQuote(s string) string {
	if strings.IndexFunc(s, func(r rune) bool {
		return !(r == '/' || r == '.' || r == '-' || r == '_' || r == '+' || r == ':' || r == ',' || r == '@' ||
			(r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9'))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
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
	return errors.Join(s.reader.Close(), s.writer.db.Close())
}
