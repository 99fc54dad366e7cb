package sqlite

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/atomcp/atomcp/internal/store/sqlcore"
)

// NewDialect is how this backend stores what sqlcore writes: timestamps
// and lists as TEXT, case folded by foldFunc. The PostgreSQL backend's
// import decodes SQLite values with its scanners.
func NewDialect() *sqlcore.Dialect {
	return &sqlcore.Dialect{
		Time:         func(t time.Time) any { return encodeTime(t) },
		ScanTime:     func(p *time.Time) any { return (*textTime)(p) },
		ScanNullTime: func(p **time.Time) any { return nullTextTime{p} },
		List:         func(l []string) any { return encodeList(l) },
		ScanList:     func(p *[]string) any { return (*textList)(p) },
		JSON:         func(data []byte) any { return string(data) },
		ScanVector:   func(p *[]float32) any { return (*blobVector)(p) },
		LiveIndex:    "search_docs",
		// Through search_docs (both lookups by key); CROSS JOIN fixes that
		// order: left to itself, SQLite scanned the whole search index for
		// the organizations instead (50 ms at 100,000 entities, with an
		// empty queue).
		QueuedJoin: `CROSS JOIN search_docs d ON d.entity_id = q.entity_id CROSS JOIN search_index s ON s.rowid = d.rowid`,
		Fold:       foldFunc,
		StrPos:     "instr",
		NoLimit:    " LIMIT -1", // SQLite needs a LIMIT before OFFSET
		// One parameter for the whole list (json_each) keeps the statement
		// text fixed and the parameter count far from SQLite's limit.
		In: func(col string, ids []string, p *sqlcore.Params) string {
			b, _ := json.Marshal(ids) // a []string always marshals
			return col + " IN (SELECT value FROM json_each(" + p.Add(string(b)) + "))"
		},
		MapErr:       mapErr,
		MapDeleteErr: mapDeleteErr,
		IsForeignKey: func(err error) bool { return classify(err) == foreignKeyViolation },
	}
}

// timeLayout is how timestamps are stored: UTC, fixed width, nine
// fractional digits. Fixed width matters: RFC3339Nano drops trailing zeros,
// and "…05Z" would then sort after "…05.1Z" as text.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

func encodeTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func decodeTime(s string) (time.Time, error) {
	if t, ok := parseStoredTime(s); ok {
		return t, nil
	}
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("stored timestamp %q: %w", s, err)
	}
	return t, nil
}

// textTime scans a stored timestamp.
type textTime time.Time

func (t *textTime) Scan(src any) error {
	s, ok := text(src)
	if !ok {
		return fmt.Errorf("stored timestamp is %T, not text", src)
	}
	v, err := decodeTime(s)
	*t = textTime(v)
	return err
}

// nullTextTime scans a stored timestamp or NULL.
type nullTextTime struct{ p **time.Time }

func (t nullTextTime) Scan(src any) error {
	if src == nil {
		*t.p = nil
		return nil
	}
	var v time.Time
	if err := (*textTime)(&v).Scan(src); err != nil {
		return err
	}
	*t.p = &v
	return nil
}

// textList scans a list stored as a JSON array.
type textList []string

func (l *textList) Scan(src any) error {
	s, ok := text(src)
	if !ok {
		return fmt.Errorf("stored list is %T, not text", src)
	}
	if err := json.Unmarshal([]byte(s), (*[]string)(l)); err != nil {
		return fmt.Errorf("stored list %q: %w", s, err)
	}
	return nil
}

func encodeList(l []string) string {
	if l == nil {
		l = []string{}
	}
	b, _ := json.Marshal(l) // a []string always marshals
	return string(b)
}

func text(src any) (string, bool) {
	switch v := src.(type) {
	case string:
		return v, true
	case []byte:
		return string(v), true
	}
	return "", false
}
