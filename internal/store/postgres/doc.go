// Package postgres is the store.Store backend on PostgreSQL
// (github.com/jackc/pgx/v5), for several atomcp replicas sharing one
// database.
//
// The SQL of the tables is sqlcore's, shared with the SQLite backend; this
// package supplies what is PostgreSQL's own: the pool, transactions and
// savepoints below, the schema (migrations/), the dialect (dialect.go),
// the translation of errors, full-text search with tsvector, the writing
// of embeddings under the seq lock, and ImportSQLite.
//
// # Connections
//
// A Store holds one pgxpool.Pool. Methods of the Store run on pooled
// connections in PostgreSQL's default READ COMMITTED isolation; a method
// that writes several rows (an entity with its search index entry and
// embedding queue entry, the revocation of a client's token families)
// runs them in a transaction of its own, and a read that needs two
// statements to agree (a page and its total) runs them in a REPEATABLE
// READ read-only transaction. InTx runs fn in one READ COMMITTED
// transaction. Unlike SQLite's single writer, transactions run
// concurrently: uniqueness, references and single use (codes, refresh
// tokens) are enforced by the database, not by the order of writers.
//
// The pool is configured by the URL (pgxpool's pool_max_conns and the
// like, and any run-time parameter such as search_path, which selects the
// schema the store uses).
//
// # Representation
//
// Ids are text COLLATE "C", timestamps timestamptz, read back in UTC (the
// database keeps microseconds; finer parts are dropped). Entity fields:
// String and Text are text, Int bigint, Bool boolean, JSON jsonb, Ref
// text. As in the SQLite backend, a field that is absent or nil is NULL,
// and so is an empty Ref; a NULL column is left out of Entity.Fields on
// read.
//
// # Errors
//
// Errors are recognised by their SQLSTATE and wrapped in the domain's
// sentinels: a unique violation wraps domain.ErrConflict and names the
// columns; a write that references a missing record wraps
// domain.ErrInvalid and names the reference; NOT NULL, CHECK and data
// errors (a NUL byte in a text, which PostgreSQL cannot store) wrap
// domain.ErrInvalid; deleting a record that others still reference wraps
// domain.ErrConflict; missing records wrap domain.ErrNotFound.
//
// Inside InTx, a statement that fails aborts the PostgreSQL transaction;
// the store runs each of its writes in a savepoint there, so that, as with
// SQLite, fn may handle the error (a conflict, say) and go on.
//
// # Search
//
// Full-text search uses a tsvector column with a GIN index, ranked by
// ts_rank and highlighted by ts_headline. Text is split into words (runs
// of letters and digits) and lower-cased by the store, the same way for
// what is indexed and what is searched, with the 'simple' configuration
// (no stemming, no stop words), so that every typed word is matched as a
// prefix as in the SQLite backend. Case-insensitive comparisons in SQL
// (list text filters, emails) use lower(), which folds non-ASCII letters
// only under a UTF-8 locale such as C.UTF-8 or en_US.UTF-8 (the default of
// Debian's createdb); under the plain C locale only ASCII is folded.
package postgres
