package authserver

import (
	"context"
	"time"
)

// Maintain deletes expired codes, tokens and deny-list entries every
// interval until ctx ends. serve runs it in the background; the rows it
// deletes can no longer be used, so it only keeps the database small.
func (s *Server) Maintain(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		s.purge(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *Server) purge(ctx context.Context) {
	n, err := s.st.PurgeExpiredTokens(ctx, s.opts.Now())
	switch {
	case err != nil && ctx.Err() == nil:
		s.log.Warn("purge expired tokens", "err", err)
	case n > 0:
		s.log.Debug("purged expired tokens", "rows", n)
	}
}
