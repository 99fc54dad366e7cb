package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/atomcp/atomcp/internal/atoms"
	"github.com/atomcp/atomcp/internal/config"
	"github.com/atomcp/atomcp/internal/embed"
	"github.com/atomcp/atomcp/internal/store"
	"github.com/atomcp/atomcp/internal/store/sqlite"
	"github.com/atomcp/atomcp/internal/store/storeopen"
	"github.com/atomcp/atomcp/internal/telemetry"
)

// storeSettings are the flags of a command that only opens the database:
// every other setting is still read from the environment and .env.
var storeSettings = []string{config.KeyDatabaseURL, config.KeyLogLevel, config.KeyLogFormat}

// loadConfig reads flags, the environment and ./.env, and builds the logger.
func loadConfig(cmd *cobra.Command) (*config.Config, *slog.Logger, error) {
	cfg, err := config.Load(cmd.Flags(), os.Environ(), ".env")
	if err != nil {
		return nil, nil, err
	}
	logger := newLogger(cmd.ErrOrStderr(), cfg.LogLevel, cfg.LogFormat)
	for _, w := range cfg.Warnings {
		logger.Warn(w)
	}
	return cfg, logger, nil
}

// startupLevelKey marks a context whose start-up lines (auth, embeddings,
// metrics) are logged at another level than info: debug on a terminal,
// where the start-up summary says the same in fewer lines.
type startupLevelKey struct{}

func withStartupLevel(ctx context.Context, l slog.Level) context.Context {
	return context.WithValue(ctx, startupLevelKey{}, l)
}

// startupLevel is the level of start-up lines: info unless ctx says.
func startupLevel(ctx context.Context) slog.Level {
	if l, ok := ctx.Value(startupLevelKey{}).(slog.Level); ok {
		return l
	}
	return slog.LevelInfo
}

// newLogger logs text on a terminal and JSON otherwise (unless told).
func newLogger(w io.Writer, level slog.Level, format string) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if format == "text" || (format != "json" && isTerminal(w)) {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// openStore opens the database and applies pending migrations.
func openStore(ctx context.Context, cfg *config.Config, logger *slog.Logger) (store.Store, error) {
	if err := checkDatabaseFile(cfg, logger); err != nil {
		return nil, err
	}
	st, err := storeopen.OpenWith(ctx, cfg.DatabaseURL, storeopen.Options{ConnectTimeout: cfg.DBConnectTimeout, StatementTimeout: cfg.DBStatementTimeout})
	if err != nil {
		return nil, err
	}
	applied, err := st.Migrate(ctx)
	if err != nil {
		st.Close()
		// Not the URL itself: a PostgreSQL URL may carry a password.
		return nil, fmt.Errorf("migrate the database (ATOMCP_DATABASE_URL): %w", err)
	}
	if len(applied) > 0 {
		logger.Info("database migrated", "applied", applied)
	}
	return st, nil
}

// checkDatabaseFile refuses a SQLite database that other users may read
// (it holds password hashes, token hashes and the sealed signing keys),
// unless ATOMCP_ALLOW_INSECURE_FILES=true, which only warns.
func checkDatabaseFile(cfg *config.Config, logger *slog.Logger) error {
	backend, path, err := storeopen.ParseURL(cfg.DatabaseURL)
	if err != nil || backend != storeopen.BackendSQLite {
		return nil // storeopen.Open reports a bad URL
	}
	if err := sqlite.InsecureMode(path); err != nil {
		if !cfg.AllowInsecureFiles {
			return err
		}
		logger.Warn("ATOMCP_ALLOW_INSECURE_FILES is on: starting anyway", "problem", err.Error())
	}
	return nil
}

// openService opens (and migrates) the store and builds the Atoms service
// with its embedding worker running. closeAll stops the worker, then
// closes the store. With obs, the service's store operations and the
// embedder's requests are measured; st is the store unmeasured.
func openService(ctx context.Context, cfg *config.Config, logger *slog.Logger, obs *observability) (st store.Store, svc *atoms.Service, closeAll func(), err error) {
	if st, err = openStore(ctx, cfg, logger); err != nil {
		return nil, nil, nil, err
	}
	if svc, err = newService(ctx, cfg, st, logger, obs); err != nil {
		st.Close()
		return nil, nil, nil, err
	}
	stop := startEmbeddings(ctx, svc, logger)
	return st, svc, func() { stop(); st.Close() }, nil
}

// newService builds the Atoms service with the configured embedder (an
// OpenAI-compatible endpoint when ATOMCP_EMBEDDINGS_URL is set, else the
// local one that needs no network).
func newService(ctx context.Context, cfg *config.Config, st store.Store, logger *slog.Logger, obs *observability) (*atoms.Service, error) {
	es := embed.Settings{URL: cfg.EmbeddingsURL, Model: cfg.EmbeddingsModel, APIKey: cfg.EmbeddingsAPIKey.Reveal()}
	if obs != nil {
		es.Client = obs.httpClient(nil, telemetry.TargetEmbeddings)
		st = obs.wrapStore(st)
	}
	emb, err := embed.New(es)
	if err != nil {
		return nil, fmt.Errorf("embeddings (ATOMCP_EMBEDDINGS_URL): %w", err)
	}
	logger.Log(ctx, startupLevel(ctx), "embeddings", "model", emb.Model())
	return atoms.New(st, atoms.WithLogger(logger), atoms.WithEmbedder(emb)), nil
}

// startEmbeddings runs the embedding worker of svc: it computes the
// vectors of rag_search and similarity in the background, so writes never
// wait for an embedder. The returned stop ends the worker and waits for it,
// so that it is done before the store closes.
func startEmbeddings(ctx context.Context, svc *atoms.Service, logger *slog.Logger) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := svc.RunEmbeddings(ctx); err != nil {
			logger.Error("the embedding worker stopped; rag_search answers with keywords", "err", err)
		}
	}()
	return func() { cancel(); <-done }
}
