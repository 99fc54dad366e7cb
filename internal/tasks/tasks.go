// Package tasks runs MCP tool calls as durable tasks of the tasks extension
// (io.modelcontextprotocol/tasks): task-augmented tools/call, tasks/get,
// tasks/update and tasks/cancel, layered on go-sdk with receiving
// middleware and custom methods.
package tasks

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/atomcp/atomcp/internal/fastcall"
)

// ExtensionID is the extension's key under capabilities.extensions.
const ExtensionID = "io.modelcontextprotocol/tasks"

// The methods of the extension. tasks/result and tasks/list (the v1
// methods) are deliberately not registered, so they answer -32601.
const (
	MethodGet    = "tasks/get"
	MethodUpdate = "tasks/update"
	MethodCancel = "tasks/cancel"
)

// Support says whether one call of a tool may or must run as a task.
type Support int

const (
	// None: the call runs synchronously, as if the tool knew no tasks.
	None Support = iota
	// Optional: a task when the client declared the extension, otherwise
	// synchronous.
	Optional
	// Required: a task; a client without the extension gets -32021.
	Required
)

// Policy decides the Support of one call from its request (its arguments,
// or how far a multi-round exchange has got).
type Policy func(req *mcp.CallToolRequest) Support

// Options configures a Runtime.
type Options struct {
	Store Store
	// Owner returns the identity a request acts for; tasks are keyed by
	// it, so a caller sees only its own.
	Owner func(ctx context.Context, req mcp.Request) (string, error)
	// TTL is how long a task and its result are kept after it was created
	// (default 24h).
	TTL time.Duration
	// PollInterval is what clients are told to poll at (default 500ms);
	// running tasks also look at their row that often, to see a cancel
	// or an answer that reached another replica.
	PollInterval time.Duration
	// Heartbeat is how often a running task's process records that it is
	// alive (default 10s); a live task with no heartbeat for three of
	// these is marked failed by the sweeper of any replica.
	Heartbeat time.Duration
	Logger    *slog.Logger
	// OnReport, when set, sees every progress report of every task as it
	// is made, on the tool's goroutine (with the tool's context); it must
	// not block for long, since the tool waits for it.
	OnReport func(ctx context.Context, taskID, msg string)
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Runtime starts tasks and answers the tasks/* methods. It is shared by
// every session of a server: a stateless session ends with its request,
// the task does not.
type Runtime struct {
	opts Options

	mu       sync.Mutex
	policies map[string]Policy
	running  map[string]*run
	closed   bool
	wg       sync.WaitGroup
}

// New returns a Runtime; Store and Owner are required.
func New(opts Options) *Runtime {
	if opts.TTL <= 0 {
		opts.TTL = 24 * time.Hour
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = 500 * time.Millisecond
	}
	if opts.Heartbeat <= 0 {
		opts.Heartbeat = 10 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Store == nil || opts.Owner == nil {
		panic("tasks.New: Store and Owner are required") // a wiring error, caught by every test
	}
	return &Runtime{opts: opts, policies: map[string]Policy{}, running: map[string]*run{}}
}

// Declare says which calls of tool may or must run as tasks. A tool that
// is never declared always runs synchronously.
func (rt *Runtime) Declare(tool string, p Policy) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	rt.policies[tool] = p
}

// Always is the Policy of a tool whose every call has the same Support.
func Always(s Support) Policy { return func(*mcp.CallToolRequest) Support { return s } }

// Advertise adds the extension to the server's capabilities; call it on
// the ServerOptions before mcp.NewServer.
func Advertise(c *mcp.ServerCapabilities) { c.AddExtension(ExtensionID, nil) }

// Install registers tasks/get, tasks/update and tasks/cancel on s and the
// middleware that turns task-augmented tools/call into tasks.
func (rt *Runtime) Install(s *mcp.Server) error {
	if err := mcp.AddReceivingCustomMethod(s, MethodGet, rt.get); err != nil {
		return fmt.Errorf("register %s: %w", MethodGet, err)
	}
	if err := mcp.AddReceivingCustomMethod(s, MethodUpdate, rt.update); err != nil {
		return fmt.Errorf("register %s: %w", MethodUpdate, err)
	}
	if err := mcp.AddReceivingCustomMethod(s, MethodCancel, rt.cancel); err != nil {
		return fmt.Errorf("register %s: %w", MethodCancel, err)
	}
	fastcall.Use(s, rt.middleware)
	return nil
}

// Start fails the tasks a crashed process left live and removes expired
// ones, then keeps doing so every heartbeat until ctx ends.
func (rt *Runtime) Start(ctx context.Context) error {
	if err := rt.Sweep(ctx); err != nil {
		return err
	}
	rt.wg.Add(1)
	go func() {
		defer rt.wg.Done()
		t := time.NewTicker(rt.opts.Heartbeat)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := rt.Sweep(ctx); err != nil && ctx.Err() == nil {
					rt.opts.Logger.Warn("task sweep failed", "err", err)
				}
			}
		}
	}()
	return nil
}

// Sweep marks failed the live tasks whose process stopped sending
// heartbeats (it crashed or was killed), and deletes expired tasks.
func (rt *Runtime) Sweep(ctx context.Context) error {
	now := rt.opts.Now()
	// This process's own tasks are alive whatever their last heartbeat
	// says (a tool in a long SQLite transaction holds back the watcher's
	// writes); beat them first, so that the sweep cannot fail them.
	rt.mu.Lock()
	local := make([]*run, 0, len(rt.running))
	for _, r := range rt.running {
		local = append(local, r)
	}
	rt.mu.Unlock()
	for _, r := range local {
		r.beat(ctx, now)
	}
	n, err := rt.opts.Store.FailStaleTasks(ctx, now.Add(-3*rt.opts.Heartbeat), now,
		"the server running this task stopped before it finished", errorJSON(codeInternal, "the server running this task stopped before it finished"))
	if err != nil {
		return fmt.Errorf("fail interrupted tasks: %w", err)
	}
	if n > 0 {
		rt.opts.Logger.Warn("tasks interrupted by a server stop marked failed", "count", n)
	}
	if _, err := rt.opts.Store.DeleteExpiredTasks(ctx, now); err != nil {
		return fmt.Errorf("delete expired tasks: %w", err)
	}
	return nil
}

// Close stops the tasks this process runs (they end failed: their work
// cannot continue without the process) and waits for them, or for ctx.
func (rt *Runtime) Close(ctx context.Context) error {
	rt.mu.Lock()
	rt.closed = true
	for _, r := range rt.running {
		r.cancel(errShutdown)
	}
	rt.mu.Unlock()
	done := make(chan struct{})
	go func() { rt.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("tasks still running at shutdown: %w", ctx.Err())
	}
}

var (
	errCancelled = errors.New("the task was cancelled")
	errShutdown  = errors.New("the server shut down before the task finished")
)

func (rt *Runtime) policy(tool string) Policy {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return rt.policies[tool]
}

// newID returns an unguessable task id (128 random bits).
func newID() string { return rand.Text() }

func errorJSON(code int64, msg string) json.RawMessage {
	b, _ := json.Marshal(map[string]any{"code": code, "message": msg})
	return b
}
