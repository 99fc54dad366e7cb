package sqlite

import (
	"database/sql"
	"fmt"
	"time"
)

// timeLayout is how timestamps are stored: UTC, fixed width, nine
// fractional digits. Fixed width matters: RFC3339Nano drops trailing zeros,
// and "…05Z" would then sort after "…05.1Z" as text.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

func encodeTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func decodeTime(s string) (time.Time, error) {
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("stored timestamp %q: %w", s, err)
	}
	return t, nil
}

// encodeTimePtr stores nil as NULL.
func encodeTimePtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return encodeTime(*t)
}

func decodeTimePtr(s sql.NullString) (*time.Time, error) {
	if !s.Valid {
		return nil, nil
	}
	t, err := decodeTime(s.String)
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// nullIfEmpty stores "" as NULL, for optional references and JSON texts.
func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
