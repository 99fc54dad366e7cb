// Package fanout carries the changes one replica commits to the other
// replicas on the same PostgreSQL database, with LISTEN/NOTIFY, so that
// resource subscribers on every replica hear of them.
//
// Each replica NOTIFYs after its transaction committed (a listener never
// hears of a change it could not read yet) and LISTENs on a connection of
// its own, outside the pool; when that connection breaks, it reconnects
// with a growing pause. Notifications sent while a replica was not
// listening are lost (PostgreSQL keeps none for absent listeners): a
// subscriber may miss an update then, never get a wrong one. SQLite needs
// none of this: its one process delivers changes to its own listeners.
package fanout

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/atomcp/atomcp/internal/atoms"
)

// channelPrefix names the notification channel; the schema is appended,
// so that deployments sharing one database in different schemas do not
// hear each other.
const channelPrefix = "atomcp_changes:"

// maxPayload is below PostgreSQL's 8000-byte limit on a payload; a larger
// set of changes goes out as several notifications.
const maxPayload = 7000

// publishTimeout bounds a NOTIFY: the write it reports has committed
// already, so a stalled database must not hold the writer much longer.
const publishTimeout = 5 * time.Second

// Reconnect pauses of the listening connection.
const (
	firstPause = 100 * time.Millisecond
	maxPause   = 30 * time.Second
)

// message is one notification: which replica sent it and what changed.
// Only the organization and project travel: they are what subscribers
// are keyed by, and they keep a payload small.
type message struct {
	Origin  string `json:"o"`
	Changes []ref  `json:"c"`
}

type ref struct {
	OrganizationID string `json:"org,omitempty"`
	ProjectID      string `json:"prj,omitempty"`
}

// Fanout connects one service to the other replicas.
type Fanout struct {
	pool    *pgxpool.Pool
	svc     *atoms.Service
	logger  *slog.Logger
	origin  string // this replica, to skip its own notifications
	channel string
	conn    *pgx.Conn // the listening connection; owned by run
	cancel  context.CancelFunc
	done    chan struct{}
}

// Start makes svc publish the changes it commits and deliver to its
// listeners the changes other replicas publish. It returns once this
// replica is listening (an error if it cannot), and keeps listening until
// Stop.
func Start(ctx context.Context, pool *pgxpool.Pool, svc *atoms.Service, logger *slog.Logger) (*Fanout, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	var schema string
	if err := pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return nil, fmt.Errorf("change notifications: read the schema: %w", err)
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	f := &Fanout{pool: pool, svc: svc, logger: logger, origin: hex.EncodeToString(b), channel: channelPrefix + schema, done: make(chan struct{})}
	conn, err := f.listen(ctx)
	if err != nil {
		return nil, fmt.Errorf("change notifications: %w", err)
	}
	f.conn = conn
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	f.cancel = cancel
	go f.run(runCtx) // #nosec G118 -- deliberate: listening outlives Start's ctx (WithoutCancel keeps its values) and ends with Stop, which cancels runCtx
	svc.OnCommit(f.publish)
	return f, nil
}

// Stop stops publishing and listening, and closes the listening connection.
func (f *Fanout) Stop() {
	f.svc.OnCommit(nil)
	f.cancel()
	<-f.done
}

// listen opens a connection of its own (LISTEN lasts as long as the
// session, so it cannot be a pooled connection) and LISTENs on it.
func (f *Fanout) listen(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, f.pool.Config().ConnConfig.Copy())
	if err != nil {
		return nil, fmt.Errorf("connect the listening connection: %w", err)
	}
	if _, err := conn.Exec(ctx, `LISTEN `+pgx.Identifier{f.channel}.Sanitize()); err != nil {
		conn.Close(context.Background())
		return nil, fmt.Errorf("LISTEN: %w", err)
	}
	return conn, nil
}

// run delivers notifications until ctx ends, reconnecting when the
// connection breaks.
func (f *Fanout) run(ctx context.Context) {
	defer close(f.done)
	conn := f.conn
	pause := firstPause
	for {
		if conn == nil {
			var err error
			if conn, err = f.listen(ctx); err != nil {
				if ctx.Err() != nil {
					return
				}
				f.logger.Warn("change notifications from other replicas paused; retrying", "err", err, "retry_in", pause)
				select {
				case <-ctx.Done():
					return
				case <-time.After(pause):
				}
				pause = min(pause*2, maxPause)
				continue
			}
			f.logger.Info("change notifications from other replicas resumed (changes made meanwhile were not announced)")
			pause = firstPause
		}
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			conn.Close(context.Background())
			conn = nil
			if ctx.Err() != nil {
				return
			}
			f.logger.Warn("lost the connection that hears other replicas' changes; reconnecting", "err", err)
			continue
		}
		f.deliver(ctx, n.Payload)
	}
}

func (f *Fanout) deliver(ctx context.Context, payload string) {
	var m message
	if err := json.Unmarshal([]byte(payload), &m); err != nil {
		f.logger.Debug("ignored a change notification that is not atomcp's", "err", err)
		return
	}
	if m.Origin == f.origin {
		return // delivered in this process when it committed
	}
	changes := make([]atoms.Change, 0, len(m.Changes))
	for _, r := range m.Changes {
		changes = append(changes, atoms.Change{OrganizationID: r.OrganizationID, ProjectID: r.ProjectID})
	}
	f.svc.Deliver(ctx, changes)
}

// publish NOTIFYs the other replicas of changes committed here. It runs on
// the writer's goroutine after the commit; a failure is logged, not
// returned, since the write itself succeeded.
func (f *Fanout) publish(ctx context.Context, changes []atoms.Change) {
	payloads, err := encode(f.origin, changes)
	if err != nil {
		f.logger.Warn("change notification not sent", "err", err)
		return
	}
	ctx, cancel := context.WithTimeout(ctx, publishTimeout)
	defer cancel()
	for _, p := range payloads {
		if _, err := f.pool.Exec(ctx, `SELECT pg_notify($1, $2)`, f.channel, p); err != nil {
			f.logger.Warn("change notification to other replicas not sent; their subscribers miss this update", "err", err)
			return
		}
	}
}

// encode turns changes into payloads of at most maxPayload bytes, each
// organization and project once.
func encode(origin string, changes []atoms.Change) ([]string, error) {
	seen := map[ref]bool{}
	var out []string
	m := message{Origin: origin}
	flush := func() error {
		if len(m.Changes) == 0 {
			return nil
		}
		b, err := json.Marshal(m)
		if err != nil {
			return err
		}
		out = append(out, string(b))
		m.Changes = nil
		return nil
	}
	size := 0
	for _, c := range changes {
		r := ref{OrganizationID: c.OrganizationID, ProjectID: c.ProjectID}
		if seen[r] || r == (ref{}) {
			continue
		}
		seen[r] = true
		b, err := json.Marshal(r)
		if err != nil {
			return nil, err
		}
		n := len(b) + 1             // and a comma
		if size+n > maxPayload-64 { // 64: the origin and the brackets
			if err := flush(); err != nil {
				return nil, err
			}
			size = 0
		}
		m.Changes = append(m.Changes, r)
		size += n
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return out, nil
}
