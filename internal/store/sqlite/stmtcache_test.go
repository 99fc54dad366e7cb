package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// cacheDB is one caching connection to a fresh database file, with its
// statement cache at hand.
func cacheDB(t *testing.T) (*sql.DB, func() *cachingConn) {
	t.Helper()
	drv, err := newDriver()
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(connector{driver: drv, dsn: dsn(filepath.Join(t.TempDir(), "c.db"), true)})
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { _ = db.Close() })
	if _, err := db.Exec(`CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)`); err != nil {
		t.Fatal(err)
	}
	cache := func() *cachingConn {
		var cc *cachingConn
		c, err := db.Conn(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.Raw(func(dc any) error { cc = dc.(*cachingConn); return nil }); err != nil {
			t.Fatal(err)
		}
		return cc
	}
	return db, cache
}

func names(t *testing.T, q interface {
	Query(string, ...any) (*sql.Rows, error)
}, query string, args ...any) []string {
	t.Helper()
	rows, err := q.Query(query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestStmtCacheReuses: the second run of a text is not prepared again,
// with other arguments it answers for those arguments, and a failed
// statement (a constraint) leaves its cached statement usable.
func TestStmtCacheReuses(t *testing.T) {
	db, cache := cacheDB(t)
	const ins = `INSERT INTO t (name) VALUES (?)`
	for _, n := range []string{"a", "b", "c"} {
		if _, err := db.Exec(ins, n); err != nil {
			t.Fatal(err)
		}
	}
	before := cache().prepares
	const sel = `SELECT name FROM t WHERE name >= ? ORDER BY name`
	for i, arg := range []string{"a", "b", "c", "d"} {
		got := strings.Join(names(t, db, sel, arg), ",")
		want := []string{"a,b,c", "b,c", "c", ""}[i]
		if got != want {
			t.Errorf("names >= %s = %q; want %q", arg, got, want)
		}
	}
	if _, err := db.Exec(ins, "a"); err == nil || !strings.Contains(err.Error(), "UNIQUE") {
		t.Fatalf("duplicate insert: %v; want a UNIQUE error", err)
	}
	if _, err := db.Exec(ins, "d"); err != nil {
		t.Fatalf("insert after a failed one: %v", err)
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM t WHERE name = ?`, "zz").Scan(&n); err != nil || n != 0 {
		t.Fatalf("QueryRow: %d %v", n, err)
	}
	if err := db.QueryRow(`SELECT count(*) FROM t WHERE name = ?`, "d").Scan(&n); err != nil || n != 1 {
		t.Fatalf("QueryRow again: %d %v", n, err)
	}
	if got := cache().prepares - before; got != 2 {
		t.Errorf("%d statements prepared for two distinct texts run 8 times; want 2", got)
	}
}

// TestStmtCacheNested: the same text again while a Rows of it is open on
// the same connection (a transaction) gets a statement of its own, and
// both answer right.
func TestStmtCacheNested(t *testing.T) {
	db, _ := cacheDB(t)
	for _, n := range []string{"a", "b"} {
		if _, err := db.Exec(`INSERT INTO t (name) VALUES (?)`, n); err != nil {
			t.Fatal(err)
		}
	}
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	const sel = `SELECT name FROM t WHERE name >= ? ORDER BY name`
	outer, err := tx.Query(sel, "a")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for outer.Next() {
		var s string
		if err := outer.Scan(&s); err != nil {
			t.Fatal(err)
		}
		got = append(got, s+":"+strings.Join(names(t, tx, sel, s), "+"))
	}
	if err := outer.Close(); err != nil {
		t.Fatal(err)
	}
	if want := "a:a+b,b:b"; strings.Join(got, ",") != want {
		t.Errorf("nested = %q; want %q", strings.Join(got, ","), want)
	}
}

// TestStmtCacheSchemaChange: a cached SELECT * sees a column added since.
func TestStmtCacheSchemaChange(t *testing.T) {
	db, _ := cacheDB(t)
	cols := func() int {
		rows, err := db.Query(`SELECT * FROM t`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		c, err := rows.Columns()
		if err != nil {
			t.Fatal(err)
		}
		return len(c)
	}
	if n := cols(); n != 2 {
		t.Fatalf("%d columns; want 2", n)
	}
	if _, err := db.Exec(`ALTER TABLE t ADD COLUMN extra TEXT`); err != nil {
		t.Fatal(err)
	}
	if n := cols(); n != 3 {
		t.Errorf("%d columns after ALTER TABLE; want 3", n)
	}
}

// TestStmtCacheBound: more distinct texts than the cache holds evict the
// least recently used, and every query still answers.
func TestStmtCacheBound(t *testing.T) {
	db, cache := cacheDB(t)
	for i := range stmtCacheSize + 20 {
		var n int
		if err := db.QueryRow(fmt.Sprintf(`SELECT %d + ?`, i), 1).Scan(&n); err != nil || n != i+1 {
			t.Fatalf("query %d: %d %v", i, n, err)
		}
	}
	if got := cache().lru.Len(); got != stmtCacheSize {
		t.Errorf("%d statements cached; want %d", got, stmtCacheSize)
	}
	before := cache().prepares
	var n int
	if err := db.QueryRow(`SELECT 0 + ?`, 1).Scan(&n); err != nil || n != 1 { // evicted: prepared again
		t.Fatalf("evicted query: %d %v", n, err)
	}
	if err := db.QueryRow(fmt.Sprintf(`SELECT %d + ?`, stmtCacheSize+19), 1).Scan(&n); err != nil || n != stmtCacheSize+20 { // recent: cached
		t.Fatalf("recent query: %d %v", n, err)
	}
	if got := cache().prepares - before; got != 1 {
		t.Errorf("%d prepared; want 1 (the evicted text only)", got)
	}
}
