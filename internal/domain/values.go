package domain

import (
	"encoding/json"
	"math"
)

// ToInt64 converts a Go integer, or a float with an integral value (what
// JSON decoding produces), to int64; ok is false when it cannot exactly.
func ToInt64(v any) (n int64, ok bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case int:
		return int64(x), true
	case int32:
		return int64(x), true
	case int16:
		return int64(x), true
	case int8:
		return int64(x), true
	case uint32:
		return int64(x), true
	case uint16:
		return int64(x), true
	case uint8:
		return int64(x), true
	case uint:
		return int64(x), uint64(x) <= math.MaxInt64 // #nosec G115 -- the second result says whether the conversion was exact; callers refuse it otherwise
	case uint64:
		return int64(x), x <= math.MaxInt64 // #nosec G115 -- the second result says whether the conversion was exact; callers refuse it otherwise
	case float64:
		// 2^63 itself is representable as a float64 but not as an int64.
		return int64(x), x == math.Trunc(x) && x >= math.MinInt64 && x < math.MaxInt64
	case float32:
		return ToInt64(float64(x))
	case json.Number:
		i, err := x.Int64()
		return i, err == nil
	}
	return 0, false
}
