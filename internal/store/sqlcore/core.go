// Package sqlcore is the SQL both store backends share: the queries of
// every table, written once against a Querier and a Dialect, which each
// backend (internal/store/sqlite, internal/store/postgres) supplies.
//
// Queries use PostgreSQL's numbered placeholders ($1, $2, …) and SQL that
// both engines accept (ON CONFLICT … DO UPDATE, RETURNING, CAST(… AS
// text)). SQLite takes $n as a named parameter, which modernc.org/sqlite
// binds to the nth argument, so no query is rewritten at run time. What
// the engines store differently (timestamps as TEXT in SQLite, timestamptz
// in PostgreSQL; lists as JSON text or text[]), how they fold case and how
// their errors read is the Dialect's; transactions, savepoints and the
// connection pools are the Conn's.
package sqlcore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

// Row is one result row (*sql.Row, pgx.Row).
type Row interface{ Scan(dest ...any) error }

// Rows is a result set (pgx.Rows; the SQLite backend wraps *sql.Rows).
type Rows interface {
	Row
	Next() bool
	Err() error
	Close()
}

// Querier runs statements: a connection pool or a transaction.
type Querier interface {
	// Exec returns the number of rows the statement touched.
	Exec(ctx context.Context, sql string, args ...any) (int64, error)
	Query(ctx context.Context, sql string, args ...any) (Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) Row
}

// Conn is how a backend runs writes and multi-statement reads.
type Conn interface {
	// Write runs one writing statement so that its failure leaves the
	// caller's transaction usable.
	Write(ctx context.Context, fn func(q Querier) error) error
	// Atomically runs fn in a transaction of its own, or as part of the
	// current one: all of fn's writes happen or none.
	Atomically(ctx context.Context, fn func(q Querier) error) error
	// Snapshot runs fn on a querier whose reads all see one state of the
	// database.
	Snapshot(ctx context.Context, fn func(q Querier) error) error
}

// Dialect is what differs between the engines in the values bound and
// scanned, the SQL of a few expressions and the errors.
type Dialect struct {
	// Time and NullTime encode a timestamp parameter (nil for NULL).
	Time func(t time.Time) any
	// ScanTime and ScanNullTime return the scan destination of a timestamp
	// column; times are read back in UTC.
	ScanTime     func(p *time.Time) any
	ScanNullTime func(p **time.Time) any
	// List and ScanList encode and scan a list of strings (never NULL).
	List     func(l []string) any
	ScanList func(p *[]string) any
	// JSON encodes the JSON text of an entity field.
	JSON func(data []byte) any
	// ScanVector scans an embedding's vector.
	ScanVector func(p *[]float32) any
	// LiveIndex is the table with one row (entity_id) per live entity;
	// QueuedJoin joins an embedding queue entry q to its search index row s.
	LiveIndex, QueuedJoin string
	// ForShare locks the rows a subquery reads (" FOR SHARE"), where the
	// engine has row locks.
	ForShare string
	// Fold is the SQL function that folds case for comparisons; StrPos
	// the one that finds a text in another (1-based, 0 for none).
	Fold, StrPos string
	// Binary makes a text sort byte by byte (` COLLATE "C"`), where that is
	// not the default.
	Binary string
	// NoLimit is the LIMIT an OFFSET without a limit needs.
	NoLimit string
	// In returns the condition "col is one of ids", adding its arguments
	// to p.
	In func(col string, ids []string, p *Params) string
	// MapErr turns a violated constraint into the domain's sentinels;
	// MapDeleteErr does the same for a delete, where a violated reference
	// means the row is still referenced.
	MapErr, MapDeleteErr func(err error) error
	// IsForeignKey reports a violated reference.
	IsForeignKey func(err error) bool
	// TxLock is the statement that takes a transaction-scoped lock named
	// by its one parameter ($1, text); empty where transactions are
	// serialized anyway.
	TxLock string
	// TxLockShared is TxLock's shared form: holders of the shared lock
	// do not wait for each other, only for (and block) a TxLock holder.
	TxLockShared string
}

// NullTime encodes an optional timestamp.
func (d *Dialect) NullTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return d.Time(*t)
}

// Ops implements the part of store.Ops that both backends share; each
// backend embeds it and adds search and embeddings.
type Ops struct {
	// Read runs reads: a reader pool outside a transaction, the
	// transaction inside one.
	Read Querier
	Conn Conn
	D    *Dialect
	Entities
	Search Search
	// PutVector inserts or replaces an embedding and sets its Seq.
	PutVector func(ctx context.Context, c Conn, e *store.Embedding) error
}

// Params collects the arguments of a statement built piece by piece.
type Params []any

// Add appends v and returns its placeholder.
func (p *Params) Add(v any) string {
	*p = append(*p, v)
	return "$" + strconv.Itoa(len(*p))
}

// NotFound turns "no rows" into domain.ErrNotFound (pgx.ErrNoRows wraps
// sql.ErrNoRows).
func NotFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return domain.ErrNotFound
	}
	return err
}

// expectOneRow turns an update or delete that touched nothing into
// domain.ErrNotFound.
func expectOneRow(n int64, err error) error {
	if err == nil && n == 0 {
		return domain.ErrNotFound
	}
	return err
}

// NullIfEmpty stores "" as NULL, for optional references and texts.
func NullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// exec runs one writing statement through Conn.Write and maps its error.
func (o Ops) exec(ctx context.Context, sql string, args ...any) (int64, error) {
	return o.execMapped(ctx, o.D.MapErr, sql, args...)
}

// deleteOne runs a DELETE, maps its error as a delete's
// (Dialect.MapDeleteErr) and turns deleting nothing into
// domain.ErrNotFound.
func (o Ops) deleteOne(ctx context.Context, sql string, args ...any) error {
	return expectOneRow(o.execMapped(ctx, o.D.MapDeleteErr, sql, args...))
}

// execMapped runs one writing statement through Conn.Write; mapErr maps
// its error.
func (o Ops) execMapped(ctx context.Context, mapErr func(error) error, sql string, args ...any) (int64, error) {
	var n int64
	err := o.Conn.Write(ctx, func(q Querier) error {
		var err error
		n, err = q.Exec(ctx, sql, args...)
		return err
	})
	if err != nil {
		return 0, mapErr(err)
	}
	return n, nil
}

// consumeOnce marks the single-use record of table whose key column holds
// hash used at at, with a conditional UPDATE … WHERE used_at IS NULL RETURNING its
// columns, which scan reads. If that matched nothing it re-reads the
// record to say why: missing (domain.ErrNotFound) or used before
// (store.ErrAlreadyUsed, returned with the record).
func consumeOnce[T any](ctx context.Context, o Ops, scan func(Row) (*T, error), table, key, columns, hash string, at time.Time) (*T, error) {
	var v *T
	err := o.Conn.Write(ctx, func(q Querier) error {
		var err error
		v, err = scan(q.QueryRow(ctx, `UPDATE `+table+` SET used_at = $2 WHERE `+key+` = $1 AND used_at IS NULL RETURNING `+columns,
			hash, o.D.Time(at)))
		return err
	})
	if err == nil {
		return v, nil
	}
	if !errors.Is(err, domain.ErrNotFound) {
		return nil, o.D.MapErr(err)
	}
	if v, err = scan(o.Read.QueryRow(ctx, `SELECT `+columns+` FROM `+table+` WHERE `+key+` = $1`, hash)); err != nil {
		return nil, err
	}
	return v, store.ErrAlreadyUsed
}

// queryAll runs a query and scans every row with scan (a T is usually a
// pointer to a record).
func queryAll[T any](ctx context.Context, q Querier, scan func(Row) (T, error), sql string, args ...any) ([]T, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// wrapf gives err the context format and args describe, as fmt.Errorf
// with ": %w" would; a nil err stays nil, so a method can end with
// return wrapf(err, …).
func wrapf(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
}
