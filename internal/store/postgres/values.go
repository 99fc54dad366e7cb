package postgres

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/atomcp/atomcp/internal/domain"
)

// encodeField converts the Go value of an entity field to the value its
// column stores (see the package documentation). nil becomes NULL. Besides
// the documented Go types, Int fields accept any Go integer and integral
// floats (what JSON decoding produces), so callers need not convert.
func encodeField(f domain.Field, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch f.Kind {
	case domain.String, domain.Text:
		if s, ok := v.(string); ok {
			return s, nil
		}
	case domain.Ref:
		if s, ok := v.(string); ok {
			return nullIfEmpty(s), nil // "" references nothing
		}
	case domain.Int:
		if n, ok := toInt64(v); ok {
			return n, nil
		}
	case domain.Bool:
		if b, ok := v.(bool); ok {
			return b, nil
		}
	case domain.JSON:
		data, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("%w: field %q: %v", domain.ErrInvalid, f.Name, err)
		}
		if string(data) == "null" {
			return nil, nil
		}
		return json.RawMessage(data), nil
	default:
		return nil, fmt.Errorf("field %q has unknown kind %d", f.Name, f.Kind)
	}
	return nil, fmt.Errorf("%w: field %q must be of type %s, got %T", domain.ErrInvalid, f.Name, f.Kind, v)
}

// toInt64 converts a Go integer, or a float with an integral value, to int64.
func toInt64(v any) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, true
	case int:
		return int64(n), true
	case int32:
		return int64(n), true
	case int16:
		return int64(n), true
	case int8:
		return int64(n), true
	case uint32:
		return int64(n), true
	case uint16:
		return int64(n), true
	case uint8:
		return int64(n), true
	case uint:
		return int64(n), uint64(n) <= math.MaxInt64
	case uint64:
		return int64(n), n <= math.MaxInt64
	case float64:
		// 2^63 itself is representable as a float64 but not as an int64.
		ok := n == math.Trunc(n) && n >= math.MinInt64 && n < math.MaxInt64
		return int64(n), ok
	case float32:
		return toInt64(float64(n))
	case json.Number:
		i, err := n.Int64()
		return i, err == nil
	}
	return 0, false
}

// fieldDest is where one field's column is scanned to; value returns the
// Go value of the field, or ok false for NULL.
type fieldDest interface {
	dest() any
	value() (v any, ok bool, err error)
}

func newFieldDest(f domain.Field) fieldDest {
	switch f.Kind {
	case domain.Int:
		return &intDest{}
	case domain.Bool:
		return &boolDest{}
	case domain.JSON:
		return &jsonDest{name: f.Name}
	}
	return &textDest{}
}

type textDest struct{ v pgtype.Text }

func (d *textDest) dest() any                 { return &d.v }
func (d *textDest) value() (any, bool, error) { return d.v.String, d.v.Valid, nil }

type intDest struct{ v pgtype.Int8 }

func (d *intDest) dest() any                 { return &d.v }
func (d *intDest) value() (any, bool, error) { return d.v.Int64, d.v.Valid, nil }

type boolDest struct{ v pgtype.Bool }

func (d *boolDest) dest() any                 { return &d.v }
func (d *boolDest) value() (any, bool, error) { return d.v.Bool, d.v.Valid, nil }

type jsonDest struct {
	name string
	raw  []byte
}

func (d *jsonDest) dest() any { return &d.raw }
func (d *jsonDest) value() (any, bool, error) {
	if d.raw == nil {
		return nil, false, nil
	}
	var v any
	if err := json.Unmarshal(d.raw, &v); err != nil {
		return nil, false, fmt.Errorf("stored JSON of field %q: %w", d.name, err)
	}
	return v, true, nil
}
