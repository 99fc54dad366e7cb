package atoms

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/embed"
	"github.com/atomcp/atomcp/internal/store"
)

// Tuning of the embedding worker.
const (
	// embedBatch is how many queued entities one step embeds: one HTTP
	// request for a remote embedder, one short write transaction.
	embedBatch = 32
	// embedPoll is how often an idle worker looks at the queue without
	// being woken: writes of this process wake it at once, but writes of
	// other replicas (or of `atomcp seed`) can only be noticed this way.
	embedPoll = 2 * time.Second
	// The back-off after a failure doubles from embedMinBackoff to
	// embedMaxBackoff, so that a down endpoint is not hammered.
	embedMinBackoff = time.Second
	embedMaxBackoff = 5 * time.Minute
	// maxEmbedRunes bounds the text sent for one entity: remote models
	// refuse inputs beyond a few thousand tokens, and the start of a long
	// document says what it is about.
	maxEmbedRunes = 8000
)

// defaultEmbedder is used when no WithEmbedder option was given.
var defaultEmbedder embed.Embedder = embed.NewLocal(0)

// emb returns the embedder in use.
func (s *Service) emb() embed.Embedder {
	if s.embedder != nil {
		return s.embedder
	}
	return defaultEmbedder
}

// wakeSignal wakes the embedding worker. Pokes coalesce: however many
// writes happen while the worker is busy, it runs one more step.
type wakeSignal struct {
	once sync.Once
	ch   chan struct{}
}

func (w *wakeSignal) c() chan struct{} {
	w.once.Do(func() { w.ch = make(chan struct{}, 1) })
	return w.ch
}

func (w *wakeSignal) poke() {
	select {
	case w.c() <- struct{}{}:
	default:
	}
}

// embeddingsChanged is called after every committed service write with
// what it changed; entity writes queue embeddings (in the store, in the
// same transaction), so the worker is woken to compute them now.
func (s *Service) embeddingsChanged(changes []Change) {
	if len(changes) > 0 {
		s.embedWake.poke()
	}
}

// embedEvent tells tests what the worker did.
type embedEvent struct {
	Step     string // "prepare", "step" or "wait"
	Embedded int    // entities embedded (or whose vector was reused) by a step
	Err      error
	Backoff  time.Duration // for "wait": how long the worker waits (0: until woken or polled)
}

func (s *Service) tell(ev embedEvent) {
	if s.embedHook != nil {
		s.embedHook(ev)
	}
}

// RunEmbeddings computes the embeddings of written entities in the
// background until ctx ends, then returns nil. It first makes sure every
// live entity without a vector of the current model is queued (which, after
// a change of embedder or model, is every entity) and drops vectors of
// other models and of deleted entities; then it drains the queue in
// batches, waking as soon as the service writes. When the embedder fails,
// the entities stay queued and the worker retries with a growing back-off;
// writes and keyword search are not affected.
//
// Run one per process; several replicas may each run one (an entity
// embedded twice is merely embedded twice).
func (s *Service) RunEmbeddings(ctx context.Context) error {
	if s.store == nil {
		return errors.New("embeddings: the service has no store")
	}
	var backoff time.Duration
	prepared := false
	for {
		var (
			n   int
			err error
		)
		// The step about to run sees every write committed so far: a poke
		// already waiting would only cause an empty step after it.
		select {
		case <-s.embedWake.c():
		default:
		}
		if !prepared {
			err = s.prepareEmbeddings(ctx)
			prepared = err == nil
			s.tell(embedEvent{Step: "prepare", Err: err})
		}
		if prepared {
			n, err = s.embedStep(ctx)
			s.tell(embedEvent{Step: "step", Embedded: n, Err: err})
		}
		if ctx.Err() != nil {
			return nil
		}
		switch {
		case err != nil:
			backoff = min(max(2*backoff, embedMinBackoff), embedMaxBackoff)
			s.logger.Warn("embeddings: the embedder or the store failed; entities stay queued and keyword search still works",
				"error", err, "model", s.emb().Model(), "retry_in", backoff)
		case n == embedBatch:
			backoff = 0
			continue // a full batch: more may be waiting
		default:
			backoff = 0
		}
		s.tell(embedEvent{Step: "wait", Backoff: backoff})
		if !s.waitForWork(ctx, backoff) {
			return nil
		}
	}
}

// waitForWork waits for a write of this process or for the poll interval;
// during a back-off it waits the full back-off, since writes do not make a
// failing embedder work. It returns false when ctx ended.
func (s *Service) waitForWork(ctx context.Context, backoff time.Duration) bool {
	wake := s.embedWake.c()
	wait := embedPoll
	if s.embedPoll > 0 {
		wait = s.embedPoll
	}
	if backoff > 0 {
		wait, wake = backoff, nil // a nil channel never receives
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-wake:
	case <-t.C:
	}
	return true
}

// prepareEmbeddings learns the embedder's dimensions if needed (so that
// Model is complete), drops vectors nobody can use and queues what has no
// vector of this model.
func (s *Service) prepareEmbeddings(ctx context.Context) error {
	e := s.emb()
	if e.Dimensions() == 0 {
		if _, err := e.Embed(ctx, []string{"dimension probe"}); err != nil {
			return fmt.Errorf("embeddings: ask the embedder for its dimensions: %w", err)
		}
		s.embedDown.Store(0)
	}
	model := e.Model()
	pruned, err := s.store.PruneEmbeddings(ctx, model)
	if err != nil {
		return err
	}
	queued, err := s.store.RequeueEmbeddings(ctx, model, s.now())
	if err != nil {
		return err
	}
	if pruned > 0 || queued > 0 {
		s.logger.Info("embeddings: queued entities that lack a vector of the current model",
			"model", model, "queued", queued, "dropped_vectors", pruned)
	}
	return nil
}

// embedJob is one queued entity in a step.
type embedJob struct {
	q      store.QueuedEmbedding
	entity *domain.Entity // nil when the entity is gone
	text   string
	hash   string
	vector []float32 // reused or computed
	skip   bool      // rejected by the embedder: dequeue without a vector
}

// embedStep embeds one batch of the queue and returns how many entities
// got a vector. Nothing is dequeued unless its vector was stored (or the
// entity is gone, or the embedder refused its text for good).
func (s *Service) embedStep(ctx context.Context) (int, error) {
	e := s.emb()
	queue, err := s.store.EmbeddingQueue(ctx, embedBatch)
	if err != nil || len(queue) == 0 {
		return 0, err
	}
	model := e.Model()
	jobs := make([]*embedJob, 0, len(queue))
	var todo []*embedJob
	for _, q := range queue {
		j := &embedJob{q: q}
		jobs = append(jobs, j)
		ent, err := s.store.GetEntity(ctx, q.Type, q.ID)
		switch {
		case errors.Is(err, domain.ErrNotFound):
			continue
		case err != nil:
			return 0, err
		case ent.IsDeleted:
			// Deleted since it was queued: its vector is hidden from search
			// and kept for a restore (which queues it again).
			j.skip = true
			continue
		}
		j.entity = ent
		j.text = embedText(ent)
		j.hash = contentHash(j.text)
		old, err := s.store.GetEmbedding(ctx, ent.ID)
		if err != nil && !errors.Is(err, domain.ErrNotFound) {
			return 0, err
		}
		if err == nil && old.Model == model && old.ContentHash == j.hash {
			// Same text, same model (a status change, a restore): no need
			// to ask the embedder; the vector is stored again below so
			// that the indexes pick up its new seq and metadata.
			j.vector = old.Vector
			continue
		}
		todo = append(todo, j)
	}
	if err := s.embedJobs(ctx, e, todo); err != nil {
		return 0, err
	}
	if len(todo) > 0 {
		s.embedDown.Store(0) // it answers again: queries may use it
	}
	if e.Model() != model {
		// The embedder learned its dimensions during this step (an HTTP
		// embedder's first answer): vectors of the old name would be
		// orphans. Start over with the complete name.
		return 0, fmt.Errorf("embeddings: the model changed from %s to %s during a step", model, e.Model())
	}
	embedded := 0
	err = s.store.InTx(ctx, func(tx store.Ops) error {
		for _, j := range jobs {
			switch {
			case j.entity == nil && !j.skip:
				if err := tx.DeleteEmbedding(ctx, j.q.ID); err != nil {
					return err
				}
			case j.entity != nil && j.vector != nil:
				emb := &store.Embedding{
					EntityType: j.entity.Type, EntityID: j.entity.ID, OrganizationID: j.entity.OrganizationID,
					ProjectID: j.entity.ProjectID(), Model: model, ContentHash: j.hash, Vector: j.vector, UpdatedAt: s.now(),
				}
				if err := tx.PutEmbedding(ctx, emb); err != nil {
					return err
				}
				embedded++
			}
			if err := tx.DequeueEmbedding(ctx, j.q); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return embedded, nil
}

// embedJobs computes the vectors of jobs in one call. If the embedder
// refuses the batch for good (embed.ErrRejected, e.g. one text too long
// for the model), each text is tried alone and the ones refused alone are
// marked skip, so that one bad entity cannot block the queue.
func (s *Service) embedJobs(ctx context.Context, e embed.Embedder, jobs []*embedJob) error {
	if len(jobs) == 0 {
		return nil
	}
	texts := make([]string, len(jobs))
	for i, j := range jobs {
		texts[i] = j.text
	}
	vecs, err := e.Embed(ctx, texts)
	if err == nil {
		return s.assign(e, jobs, vecs)
	}
	if !errors.Is(err, embed.ErrRejected) {
		return err
	}
	for _, j := range jobs {
		vecs, err := e.Embed(ctx, []string{j.text})
		switch {
		case errors.Is(err, embed.ErrRejected):
			j.skip = true
			s.logger.Warn("embeddings: the embedder refused an entity's text; it stays findable by keyword only",
				"entity_type", j.entity.Type, "id", j.entity.ID, "error", err)
		case err != nil:
			return err
		default:
			if err := s.assign(e, []*embedJob{j}, vecs); err != nil {
				return err
			}
		}
	}
	return nil
}

// assign checks the embedder's answer (an Embedder is trusted to keep its
// contract, but a stored vector of the wrong length would poison every
// later query) and gives each job its vector.
func (s *Service) assign(e embed.Embedder, jobs []*embedJob, vecs [][]float32) error {
	if len(vecs) != len(jobs) {
		return fmt.Errorf("embeddings: %d vectors for %d texts", len(vecs), len(jobs))
	}
	for i, v := range vecs {
		if len(v) == 0 || len(v) != e.Dimensions() {
			return fmt.Errorf("embeddings: a vector of %d dimensions from an embedder of %d", len(v), e.Dimensions())
		}
		jobs[i].vector = v
	}
	return nil
}

// embedText is the text an entity is embedded from: its name first, then
// its other searchable fields in schema order, cut to maxEmbedRunes.
func embedText(e *domain.Entity) string {
	k, err := domain.KindOf(e.Type)
	if err != nil {
		return ""
	}
	parts := []string{}
	if name := e.Str(k.NameField); name != "" {
		parts = append(parts, name)
	}
	for _, f := range k.Fields {
		if f.Searchable && f.Name != k.NameField {
			if v := e.Str(f.Name); v != "" {
				parts = append(parts, v)
			}
		}
	}
	text := strings.Join(parts, "\n")
	if utf8.RuneCountInString(text) > maxEmbedRunes {
		text = string([]rune(text)[:maxEmbedRunes])
	}
	return text
}

// contentHash identifies an embedded text.
func contentHash(text string) string {
	sum := sha256.Sum256([]byte(text))
	return hex.EncodeToString(sum[:16])
}
