package atoms

import "context"

// ProgressFunc is told how many of total items a long operation has done.
// It must not block for long: it runs inside the operation's transaction.
type ProgressFunc func(done, total int)

type progressKey struct{}

// WithProgress returns a context whose long operations (batch_create and
// the import workflows) report their progress to fn. The transport layer
// uses it to send MCP progress notifications; the service knows nothing of
// MCP.
func WithProgress(ctx context.Context, fn ProgressFunc) context.Context {
	return context.WithValue(ctx, progressKey{}, fn)
}

// reportProgress tells the context's ProgressFunc, if any.
func reportProgress(ctx context.Context, done, total int) {
	if fn, ok := ctx.Value(progressKey{}).(ProgressFunc); ok && fn != nil {
		fn(done, total)
	}
}
