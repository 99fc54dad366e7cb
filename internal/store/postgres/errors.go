package postgres

import (
	"errors"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store/sqlcore"
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
		return &sqlcore.Error{Kind: domain.ErrConflict, Cause: err, Msg: "another record has the same " + qualified(pe)}
	case pe.Code == codeForeignKeyViolation:
		return &sqlcore.Error{Kind: domain.ErrInvalid, Cause: err, Msg: "a referenced record does not exist (" + qualified(pe) + ")"}
	case pe.Code == codeNotNullViolation:
		return &sqlcore.Error{Kind: domain.ErrInvalid, Cause: err, Msg: pe.TableName + "." + pe.ColumnName + " is required"}
	case pe.Code == codeCheckViolation:
		return &sqlcore.Error{Kind: domain.ErrInvalid, Cause: err, Msg: "the value breaks the rule " + pe.ConstraintName}
	case strings.HasPrefix(pe.Code, classDataException):
		return &sqlcore.Error{Kind: domain.ErrInvalid, Cause: err, Msg: pe.Message}
	}
	return err
}

// mapDeleteErr is mapErr for a delete, where a foreign key violation means
// the row is still referenced: a conflict with other data, not bad input.
func mapDeleteErr(err error) error {
	if pe := pgError(err); pe != nil && pe.Code == codeForeignKeyViolation {
		return &sqlcore.Error{Kind: domain.ErrConflict, Cause: err,
			Msg: "other records still reference it (" + pe.ConstraintName + ")"}
	}
	return mapErr(err)
}

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
