package pgtest

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// The cluster answers, loses its connections when crashed, and keeps a
// committed row across a crash and restart.
func TestCluster(t *testing.T) {
	c := StartCluster(t)
	url := c.NewDB("cluster_test")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1)`); err != nil {
		t.Fatal(err)
	}
	c.Kill()
	if err := conn.Ping(ctx); err == nil {
		t.Fatal("a connection survived a crash of the server")
	}
	c.Start()
	conn, err = pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect after the restart: %v\n%s", err, c.Log())
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM t`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("rows after a crash: %d, %v; want the committed 1", n, err)
	}
	c.Restart("fast")
	again, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect after a fast restart: %v", err)
	}
	again.Close(ctx)
}
