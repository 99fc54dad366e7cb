package postgres

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/atomcp/atomcp/internal/domain"
)

// unavailableError is a statement that failed because the server could
// not be reached, went away (a restart, a crash) or did not answer in
// time. It matches domain.ErrUnavailable, so that the tools tell the
// caller to retry instead of reporting an internal error; the driver's
// error stays in the chain.
type unavailableError struct {
	msg   string
	cause error
}

func (e *unavailableError) Error() string        { return e.msg + ": " + describe(e.cause) }
func (e *unavailableError) Unwrap() error        { return e.cause }
func (e *unavailableError) Is(target error) bool { return target == domain.ErrUnavailable }

// SQLSTATE codes of a server that is going away or not there yet, and of
// statement_timeout.
const (
	classConnectionException = "08"
	codeAdminShutdown        = "57P01"
	codeCrashShutdown        = "57P02"
	codeCannotConnectNow     = "57P03"
	codeTooManyConnections   = "53300"
	codeQueryCanceled        = "57014"
)

// unavailable returns err as an unavailableError when it is the server's
// absence or silence, else err unchanged. ctx is the caller's context and
// stmt the one the statement ran with (derived from ctx with the statement
// timeout, or ctx itself): a deadline of stmt's that ctx does not share is
// the server not answering in time, while the caller's own deadline or
// cancellation is the caller's business and stays as it is.
func unavailable(ctx, stmt context.Context, timeout time.Duration, err error) error {
	if err == nil || errors.Is(err, domain.ErrUnavailable) {
		return err
	}
	if ctx.Err() != nil {
		return err
	}
	if pe := pgError(err); pe != nil {
		switch {
		case pe.Code == codeQueryCanceled && timeout > 0:
			return &unavailableError{"the database stopped a statement that ran longer than the statement timeout (ATOMCP_DB_STATEMENT_TIMEOUT, " + timeout.String() + ")", err}
		case strings.HasPrefix(pe.Code, classConnectionException), pe.Code == codeAdminShutdown, pe.Code == codeCrashShutdown,
			pe.Code == codeCannotConnectNow, pe.Code == codeTooManyConnections:
			return &unavailableError{"the database is unavailable", err}
		}
		return err
	}
	if stmt.Err() != nil {
		return &unavailableError{"the database did not answer within the statement timeout (ATOMCP_DB_STATEMENT_TIMEOUT, " + timeout.String() + ")", err}
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	switch {
	case errors.As(err, &connectErr), errors.As(err, &netErr), pgconn.Timeout(err), pgconn.SafeToRetry(err),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, pgconn.ErrConnClosed):
		return &unavailableError{"the database is unavailable", err}
	}
	return err
}
