package sqlite

import (
	"sync/atomic"

	"modernc.org/sqlite"
)

// pageCache adds up the page cache of a Store's connections: the memory
// SQLite holds for cached database pages (SQLITE_DBSTATUS_CACHE_USED),
// outside the Go heap. It grows with the database up to cache_size per
// connection (dsn), so a process's private memory grows with it without
// leaking; the soak subtracts it (bench/soak, docs/performance.md#soak).
//
// modernc's build leaves SQLite's global memory statistics off
// (SQLITE_DEFAULT_MEMSTATUS=0), so the figure is read per connection, and
// only while database/sql lends the connection to one goroutine: at the end
// of each use (cachingConn.IsValid), never from the scraping goroutine.
type pageCache struct{ bytes atomic.Int64 }

// Bytes is the sum of the connections' page caches after their last use.
func (p *pageCache) Bytes() int64 {
	if p == nil {
		return 0
	}
	return p.bytes.Load()
}

// measure reads c's page cache and updates the sum. c must be in use by
// the caller alone.
func (c *cachingConn) measure() {
	if c.cache == nil {
		return
	}
	n, _, err := c.m().Status(sqlite.DBStatusCacheUsed, false)
	if err != nil {
		return
	}
	c.cache.bytes.Add(int64(n) - c.cacheBytes)
	c.cacheBytes = int64(n)
}

// PageCacheBytes is the memory SQLite's page caches of the Store's
// connections hold (exported as atomcp_store_sqlite_page_cache_bytes).
func (s *Store) PageCacheBytes() int64 { return s.cache.Bytes() }
