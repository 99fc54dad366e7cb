package postgres

import (
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/atomcp/atomcp/internal/store/sqlcore"
)

// newDialect is how this backend stores what sqlcore writes: timestamptz,
// text[], jsonb, lower() and row locks.
func newDialect() *sqlcore.Dialect {
	return &sqlcore.Dialect{
		Time:         func(t time.Time) any { return t },
		ScanTime:     func(p *time.Time) any { return (*utcTime)(p) },
		ScanNullTime: func(p **time.Time) any { return nullUTCTime{p} },
		// nil is stored as an empty array, as the SQLite backend stores [].
		List: func(l []string) any {
			if l == nil {
				return []string{}
			}
			return l
		},
		ScanList:   func(p *[]string) any { return p },
		JSON:       func(data []byte) any { return json.RawMessage(data) },
		ForShare:   " FOR SHARE",
		ScanVector: func(p *[]float32) any { return p },
		LiveIndex:  "search_index",
		QueuedJoin: `JOIN search_index s ON s.entity_id = q.entity_id`, // a key lookup
		Fold:       "lower",
		StrPos:     "strpos",
		Binary:     ` COLLATE "C"`,
		In: func(col string, ids []string, p *sqlcore.Params) string {
			return col + " = ANY(" + p.Add(ids) + "::text[])"
		},
		MapErr:       mapErr,
		MapDeleteErr: mapDeleteErr,
		IsForeignKey: isForeignKeyViolation,
		// An advisory lock keyed by the name's hash: a collision only
		// serializes two unrelated sequences.
		TxLock:       `SELECT pg_advisory_xact_lock(hashtext($1))`,
		TxLockShared: `SELECT pg_advisory_xact_lock_shared(hashtext($1))`,
	}
}

// utcTime scans a timestamptz in UTC, without the detour through
// database/sql's Scanner.
type utcTime time.Time

func (t *utcTime) ScanTimestamptz(v pgtype.Timestamptz) error {
	if !v.Valid {
		return errors.New("NULL timestamp in a NOT NULL column")
	}
	*t = utcTime(v.Time.UTC())
	return nil
}

// nullUTCTime scans a timestamptz or NULL.
type nullUTCTime struct{ p **time.Time }

func (t nullUTCTime) ScanTimestamptz(v pgtype.Timestamptz) error {
	if !v.Valid {
		*t.p = nil
		return nil
	}
	u := v.Time.UTC()
	*t.p = &u
	return nil
}
