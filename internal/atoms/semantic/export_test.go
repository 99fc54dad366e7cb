package semantic

import "time"

// Hooks into the embedding worker, so that tests watch it instead of
// sleeping.

// EmbedEvent is what the worker reports after each prepare, step and
// before each wait.
type EmbedEvent = embedEvent

// WatchEmbeddings sets the worker's event hook and its poll interval
// (before Run starts).
func (eng *Engine) WatchEmbeddings(hook func(EmbedEvent), poll time.Duration) {
	eng.hook, eng.poll = hook, poll
}

// EmbedBatch is the worker's batch size.
const EmbedBatch = embedBatch

// EmbedMinBackoff is the first back-off after a failure.
const EmbedMinBackoff = embedMinBackoff
