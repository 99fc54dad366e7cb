package store

import (
	"context"
	"time"
)

// RateLimits counts requests per key in fixed time windows, in the
// database, so that every replica of a deployment shares one budget.
type RateLimits interface {
	// HitRateLimit counts one request for key in the window starting at
	// window and returns the count so far, this one included. Windows that
	// ended before prune are deleted on the way.
	HitRateLimit(ctx context.Context, key string, window, prune time.Time) (int, error)
}
