package sqlcore

import (
	"context"
	"fmt"
	"time"
)

// HitRateLimit counts one request for key in its window; the upsert makes
// concurrent replicas count into one row.
func (o Ops) HitRateLimit(ctx context.Context, key string, window, prune time.Time) (int, error) {
	var n int
	err := o.Conn.Atomically(ctx, func(q Querier) error {
		if _, err := q.Exec(ctx, `DELETE FROM rate_limits WHERE window_start < $1`, o.D.Time(prune)); err != nil {
			return err
		}
		return q.QueryRow(ctx,
			`INSERT INTO rate_limits (key, window_start, count) VALUES ($1, $2, 1)
			 ON CONFLICT (key, window_start) DO UPDATE SET count = rate_limits.count + 1 RETURNING count`,
			key, o.D.Time(window)).Scan(&n)
	})
	if err != nil {
		return 0, fmt.Errorf("count rate limit %q: %w", key, o.D.MapErr(err))
	}
	return n, nil
}
