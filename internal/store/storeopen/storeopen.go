// Package storeopen opens the store.Store that a database URL names,
// choosing the backend by the URL's scheme. It is separate from package
// store because it imports the backends, which import store.
package storeopen

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/atomcp/atomcp/internal/store"
	"github.com/atomcp/atomcp/internal/store/postgres"
	"github.com/atomcp/atomcp/internal/store/sqlite"
)

// The backends ParseURL reports: SQLite for sqlite URLs and plain paths,
// PostgreSQL for postgres:// and postgresql:// URLs.
const (
	BackendSQLite   = "sqlite"
	BackendPostgres = "postgres"
)

// Accepted describes the database URLs Open accepts, for error messages
// and help texts.
const Accepted = "sqlite:///absolute/path.db, sqlite://relative/path.db (relative to the working directory), " +
	"a plain file path, or postgres://user:password@host:5432/database (also postgresql://)"

// scheme matches a URL scheme. It must be at least two characters long, so
// that a Windows path such as C:\data\atomcp.db is taken as a path.
var scheme = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9+.-]+):`)

// ParseURL returns the backend and the location a database URL names: the
// file path for SQLite, the whole URL for PostgreSQL. The path of a sqlite
// URL is taken literally (no percent-decoding) and is not checked against
// the file system, nor is a PostgreSQL URL connected to; Open does that.
func ParseURL(url string) (backend, path string, err error) {
	url = strings.TrimSpace(url)
	if url == "" {
		return "", "", fmt.Errorf("empty database URL; accepted: %s", Accepted)
	}
	m := scheme.FindStringSubmatch(url)
	if m == nil {
		return sqlitePath(url, url)
	}
	switch strings.ToLower(m[1]) {
	case "sqlite":
		rest := url[len(m[0]):]
		if !strings.HasPrefix(rest, "//") {
			return "", "", fmt.Errorf("database URL %q: write sqlite:///absolute/path.db or sqlite://relative/path.db", url)
		}
		return sqlitePath(url, rest[len("//"):])
	case "postgres", "postgresql":
		if !strings.HasPrefix(url[len(m[0]):], "//") {
			return "", "", fmt.Errorf("database URL %q: write %s://user:password@host:5432/database", Redact(url), strings.ToLower(m[1]))
		}
		return BackendPostgres, url, nil
	default:
		return "", "", fmt.Errorf("database URL %q: unsupported scheme %q; accepted: %s", Redact(url), m[1], Accepted)
	}
}

func sqlitePath(url, path string) (string, string, error) {
	switch {
	case path == "" || path == "/":
		return "", "", fmt.Errorf("database URL %q names no file; accepted: %s", url, Accepted)
	case path == ":memory:":
		return "", "", fmt.Errorf("database URL %q: in-memory SQLite databases are not supported; give a file path", url)
	case strings.ContainsRune(path, '?'):
		return "", "", fmt.Errorf("database URL %q: query parameters are not supported; the store sets its own SQLite options", url)
	}
	return BackendSQLite, path, nil
}

// passwordParam matches a password in a URL's query
// (postgres://host/db?password=secret, or sslpassword).
var passwordParam = regexp.MustCompile(`(?i)([?&](?:ssl)?password=)[^&]*`)

// Redact hides the password of a URL with credentials
// (postgres://user:secret@host/db, …?password=secret), which messages
// must not print.
func Redact(url string) string {
	url = passwordParam.ReplaceAllString(url, "${1}xxxxx")
	at := strings.LastIndex(url, "@")
	start := strings.Index(url, "://")
	if at < 0 || start < 0 || at < start {
		return url
	}
	userinfo := url[start+3 : at]
	if user, _, ok := strings.Cut(userinfo, ":"); ok {
		return url[:start+3] + user + ":xxxxx" + url[at:]
	}
	return url
}

// Open opens the store the URL names. It does not change the schema; call
// Migrate on the result for that. The directory of a SQLite file must
// exist; a PostgreSQL server must answer (the error names the host and the
// cause, never the password).
func Open(ctx context.Context, url string) (store.Store, error) {
	return OpenWith(ctx, url, Options{})
}

// Options tune how a store waits on its database server; SQLite ignores
// them.
type Options = postgres.Options

// OpenWith is Open with options.
func OpenWith(ctx context.Context, url string, opts Options) (store.Store, error) {
	backend, path, err := ParseURL(url)
	if err != nil {
		return nil, err
	}
	switch backend {
	case BackendSQLite:
		s, err := sqlite.Open(ctx, path)
		if err != nil {
			return nil, err // not a typed nil in the interface
		}
		return s, nil
	case BackendPostgres:
		s, err := postgres.OpenWith(ctx, path, opts)
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	return nil, errors.New("unreachable: unknown backend " + backend)
}
