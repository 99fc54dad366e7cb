package postgres

import (
	"context"
	"fmt"
	"time"
)

// HitRateLimit counts one request for key in its window; the upsert makes
// concurrent replicas count into one row.
func (o ops) HitRateLimit(ctx context.Context, key string, window, prune time.Time) (int, error) {
	var n int
	err := o.atomically(ctx, func(q querier) error {
		if _, err := q.Exec(ctx, `DELETE FROM rate_limits WHERE window_start < $1`, prune.UTC()); err != nil {
			return err
		}
		return q.QueryRow(ctx,
			`INSERT INTO rate_limits (key, window_start, count) VALUES ($1, $2, 1)
			 ON CONFLICT (key, window_start) DO UPDATE SET count = rate_limits.count + 1 RETURNING count`,
			key, window.UTC()).Scan(&n)
	})
	if err != nil {
		return 0, fmt.Errorf("count rate limit %q: %w", key, mapErr(err))
	}
	return n, nil
}
