package sqlite

import (
	"errors"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store/sqlcore"
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
		return &sqlcore.Error{Kind: domain.ErrConflict, Cause: err,
			Msg: "another record has the same " + uniqueColumns(err)}
	case foreignKeyViolation:
		return &sqlcore.Error{Kind: domain.ErrInvalid, Cause: err,
			Msg: "a referenced record does not exist (FOREIGN KEY constraint failed)"}
	case otherViolation:
		return &sqlcore.Error{Kind: domain.ErrInvalid, Cause: err, Msg: constraintMessage(err)}
	}
	return err
}

// mapDeleteErr is mapErr for a delete, where a foreign key violation means
// the row is still referenced: a conflict with other data, not bad input.
func mapDeleteErr(err error) error {
	if classify(err) == foreignKeyViolation {
		return &sqlcore.Error{Kind: domain.ErrConflict, Cause: err,
			Msg: "other records still reference it (FOREIGN KEY constraint failed)"}
	}
	return mapErr(err)
}

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
