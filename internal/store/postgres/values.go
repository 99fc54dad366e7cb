package postgres

import (
	"encoding/json"
	"fmt"

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
		if n, ok := domain.ToInt64(v); ok {
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
