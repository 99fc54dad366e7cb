// Package telstore times and traces every store operation: a decorator
// around store.Store that records atomcp_store_operation_duration_seconds
// and a "store.Operation" span, and leaves the backends untouched.
package telstore

//go:generate go run ./gen

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/atomcp/atomcp/internal/store"
	"github.com/atomcp/atomcp/internal/telemetry"
)

// PoolStats is what a backend may report about its connection pool; the
// decorator exports it as atomcp_store_pool_connections{state} when the
// wrapped store implements it.
type PoolStats interface {
	PoolStats() (inUse, idle, max int)
}

// PageCache is what the SQLite backend reports about SQLite's page cache,
// which lives outside the Go heap; the decorator exports it as
// atomcp_store_sqlite_page_cache_bytes when the wrapped store implements it.
type PageCache interface {
	PageCacheBytes() int64
}

// Wrap returns st timed by m and traced by t (either may be nil; with
// both nil st itself is returned).
func Wrap(st store.Store, m *telemetry.Metrics, t *telemetry.Tracing) store.Store {
	if m == nil && !t.Enabled() {
		return st
	}
	if ps, ok := st.(PoolStats); ok && m != nil {
		for _, state := range []string{"in_use", "idle", "max"} {
			m.GaugeFunc(telemetry.NameStorePool+"_"+state, "Database connections of the store's pool ("+state+").", func() float64 {
				inUse, idle, max := ps.PoolStats()
				switch state {
				case "in_use":
					return float64(inUse)
				case "idle":
					return float64(idle)
				}
				return float64(max)
			})
		}
	}
	if pc, ok := st.(PageCache); ok && m != nil {
		m.GaugeFunc(telemetry.NameSQLitePageCache, "Memory held by SQLite's page caches of the store's connections (SQLITE_DBSTATUS_CACHE_USED, after each connection's last use).",
			func() float64 { return float64(pc.PageCacheBytes()) })
	}
	return &wrapped{ops: ops{inner: st, m: m, t: t}, st: st}
}

// ops decorates a store.Ops: the store itself, or a transaction's.
type ops struct {
	inner store.Ops
	m     *telemetry.Metrics
	t     *telemetry.Tracing
}

// start begins one operation; the returned function ends it.
func (o *ops) start(ctx context.Context, op string) (context.Context, func(error)) {
	done := o.m.StoreOp(op)
	if !o.t.Enabled() {
		return ctx, done
	}
	ctx, span := o.t.Start(ctx, "store."+op, trace.SpanKindClient, attribute.String("db.operation.name", op))
	return ctx, func(err error) {
		done(err)
		telemetry.EndSpan(span, err)
	}
}

type wrapped struct {
	ops
	st store.Store
}

func (w *wrapped) InTx(ctx context.Context, fn func(tx store.Ops) error) error {
	ctx, done := w.start(ctx, "InTx")
	err := w.st.InTx(ctx, func(tx store.Ops) error {
		return fn(&ops{inner: tx, m: w.m, t: w.t})
	})
	done(err)
	return err
}

func (w *wrapped) Migrate(ctx context.Context) ([]int, error) {
	ctx, done := w.start(ctx, "Migrate")
	v, err := w.st.Migrate(ctx)
	done(err)
	return v, err
}

func (w *wrapped) Ping(ctx context.Context) error {
	ctx, done := w.start(ctx, "Ping")
	err := w.st.Ping(ctx)
	done(err)
	return err
}

func (w *wrapped) Close() error { return w.st.Close() }

// Unwrap returns the decorated store.
func (w *wrapped) Unwrap() store.Store { return w.st }

var _ store.Store = (*wrapped)(nil)
