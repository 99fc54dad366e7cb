package main

import (
	"bytes"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/pgtest"
	"github.com/atomcp/atomcp/internal/store"
	"github.com/atomcp/atomcp/internal/store/storeopen"
)

// runWithDB runs the root command with ATOMCP_DATABASE_URL set to dbURL.
func runWithDB(t *testing.T, dbURL string, args ...string) (string, error) {
	t.Helper()
	t.Setenv("ATOMCP_DATABASE_URL", dbURL)
	t.Setenv("ATOMCP_LOG_FORMAT", "text")
	cmd := newRootCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(t.Context())
	return out.String(), err
}

func TestDBCopy(t *testing.T) {
	// A password that must never be printed (the test server trusts
	// local connections).
	u := pgtest.NewDB(t)
	u.User = url.UserPassword(u.User.Username(), "hunter2")
	pg := u.String()
	sqliteURL := "sqlite://" + filepath.Join(t.TempDir(), "atomcp.db")
	if out, err := runWithDB(t, sqliteURL, "seed", "--demo"); err != nil {
		t.Fatalf("seed: %v\n%s", err, out)
	}

	out, err := runWithDB(t, sqliteURL, "db", "copy", "--to", pg)
	if err != nil {
		t.Fatalf("db copy: %v\n%s", err, out)
	}
	if strings.Contains(out, "hunter2") {
		t.Errorf("db copy printed the password:\n%s", out)
	}
	if !regexp.MustCompile(`requirements\s+20\s`).MatchString(out) || !strings.Contains(out, "row counts verified") {
		t.Errorf("db copy output lacks the counts:\n%s", out)
	}

	// Both stores hold the same entities.
	ctx := t.Context()
	open := func(url string) store.Store {
		s, err := storeopen.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	src, dst := open(sqliteURL), open(pg)
	for _, k := range domain.Kinds() {
		q := store.EntityQuery{Type: k.Type, AllOrganizations: true, Deleted: store.IncludeDeleted, OrderBy: "id"}
		want, err := src.ListEntities(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		got, err := dst.ListEntities(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if got.Total != want.Total || got.Total == 0 && k.Type != domain.Block {
			t.Errorf("%s: %d after the copy; want %d", k.Type, got.Total, want.Total)
		}
	}
	if out, err := runWithDB(t, pg, "migrate"); err != nil || strings.Contains(out, "hunter2") || !strings.Contains(out, "up to date") {
		t.Errorf("migrate on the copy: %v\n%s", err, out)
	}

	// A second copy is refused: the target is not empty.
	out, err = runWithDB(t, sqliteURL, "db", "copy", "--to", pg)
	if err == nil || !strings.Contains(err.Error(), "not empty") || strings.Contains(err.Error()+out, "hunter2") {
		t.Errorf("second copy: %v\n%s; want a refusal without the password", err, out)
	}
}

func TestDBCopyBadInput(t *testing.T) {
	sqliteURL := "sqlite://" + filepath.Join(t.TempDir(), "atomcp.db")
	for _, tc := range []struct {
		db   string
		args []string
		want string
	}{
		{sqliteURL, []string{"db", "copy"}, "--to is required"},
		{sqliteURL, []string{"db", "copy", "--to", "sqlite://other.db"}, "postgres://"},
		{sqliteURL, []string{"db", "copy", "--to", "postgres://u:hunter2@127.0.0.1:1/x"}, "no SQLite database to copy"},
		{"postgres://u:hunter2@127.0.0.1:1/x", []string{"db", "copy", "--to", "postgres://u:hunter2@127.0.0.1:1/y"}, "copies from a SQLite database"},
	} {
		out, err := runWithDB(t, tc.db, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error()+out, "hunter2") {
			t.Errorf("atomcp %v = %v\n%s; want an error mentioning %q, without the password", tc.args, err, out, tc.want)
		}
	}
}
