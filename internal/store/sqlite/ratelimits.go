package sqlite

import (
	"context"
	"fmt"
	"time"
)

// HitRateLimit counts one request for key in its window.
func (o ops) HitRateLimit(ctx context.Context, key string, window, prune time.Time) (int, error) {
	var n int
	err := o.atomically(ctx, func(w querier) error {
		if _, err := w.ExecContext(ctx, `DELETE FROM rate_limits WHERE window_start < ?`, encodeTime(prune)); err != nil {
			return err
		}
		return w.QueryRowContext(ctx,
			`INSERT INTO rate_limits (key, window_start, count) VALUES (?, ?, 1)
			 ON CONFLICT (key, window_start) DO UPDATE SET count = count + 1 RETURNING count`,
			key, encodeTime(window)).Scan(&n)
	})
	if err != nil {
		return 0, fmt.Errorf("count rate limit %q: %w", key, mapErr(err))
	}
	return n, nil
}
