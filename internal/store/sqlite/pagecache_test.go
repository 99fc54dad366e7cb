package sqlite

import (
	"path/filepath"
	"testing"
)

// TestPageCacheBytes: the sum follows what the connections cache — it
// grows as the writer writes some MiB (readers read through the memory
// map, mmap_size, and cache little) and falls to zero when the
// connections close.
func TestPageCacheBytes(t *testing.T) {
	ctx := t.Context()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "atomcp.db"))
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	defer func() {
		if !closed {
			_ = s.Close()
		}
	}()
	if _, err := s.writer.Exec(ctx, "CREATE TABLE t (n INTEGER, pad TEXT)"); err != nil {
		t.Fatal(err)
	}
	before := s.PageCacheBytes()
	// 4000 rows of 1 KiB: about 4 MiB of pages, within one connection's
	// 32 MiB cache.
	if _, err := s.writer.Exec(ctx, `WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 4000)
		INSERT INTO t SELECT n, printf('%.1024c', 'x') FROM c`); err != nil {
		t.Fatal(err)
	}
	afterWrite := s.PageCacheBytes()
	if afterWrite-before < 3<<20 {
		t.Errorf("page cache %d → %d bytes after writing 4 MiB; want it 3 MiB larger at least", before, afterWrite)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	closed = true
	if got := s.PageCacheBytes(); got != 0 {
		t.Errorf("page cache %d bytes with every connection closed; want 0", got)
	}
}

// BenchmarkPageCacheMeasure is what reading the page cache adds to every
// use of a connection (cachingConn.IsValid).
func BenchmarkPageCacheMeasure(b *testing.B) {
	s, err := Open(b.Context(), filepath.Join(b.TempDir(), "atomcp.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	c, err := s.writer.db.Conn(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if err := c.Raw(func(dc any) error {
		cc := dc.(*cachingConn)
		for b.Loop() {
			cc.measure()
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
}
