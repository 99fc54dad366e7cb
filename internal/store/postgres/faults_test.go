package postgres_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/pgtest"
	"github.com/atomcp/atomcp/internal/store"
	"github.com/atomcp/atomcp/internal/store/postgres"
)

// On a server that crashed, every call fails with domain.ErrUnavailable
// (reads, writes, transactions) and the pool recovers by itself once the
// server is back; a statement that waits longer than the statement timeout
// is stopped by the server and reported the same way, naming the setting.
func TestUnavailableAndStatementTimeout(t *testing.T) {
	cluster := pgtest.StartCluster(t)
	url := cluster.NewDB("faults")
	ctx := t.Context()
	s, err := postgres.OpenWith(ctx, url, postgres.Options{StatementTimeout: time.Second, ConnectTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	read := func() error {
		_, err := s.GetUserBySubject(ctx, "https://issuer.example", "nobody")
		if errors.Is(err, domain.ErrNotFound) {
			return nil
		}
		return err
	}
	inTx := func() error {
		return s.InTx(ctx, func(tx store.Ops) error {
			_, err := tx.GetUserBySubject(ctx, "https://issuer.example", "nobody")
			if errors.Is(err, domain.ErrNotFound) {
				return nil
			}
			return err
		})
	}
	if err := read(); err != nil {
		t.Fatal(err)
	}

	cluster.Kill()
	for name, f := range map[string]func() error{"read": read, "transaction": inTx, "ping": func() error { return s.Ping(ctx) }} {
		if err := f(); !errors.Is(err, domain.ErrUnavailable) {
			t.Errorf("%s with the server crashed: %v; want domain.ErrUnavailable", name, err)
		}
	}
	cluster.Start()
	for name, f := range map[string]func() error{"read": read, "transaction": inTx, "ping": func() error { return s.Ping(ctx) }} {
		if err := f(); err != nil {
			t.Errorf("%s once the server is back: %v; want the pool to have reconnected", name, err)
		}
	}

	// A table lock held elsewhere makes the read wait past the timeout.
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `LOCK TABLE users IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	err = read()
	_ = tx.Rollback(ctx)
	if !errors.Is(err, domain.ErrUnavailable) || !strings.Contains(err.Error(), "ATOMCP_DB_STATEMENT_TIMEOUT") {
		t.Errorf("read blocked past the statement timeout: %v; want domain.ErrUnavailable naming ATOMCP_DB_STATEMENT_TIMEOUT", err)
	}
	if err := read(); err != nil {
		t.Errorf("read after the lock was released: %v", err)
	}
}
