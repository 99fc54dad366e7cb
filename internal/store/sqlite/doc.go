// Package sqlite is the store.Store backend on an embedded SQLite database
// (modernc.org/sqlite, pure Go).
//
// The SQL of the tables is sqlcore's, shared with the PostgreSQL backend;
// this package supplies what is SQLite's own: the connections and
// transactions below, the schema (migrations/), the dialect (dialect.go:
// how values are stored, see Representation), the translation of errors,
// full-text search with FTS5 and the writing of embeddings.
//
// # Connections
//
// SQLite allows one writer at a time. A Store therefore keeps two pools on
// the same file: a writer pool of exactly one connection, whose transactions
// begin IMMEDIATE, and a pool of read-only connections. Writers queue for
// the one connection instead of failing with SQLITE_BUSY, and readers run
// beside the writer thanks to WAL journaling. Store methods that only read
// use the readers; InTx and every write use the writer.
//
// Writers take the writer connection first come, first served
// (writerqueue.go): each statement outside a transaction, and each
// transaction from BEGIN to COMMIT or ROLLBACK, waits in a FIFO queue in
// front of database/sql's pool, whose own hand-over picks a waiter at
// random and so can pass one write over without bound. A write therefore
// waits for at most the writers that asked before it; one whose context
// ends leaves the queue with the context's error.
//
// A consequence: inside InTx, use only the Tx passed to fn. Calling a write
// method of the Store itself from fn waits for the writer's turn that fn
// holds, until the context ends.
//
// # Representation
//
// Timestamps are stored as TEXT in UTC with nine fractional digits
// ("2006-01-02T15:04:05.000000000Z"): exact to the nanosecond, readable with
// any SQLite tool, and ordered correctly as text. They are read back in UTC.
//
// Entity fields: String and Text are TEXT, Int is INTEGER (int64), Bool is
// INTEGER 0/1, JSON is TEXT holding the marshalled value, Ref is TEXT. A
// field that is absent from Entity.Fields or nil is written as NULL, and so
// is an empty Ref (an empty id references nothing); a NULL column is left
// out of Entity.Fields on read. An empty String or Text stays "".
//
// # Errors
//
// Constraint violations are recognised by SQLite's extended result codes
// and wrapped in the domain's sentinels: a UNIQUE or PRIMARY KEY violation
// wraps domain.ErrConflict and names the columns; a write that references a
// missing record (FOREIGN KEY), lacks a required field (NOT NULL) or breaks a
// CHECK wraps domain.ErrInvalid, naming the missing reference where it can.
// Deleting a record that others still reference wraps domain.ErrConflict:
// the store never cascades deletes along entity references. Missing records
// wrap domain.ErrNotFound.
//
// Text search folds case with Go's Unicode rules (SQLite's own LIKE folds
// only ASCII) through a SQL function registered on this package's private
// driver; the schema never uses it, so the file stays readable by any
// SQLite tool.
package sqlite
