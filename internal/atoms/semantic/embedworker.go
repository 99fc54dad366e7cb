package semantic

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

// Wake tells the worker that entities were written: it is called after
// every committed service write that changed something. Entity writes
// queue embeddings (in the store, in the same transaction), so the worker
// is woken to compute them now.
func (eng *Engine) Wake() { eng.wake.poke() }

// embedEvent tells tests what the worker did.
type embedEvent struct {
	Step     string // "prepare", "step" or "wait"
	Embedded int    // entities embedded (or whose vector was reused) by a step
	Err      error
	Backoff  time.Duration // for "wait": how long the worker waits (0: until woken or polled)
}

func (eng *Engine) tell(ev embedEvent) {
	if eng.hook != nil {
		eng.hook(ev)
	}
}

// Run computes the embeddings of written entities in the background
// until ctx ends, then returns nil. It first makes sure every
// live entity without a vector of the current model is queued (which, after
// a change of embedder or model, is every entity) and drops vectors of
// other models and of deleted entities; then it drains the queue in
// batches, waking as soon as Wake is called. When the embedder fails,
// the entities stay queued and the worker retries with a growing back-off;
// writes and keyword search are not affected.
//
// Run one per process; several replicas may each run one (an entity
// embedded twice is merely embedded twice).
func (eng *Engine) Run(ctx context.Context) error {
	if eng.store == nil {
		return errors.New("embeddings: the engine has no store")
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
		case <-eng.wake.c():
		default:
		}
		if !prepared {
			err = eng.Prepare(ctx)
			prepared = err == nil
			eng.tell(embedEvent{Step: "prepare", Err: err})
		}
		if prepared {
			n, err = eng.Step(ctx)
			eng.tell(embedEvent{Step: "step", Embedded: n, Err: err})
		}
		if ctx.Err() != nil {
			return nil
		}
		switch {
		case err != nil:
			backoff = min(max(2*backoff, embedMinBackoff), embedMaxBackoff)
			eng.logger.Warn("embeddings: the embedder or the store failed; entities stay queued and keyword search still works",
				"error", err, "model", eng.embedder.Model(), "retry_in", backoff)
		case n == embedBatch:
			backoff = 0
			continue // a full batch: more may be waiting
		default:
			backoff = 0
		}
		eng.tell(embedEvent{Step: "wait", Backoff: backoff})
		if !eng.waitForWork(ctx, backoff) {
			return nil
		}
	}
}

// waitForWork waits for a write of this process or for the poll interval;
// during a back-off it waits the full back-off, since writes do not make a
// failing embedder work. It returns false when ctx ended.
func (eng *Engine) waitForWork(ctx context.Context, backoff time.Duration) bool {
	wake := eng.wake.c()
	wait := embedPoll
	if eng.poll > 0 {
		wait = eng.poll
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

// Prepare is the start of Run: it learns the embedder's dimensions if
// needed (so that Model is complete), drops vectors nobody can use and
// queues what has no vector of this model.
func (eng *Engine) Prepare(ctx context.Context) error {
	e := eng.embedder
	if e.Dimensions() == 0 {
		if _, err := e.Embed(ctx, []string{"dimension probe"}); err != nil {
			return fmt.Errorf("embeddings: ask the embedder for its dimensions: %w", err)
		}
		eng.down.Store(0)
	}
	model := e.Model()
	pruned, err := eng.store.PruneEmbeddings(ctx, model)
	if err != nil {
		return err
	}
	queued, err := eng.store.RequeueEmbeddings(ctx, model, eng.now())
	if err != nil {
		return err
	}
	if pruned > 0 || queued > 0 {
		eng.logger.Info("embeddings: queued entities that lack a vector of the current model",
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

// Step embeds one batch of the queue and returns how many entities
// got a vector. Nothing is dequeued unless its vector was stored (or the
// entity is gone, or the embedder refused its text for good).
func (eng *Engine) Step(ctx context.Context) (int, error) {
	e := eng.embedder
	queue, err := eng.store.EmbeddingQueue(ctx, embedBatch)
	if err != nil || len(queue) == 0 {
		return 0, err
	}
	model := e.Model()
	jobs := make([]*embedJob, 0, len(queue))
	var todo []*embedJob
	for _, q := range queue {
		j := &embedJob{q: q}
		jobs = append(jobs, j)
		ent, err := eng.store.GetEntity(ctx, q.Type, q.ID)
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
		old, err := eng.store.GetEmbedding(ctx, ent.ID)
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
	if err := eng.embedJobs(ctx, e, todo); err != nil {
		return 0, err
	}
	if len(todo) > 0 {
		eng.down.Store(0) // it answers again: queries may use it
	}
	if e.Model() != model {
		// The embedder learned its dimensions during this step (an HTTP
		// embedder's first answer): vectors of the old name would be
		// orphans. Start over with the complete name.
		return 0, fmt.Errorf("embeddings: the model changed from %s to %s during a step", model, e.Model())
	}
	embedded := 0
	err = eng.store.InTx(ctx, func(tx store.Ops) error {
		for _, j := range jobs {
			switch {
			case j.entity == nil && !j.skip:
				if err := tx.DeleteEmbedding(ctx, j.q.ID); err != nil {
					return err
				}
			case j.entity != nil && j.vector != nil:
				emb := &store.Embedding{
					EntityType: j.entity.Type, EntityID: j.entity.ID, OrganizationID: j.entity.OrganizationID,
					ProjectID: j.entity.ProjectID(), Model: model, ContentHash: j.hash, Vector: j.vector, UpdatedAt: eng.now(),
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
func (eng *Engine) embedJobs(ctx context.Context, e embed.Embedder, jobs []*embedJob) error {
	if len(jobs) == 0 {
		return nil
	}
	texts := make([]string, len(jobs))
	for i, j := range jobs {
		texts[i] = j.text
	}
	vecs, err := e.Embed(ctx, texts)
	if err == nil {
		return eng.assign(e, jobs, vecs)
	}
	if !errors.Is(err, embed.ErrRejected) {
		return err
	}
	for _, j := range jobs {
		vecs, err := e.Embed(ctx, []string{j.text})
		switch {
		case errors.Is(err, embed.ErrRejected):
			j.skip = true
			eng.logger.Warn("embeddings: the embedder refused an entity's text; it stays findable by keyword only",
				"entity_type", j.entity.Type, "id", j.entity.ID, "error", err)
		case err != nil:
			return err
		default:
			if err := eng.assign(e, []*embedJob{j}, vecs); err != nil {
				return err
			}
		}
	}
	return nil
}

// assign checks the embedder's answer (an Embedder is trusted to keep its
// contract, but a stored vector of the wrong length would poison every
// later query) and gives each job its vector.
func (eng *Engine) assign(e embed.Embedder, jobs []*embedJob, vecs [][]float32) error {
	if len(vecs) != len(jobs) {
		return fmt.Errorf("embeddings: %d vectors for %d texts", len(vecs), len(jobs))
	}
	for i, v := range vecs {
		if len(v) == 0 || len(v) != e.Dimensions() {
			return fmt.Errorf("embeddings: a vector of %d dimensions from an embedder of %d", len(v), e.Dimensions())
		}
		jobs[i].vector = v // #nosec G602 -- len(vecs) == len(jobs) is checked above
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
