package sqlite

import (
	"container/list"
	"context"
	"database/sql/driver"
	"errors"

	"modernc.org/sqlite"
)

// stmtCacheSize bounds the prepared statements each connection keeps. The
// store's queries are a fixed set of texts (a few hundred in all, the hot
// ones a dozen), except those built per call (filters, IN lists): the
// least recently used statement is finalized when a new one does not fit.
const stmtCacheSize = 128

// cachingConn is a modernc connection that keeps the statements it ran
// prepared, by SQL text, and runs them again from there: parsing and
// planning a statement (sqlite3_prepare_v2) was most of the cost of the
// short queries of every request (the deny-list, the caller, the entity:
// 13 % of the CPU of an authenticated read, docs/performance.md).
//
// database/sql uses a driver connection from one goroutine at a time (an
// open Rows holds it), so the cache needs no lock. A statement is taken
// out of the cache while a Rows of it is open and put back when the Rows
// closes: a second query of the same text on the same connection meanwhile
// (nested queries in a transaction) prepares a statement of its own.
// SQLite re-prepares a statement by itself when the schema changed.
type cachingConn struct {
	inner driver.Conn
	lru   *list.List // of *cachedStmt, most recently used first
	byKey map[string]*list.Element
	// prepares counts statements prepared (tests).
	prepares int
	// cache is the Store's page cache sum (nil: not counted), cacheBytes
	// this connection's share of it.
	cache      *pageCache
	cacheBytes int64
}

type cachedStmt struct {
	query string
	stmt  driver.Stmt
	rows  cachedRows // the one open Rows of stmt, kept here to spare an allocation per query
}

// The interfaces of modernc's connection that database/sql looks for, all
// forwarded.
var (
	_ driver.Conn               = (*cachingConn)(nil)
	_ driver.ConnBeginTx        = (*cachingConn)(nil)
	_ driver.ConnPrepareContext = (*cachingConn)(nil)
	_ driver.QueryerContext     = (*cachingConn)(nil)
	_ driver.ExecerContext      = (*cachingConn)(nil)
	_ driver.Pinger             = (*cachingConn)(nil)
	_ driver.SessionResetter    = (*cachingConn)(nil)
	_ driver.Validator          = (*cachingConn)(nil)
)

// modernConn is what modernc's connection implements besides driver.Conn.
type modernConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.QueryerContext
	driver.ExecerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
	sqlite.DBStatus
}

func newCachingConn(c driver.Conn) (*cachingConn, error) {
	if _, ok := c.(modernConn); !ok {
		_ = c.Close()
		return nil, errors.New("sqlite driver connection lacks the context interfaces")
	}
	return &cachingConn{inner: c, lru: list.New(), byKey: make(map[string]*list.Element)}, nil
}

func (c *cachingConn) m() modernConn { return c.inner.(modernConn) }

// take returns the cached statement of query, out of the cache, or
// prepares one.
func (c *cachingConn) take(ctx context.Context, query string) (*cachedStmt, error) {
	if e, ok := c.byKey[query]; ok {
		c.lru.Remove(e)
		delete(c.byKey, query)
		return e.Value.(*cachedStmt), nil
	}
	s, err := c.m().PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.prepares++
	return &cachedStmt{query: query, stmt: s}, nil
}

// give puts s back into the cache, unless a statement of the same text
// went in meanwhile, finalizing the least recently used one when full.
func (c *cachingConn) give(s *cachedStmt) {
	if _, ok := c.byKey[s.query]; ok || c.byKey == nil {
		_ = s.stmt.Close()
		return
	}
	c.byKey[s.query] = c.lru.PushFront(s)
	for c.lru.Len() > stmtCacheSize {
		old := c.lru.Remove(c.lru.Back()).(*cachedStmt)
		delete(c.byKey, old.query)
		_ = old.stmt.Close()
	}
}

func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	s, err := c.take(ctx, query)
	if err != nil {
		return nil, err
	}
	rows, err := s.stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		// modernc resets the statement on every error path.
		c.give(s)
		return nil, err
	}
	s.rows = cachedRows{Rows: rows, conn: c, stmt: s}
	return &s.rows, nil
}

func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	s, err := c.take(ctx, query)
	if err != nil {
		return nil, err
	}
	res, err := s.stmt.(driver.StmtExecContext).ExecContext(ctx, args)
	c.give(s) // reset by modernc before it returns, error or not
	return res, err
}

func (c *cachingConn) Prepare(query string) (driver.Stmt, error) { return c.inner.Prepare(query) }
func (c *cachingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.m().PrepareContext(ctx, query)
}
func (c *cachingConn) Begin() (driver.Tx, error) {
	return c.m().BeginTx(context.Background(), driver.TxOptions{})
}
func (c *cachingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.m().BeginTx(ctx, opts)
}
func (c *cachingConn) Ping(ctx context.Context) error         { return c.m().Ping(ctx) }
func (c *cachingConn) ResetSession(ctx context.Context) error { return c.m().ResetSession(ctx) }

// IsValid is called by database/sql as the connection goes back to the
// pool, still lent to one goroutine: the moment to read its page cache.
func (c *cachingConn) IsValid() bool {
	c.measure()
	return c.m().IsValid()
}

// Close finalizes the cached statements, then closes the connection.
// Statements of Rows still open are finalized when those close.
func (c *cachingConn) Close() error {
	var errs []error
	for e := c.lru.Front(); e != nil; e = e.Next() {
		errs = append(errs, e.Value.(*cachedStmt).stmt.Close())
	}
	c.lru.Init()
	c.byKey = nil
	if c.cache != nil {
		c.cache.bytes.Add(-c.cacheBytes)
		c.cacheBytes = 0
	}
	return errors.Join(append(errs, c.inner.Close())...)
}

// cachedRows gives its statement back to the cache when it closes.
type cachedRows struct {
	driver.Rows
	conn *cachingConn
	stmt *cachedStmt
}

// database/sql closes a driver Rows once and never uses it after that, so
// the statement (and this struct in it) may serve the next query at once.
func (r *cachedRows) Close() error {
	if r.Rows == nil {
		return nil
	}
	err := r.Rows.Close() // resets the statement
	if s := r.stmt; s != nil {
		r.stmt, r.Rows = nil, nil
		if err != nil {
			_ = s.stmt.Close()
		} else {
			r.conn.give(s)
		}
	}
	return err
}
