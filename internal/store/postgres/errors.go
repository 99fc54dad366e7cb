package postgres

import (
	"errors"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/atomcp/atomcp/internal/domain"
)

// SQLSTATE codes the store branches on.
const (
	codeUniqueViolation     = "23505"
	codeForeignKeyViolation = "23503"
	codeNotNullViolation    = "23502"
	codeCheckViolation      = "23514"
	classDataException      = "22"
)

// pgError returns the server's error in err's chain, or nil.
func pgError(err error) *pgconn.PgError {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe
	}
	return nil
}

// isForeignKeyViolation reports whether err is a violated reference.
func isForeignKeyViolation(err error) bool {
	pe := pgError(err)
	return pe != nil && pe.Code == codeForeignKeyViolation
}

// mapErr turns a violated constraint of an insert or update into the
// domain's sentinel errors: a uniqueness rule into ErrConflict, a missing
// referenced row, a NOT NULL or CHECK failure or a value PostgreSQL
// cannot store into ErrInvalid. pgx.ErrNoRows becomes ErrNotFound. Other
// errors are returned unchanged.
func mapErr(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return domain.ErrNotFound
	}
	pe := pgError(err)
	if pe == nil {
		return err
	}
	switch {
	case pe.Code == codeUniqueViolation:
		return &dbError{kind: domain.ErrConflict, cause: err, msg: "another record has the same " + qualified(pe)}
	case pe.Code == codeForeignKeyViolation:
		return &dbError{kind: domain.ErrInvalid, cause: err, msg: "a referenced record does not exist (" + qualified(pe) + ")"}
	case pe.Code == codeNotNullViolation:
		return &dbError{kind: domain.ErrInvalid, cause: err, msg: pe.TableName + "." + pe.ColumnName + " is required"}
	case pe.Code == codeCheckViolation:
		return &dbError{kind: domain.ErrInvalid, cause: err, msg: "the value breaks the rule " + pe.ConstraintName}
	case strings.HasPrefix(pe.Code, classDataException):
		return &dbError{kind: domain.ErrInvalid, cause: err, msg: pe.Message}
	}
	return err
}

// mapDeleteErr is mapErr for a delete, where a foreign key violation means
// the row is still referenced: a conflict with other data, not bad input.
func mapDeleteErr(err error) error {
	if pe := pgError(err); pe != nil && pe.Code == codeForeignKeyViolation {
		return &dbError{kind: domain.ErrConflict, cause: err,
			msg: "other records still reference it (" + pe.ConstraintName + ")"}
	}
	return mapErr(err)
}

// dbError is a violated constraint in the domain's terms. Both the
// sentinel and the driver's error are in its chain; its message is the
// sentinel's followed by a readable description, without the driver's
// codes or the values involved.
type dbError struct {
	kind  error // domain.ErrConflict or domain.ErrInvalid
	cause error // the *pgconn.PgError
	msg   string
}

func (e *dbError) Error() string   { return e.kind.Error() + ": " + e.msg }
func (e *dbError) Unwrap() []error { return []error{e.kind, e.cause} }

// keyColumns matches the columns in the detail of a unique or foreign key
// violation: Key (project_id, external_id)=(…) already exists.
var keyColumns = regexp.MustCompile(`^Key \((.+?)\)=\(`)

// detailColumns returns the columns a violation's detail names, or nil.
// PostgreSQL reports them only in the message, so it is parsed here for
// wording alone; the kind of error was decided by its code.
func detailColumns(pe *pgconn.PgError) []string {
	m := keyColumns.FindStringSubmatch(pe.Detail)
	if m == nil {
		return nil
	}
	cols := strings.Split(m[1], ", ")
	for i, c := range cols {
		cols[i] = strings.Trim(c, `"`)
	}
	return cols
}

// qualified names a violation's columns as table.column, …, or its
// constraint when the detail is missing.
func qualified(pe *pgconn.PgError) string {
	cols := detailColumns(pe)
	if len(cols) == 0 {
		return pe.ConstraintName
	}
	for i, c := range cols {
		if pe.TableName != "" {
			cols[i] = pe.TableName + "." + c
		}
	}
	return strings.Join(cols, ", ")
}

// notFound turns pgx.ErrNoRows into domain.ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return domain.ErrNotFound
	}
	return err
}

// expectOneRow turns an update or delete that touched nothing into
// domain.ErrNotFound.
func expectOneRow(tag pgconn.CommandTag) error {
	if tag.RowsAffected() == 0 {
		return domain.ErrNotFound
	}
	return nil
}
