package atoms

import (
	"context"
	"time"
)

// Hooks into the embedding worker, so that tests drive it step by step or
// watch it, instead of sleeping.

// EmbedEvent is what the worker reports after each prepare, step and
// before each wait.
type EmbedEvent = embedEvent

// EmbedStep runs one batch of the embedding worker.
func (s *Service) EmbedStep(ctx context.Context) (int, error) { return s.embedStep(ctx) }

// PrepareEmbeddings runs the worker's start-up (dimensions, prune, requeue).
func (s *Service) PrepareEmbeddings(ctx context.Context) error { return s.prepareEmbeddings(ctx) }

// WatchEmbeddings sets the worker's event hook and its poll interval
// (before RunEmbeddings starts).
func (s *Service) WatchEmbeddings(hook func(EmbedEvent), poll time.Duration) {
	s.embedHook, s.embedPoll = hook, poll
}

// EmbedBatch is the worker's batch size.
const EmbedBatch = embedBatch

// EmbedMinBackoff is the first back-off after a failure.
const EmbedMinBackoff = embedMinBackoff
