package sqlite

import (
	"encoding/json"
	"fmt"
	"math"

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
