package sqlite

import (
	"context"
	"database/sql/driver"
	"fmt"
	"strings"

	"modernc.org/sqlite"
)

// foldFunc is the SQL name of fold. It is used in queries only.
const foldFunc = "atomcp_fold"

// fold is the case folding of text search and email comparison. Queries
// apply it to both the column (through foldFunc) and the parameter, so that
// "Ü" matches "ü", which SQLite's ASCII-only LIKE and lower() miss.
func fold(s string) string { return strings.ToLower(s) }

// newDriver returns a driver of its own with foldFunc registered, so that
// the function reaches this store's connections without registering
// anything process-wide.
func newDriver() (*sqlite.Driver, error) {
	d := &sqlite.Driver{}
	err := d.RegisterDeterministicScalarFunction(foldFunc, 1, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		switch v := args[0].(type) {
		case string:
			return fold(v), nil
		case []byte:
			return fold(string(v)), nil
		default:
			return v, nil
		}
	})
	if err != nil {
		return nil, fmt.Errorf("register %s: %w", foldFunc, err)
	}
	return d, nil
}

// connector opens connections to one DSN with a private driver; it is how
// sql.OpenDB reaches a driver that was not registered with sql.Register.
type connector struct {
	driver *sqlite.Driver
	dsn    string
	cache  *pageCache // the Store's page cache sum
}

func (c connector) Connect(ctx context.Context) (driver.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	dc, err := c.driver.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	cc, err := newCachingConn(dc)
	if err != nil {
		return nil, err
	}
	cc.cache = c.cache
	return cc, nil
}

func (c connector) Driver() driver.Driver { return c.driver }
