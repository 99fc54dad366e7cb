package postgres

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/atomcp/atomcp/internal/store/sqlcore"
	"github.com/atomcp/atomcp/internal/store/sqlite"
)

// importTables are the tables ImportSQLite copies, parents before the
// rows that reference them. Their columns have the same names in both
// backends' schemas.
var importTables = []string{
	"organizations", "projects", "documents", "blocks", "requirements", "tests",
	"users", "organization_members", "project_members", "invitations", "workspace_contexts", "audit_log",
	"trace_links", "requirement_tests", "assignments",
	"oauth_clients", "local_accounts", "oauth_token_families", "oauth_codes", "oauth_refresh_tokens",
	"oauth_access_tokens", "oauth_denied_jtis", "oauth_signing_keys", "oauth_consents", "oauth_setup_tokens",
	"linked_identities", "browser_sessions", "server_secrets", "embedding_queue", "embeddings",
}

// importSkipped are SQLite tables and columns that are not copied: the
// migration bookkeeping of each backend is its own, and the search index
// is rebuilt from the entities (SQLite's FTS5 tables have no PostgreSQL
// counterpart).
var (
	// rate_limits holds only counts of the last minutes, signin_requests
	// only sign-ins of the last ten: nothing to keep; mcp_tasks only
	// results kept for a day and tasks the old server can no longer run.
	importSkippedTables = []string{"schema_migrations", "search_docs", "sqlite_sequence", "rate_limits", "mcp_tasks", "signin_requests"}
	importSkippedPrefix = []string{"search_index", "sqlite_stat"}
	// embeddings.dimensions is the length of the vector, which real[] keeps.
	importSkippedColumns = map[string][]string{"embeddings": {"dimensions"}}
)

// TableCount is the number of rows of one table.
type TableCount struct {
	Table string
	Rows  int
}

// ImportReport says what ImportSQLite copied.
type ImportReport struct {
	Tables []TableCount // in copy order
	// Indexed is the number of live entities written to the search index.
	Indexed int
}

// ImportSQLite copies every row of an atomcp SQLite database into this
// store, in one transaction: src must be migrated to the schema of this
// binary's SQLite backend, and this store migrated and empty. After the
// copy it rebuilds the search index, moves the id sequences past the
// copied ids and compares the row count of every table with the source's;
// any difference, a table or column of src it does not know, or a value
// PostgreSQL refuses rolls the whole copy back. Timestamps keep their
// microseconds (SQLite stored nanoseconds).
func (s *Store) ImportSQLite(ctx context.Context, db *sql.DB) (*ImportReport, error) {
	// One read transaction: every table is read from the same state of
	// the file, even if a server still writes to it.
	src, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("read the SQLite database: %w", err)
	}
	defer func() { _ = src.Rollback() }() // read-only: nothing to commit
	srcTables, err := sourceTables(ctx, src)
	if err != nil {
		return nil, err
	}
	report := &ImportReport{}
	from := sqlite.NewDialect()
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		report.Tables = report.Tables[:0]
		for _, table := range importTables {
			if err := checkEmpty(ctx, tx, table); err != nil {
				return err
			}
		}
		for _, table := range importTables {
			n, err := copyTable(ctx, src, tx, from, table, srcTables[table])
			if err != nil {
				return fmt.Errorf("copy %s: %w", table, err)
			}
			report.Tables = append(report.Tables, TableCount{table, n})
		}
		if _, err := tx.Exec(ctx, `SELECT setval(pg_get_serial_sequence('audit_log', 'id'), coalesce(max(id), 0) + 1, false) FROM audit_log`); err != nil {
			return fmt.Errorf("advance the audit_log ids: %w", err)
		}
		if _, err := tx.Exec(ctx, `SELECT setval('embeddings_seq', coalesce(max(seq), 0) + 1, false) FROM embeddings`); err != nil {
			return fmt.Errorf("advance the embedding seqs: %w", err)
		}
		indexed, err := rebuildSearchIndex(ctx, tx, s.D, s.Tables)
		if err != nil {
			return err
		}
		report.Indexed = indexed
		if err := verifyCounts(ctx, src, tx, report.Tables); err != nil {
			return err
		}
		// search_docs lists the live entities of the SQLite backend.
		var live int
		if err := src.QueryRowContext(ctx, `SELECT count(*) FROM search_docs`).Scan(&live); err == nil && live != report.Indexed {
			return fmt.Errorf("the SQLite database indexes %d live entities, the copy %d; nothing was copied", live, report.Indexed)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("import into PostgreSQL database %s: %w", s.where, err)
	}
	return report, nil
}

// sourceTables returns the columns of every table of src, in order. It
// refuses a source with a table this binary would not copy: a newer
// atomcp's SQLite database, whose data would be lost.
func sourceTables(ctx context.Context, src *sql.Tx) (map[string][]string, error) {
	rows, err := src.QueryContext(ctx, `SELECT t.name, c.name FROM sqlite_schema t, pragma_table_info(t.name) c
		WHERE t.type = 'table' ORDER BY t.name, c.cid`)
	if err != nil {
		return nil, fmt.Errorf("read the tables of the SQLite database: %w", err)
	}
	defer rows.Close()
	tables := map[string][]string{}
	for rows.Next() {
		var table, column string
		if err := rows.Scan(&table, &column); err != nil {
			return nil, err
		}
		tables[table] = append(tables[table], column)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var unknown []string
	for name := range tables {
		skipped := slices.ContainsFunc(importSkippedPrefix, func(p string) bool { return strings.HasPrefix(name, p) })
		if !skipped && !slices.Contains(importTables, name) && !slices.Contains(importSkippedTables, name) {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return nil, fmt.Errorf("the SQLite database has tables this atomcp does not know how to copy (%s); "+
			"it was probably written by a newer atomcp: copy with that version", strings.Join(unknown, ", "))
	}
	return tables, nil
}

func checkEmpty(ctx context.Context, tx pgx.Tx, table string) error {
	var any bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM `+sqlcore.QuoteIdent(table)+`)`).Scan(&any); err != nil {
		return fmt.Errorf("check that %s is empty: %w", table, err)
	}
	if any {
		return fmt.Errorf("the PostgreSQL database is not empty (table %s has rows); copy into a new database", table)
	}
	return nil
}

// destColumn is a column of a PostgreSQL table and its type.
type destColumn struct {
	Name, DataType, UDT string
}

// copyTable copies one table with COPY, converting each value to its
// PostgreSQL column's type, and returns the number of rows.
func copyTable(ctx context.Context, src *sql.Tx, tx pgx.Tx, from *sqlcore.Dialect, table string, srcCols []string) (int, error) {
	dest, err := destColumns(ctx, tx, table)
	if err != nil {
		return 0, err
	}
	if len(srcCols) == 0 {
		return 0, fmt.Errorf("the SQLite database has no table %s; is it an atomcp database, migrated by this version?", table)
	}
	var cols []destColumn
	for _, c := range srcCols {
		if slices.Contains(importSkippedColumns[table], c) {
			continue
		}
		i := slices.IndexFunc(dest, func(d destColumn) bool { return d.Name == c })
		if i < 0 {
			return 0, fmt.Errorf("the SQLite column %s.%s has no PostgreSQL counterpart; it was probably added by a newer atomcp", table, c)
		}
		cols = append(cols, dest[i])
	}
	names := make([]string, len(cols))
	quoted := make([]string, len(cols))
	for i, c := range cols {
		names[i], quoted[i] = c.Name, sqlcore.QuoteIdent(c.Name)
	}
	rows, err := src.QueryContext(ctx, `SELECT `+strings.Join(quoted, ", ")+` FROM `+sqlcore.QuoteIdent(table))
	if err != nil {
		return 0, fmt.Errorf("read: %w", err)
	}
	defer rows.Close()

	raw := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	row := 0
	n, err := tx.CopyFrom(ctx, pgx.Identifier{table}, names, pgx.CopyFromFunc(func() ([]any, error) {
		if !rows.Next() {
			return nil, rows.Err()
		}
		row++
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		out := make([]any, len(cols))
		for i, c := range cols {
			v, err := convert(from, c, raw[i])
			if err != nil {
				return nil, fmt.Errorf("row %d, column %s: %w", row, c.Name, err)
			}
			out[i] = v
		}
		return out, nil
	}))
	if err != nil {
		return 0, mapErr(err)
	}
	return int(n), nil
}

func destColumns(ctx context.Context, tx pgx.Tx, table string) ([]destColumn, error) {
	rows, err := tx.Query(ctx, `SELECT column_name, data_type, udt_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`, table)
	if err != nil {
		return nil, err
	}
	cols, err := pgx.CollectRows(rows, pgx.RowToStructByPos[destColumn])
	if err == nil && len(cols) == 0 {
		err = fmt.Errorf("no table %s in the PostgreSQL database; migrate it first", table)
	}
	return cols, err
}

// convert turns a SQLite value into the Go value pgx writes to the
// column: the SQLite backend's TEXT timestamps, 0/1 booleans, JSON texts
// and little-endian float32 blobs become timestamptz, boolean, jsonb,
// text[] and real[]. Timestamps, lists and vectors are decoded by the
// SQLite dialect (from), as that backend reads them.
func convert(from *sqlcore.Dialect, c destColumn, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch {
	case c.DataType == "timestamp with time zone":
		return fromSQLite(from.ScanTime, v)
	case c.UDT == "_text":
		l, err := fromSQLite(from.ScanList, v)
		if l == nil {
			l = []string{} // a stored JSON null
		}
		return l, err
	case c.UDT == "_float4":
		return fromSQLite(from.ScanVector, v)
	}
	if b, ok := v.([]byte); ok && c.DataType != "bytea" {
		v = string(b)
	}
	switch c.DataType {
	case "boolean":
		n, ok := v.(int64)
		if !ok {
			return nil, fmt.Errorf("a boolean stored as %T", v)
		}
		return n != 0, nil
	case "jsonb":
		s, ok := v.(string)
		if !ok || !json.Valid([]byte(s)) {
			return nil, errors.New("not a JSON text")
		}
		return json.RawMessage(s), nil
	}
	return v, nil
}

// fromSQLite decodes v with a scanner of the SQLite dialect.
func fromSQLite[T any](scan func(p *T) any, v any) (T, error) {
	var out T
	err := scan(&out).(sql.Scanner).Scan(v)
	return out, err
}

// verifyCounts compares the number of rows of every copied table in the
// transaction with the source's.
func verifyCounts(ctx context.Context, src *sql.Tx, tx pgx.Tx, copied []TableCount) error {
	var diffs []string
	for _, c := range copied {
		var want, got int
		if err := src.QueryRowContext(ctx, `SELECT count(*) FROM `+sqlcore.QuoteIdent(c.Table)).Scan(&want); err != nil {
			return fmt.Errorf("count %s in the SQLite database: %w", c.Table, err)
		}
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM `+sqlcore.QuoteIdent(c.Table)).Scan(&got); err != nil {
			return fmt.Errorf("count %s in the PostgreSQL database: %w", c.Table, err)
		}
		if got != want || c.Rows != want {
			diffs = append(diffs, fmt.Sprintf("%s: %d rows in SQLite, %d copied, %d in PostgreSQL", c.Table, want, c.Rows, got))
		}
	}
	if len(diffs) > 0 {
		return fmt.Errorf("row counts differ, so nothing was copied (was the SQLite database written to meanwhile?): %s", strings.Join(diffs, "; "))
	}
	return nil
}
