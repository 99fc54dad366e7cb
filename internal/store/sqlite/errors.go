package sqlite

import (
	"errors"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/atomcp/atomcp/internal/domain"
)

// constraint classifies a SQLite error by its extended result code.
type constraint int

const (
	notConstraint constraint = iota
	uniqueViolation
	foreignKeyViolation
	otherViolation // NOT NULL, CHECK
)

func classify(err error) constraint {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return notConstraint
	}
	switch se.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return uniqueViolation
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return foreignKeyViolation
	case sqlite3.SQLITE_CONSTRAINT_NOTNULL, sqlite3.SQLITE_CONSTRAINT_CHECK:
		return otherViolation
	}
	return notConstraint
}

// mapErr turns a constraint violation of an insert or update into the
// domain's sentinel errors: a uniqueness rule into ErrConflict, a missing
// referenced row or a NOT NULL/CHECK failure into ErrInvalid. Other errors
// are returned unchanged.
func mapErr(err error) error {
	switch classify(err) {
	case uniqueViolation:
		return &dbError{kind: domain.ErrConflict, cause: err,
			msg: "another record has the same " + uniqueColumns(err)}
	case foreignKeyViolation:
		return &dbError{kind: domain.ErrInvalid, cause: err,
			msg: "a referenced record does not exist (FOREIGN KEY constraint failed)"}
	case otherViolation:
		return &dbError{kind: domain.ErrInvalid, cause: err, msg: constraintMessage(err)}
	}
	return err
}

// mapDeleteErr is mapErr for a delete, where a foreign key violation means
// the row is still referenced: a conflict with other data, not bad input.
func mapDeleteErr(err error) error {
	if classify(err) == foreignKeyViolation {
		return &dbError{kind: domain.ErrConflict, cause: err,
			msg: "other records still reference it (FOREIGN KEY constraint failed)"}
	}
	return mapErr(err)
}

// dbError is a constraint violation in the domain's terms. Both the
// sentinel and the driver's error are in its chain; its message is the
// sentinel's followed by a readable description, without the driver's
// codes.
type dbError struct {
	kind  error // domain.ErrConflict or domain.ErrInvalid
	cause error // the *sqlite.Error
	msg   string
}

func (e *dbError) Error() string   { return e.kind.Error() + ": " + e.msg }
func (e *dbError) Unwrap() []error { return []error{e.kind, e.cause} }

// constraintMessage is the SQLite message of a constraint violation
// ("UNIQUE constraint failed: projects.slug") without the driver's prefix
// and result code.
func constraintMessage(err error) string {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "constraint failed: ")
	if j := strings.LastIndex(msg, " ("); j >= 0 {
		msg = msg[:j]
	}
	return msg
}

// uniqueColumns names the columns of a violated uniqueness rule. SQLite
// reports them only in the message ("UNIQUE constraint failed:
// projects.organization_id, projects.slug"), so the message is parsed here
// for wording alone; the kind of error was decided by its code.
func uniqueColumns(err error) string {
	const marker = "constraint failed: "
	msg := constraintMessage(err)
	if i := strings.LastIndex(msg, marker); i >= 0 {
		return msg[i+len(marker):]
	}
	return "unique values"
}
