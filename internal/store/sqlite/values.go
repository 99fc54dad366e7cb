package sqlite

import (
	"encoding/json"
	"fmt"

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
			if b {
				return int64(1), nil
			}
			return int64(0), nil
		}
	case domain.JSON:
		data, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("%w: field %q: %v", domain.ErrInvalid, f.Name, err)
		}
		if string(data) == "null" {
			return nil, nil
		}
		return string(data), nil
	default:
		return nil, fmt.Errorf("field %q has unknown kind %d", f.Name, f.Kind)
	}
	return nil, fmt.Errorf("%w: field %q must be of type %s, got %T", domain.ErrInvalid, f.Name, f.Kind, v)
}

// decodeField converts a non-NULL column value back to the Go type of its
// field.
func decodeField(f domain.Field, raw any) (any, error) {
	if b, ok := raw.([]byte); ok {
		raw = string(b)
	}
	switch f.Kind {
	case domain.String, domain.Text, domain.Ref:
		if s, ok := raw.(string); ok {
			return s, nil
		}
	case domain.Int:
		if n, ok := raw.(int64); ok {
			return n, nil
		}
	case domain.Bool:
		if n, ok := raw.(int64); ok {
			return n != 0, nil
		}
	case domain.JSON:
		if s, ok := raw.(string); ok {
			var v any
			if err := json.Unmarshal([]byte(s), &v); err != nil {
				return nil, fmt.Errorf("stored JSON of field %q: %w", f.Name, err)
			}
			return v, nil
		}
	}
	return nil, fmt.Errorf("column %q holds %T, which is not a stored %s", f.Name, raw, f.Kind)
}
