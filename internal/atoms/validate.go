package atoms

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/atomcp/atomcp/internal/domain"
)

// Length limits of entity fields. A short-text field (a name, a title)
// holds at most MaxStringChars bytes, a long-text field (description,
// content) at most MaxTextChars characters; both are far above real use
// and bound what one entity costs to store, index and search.
const (
	MaxStringChars = 1000
	MaxTextChars   = 100 << 10
)

// bookkeeping are read-only columns a caller may see but never set; they are
// silently ignored in input so that a record read back can be sent again.
var bookkeeping = []string{"id", "created_at", "updated_at", "created_by", "updated_by", "is_deleted", "deleted_at", "deleted_with", "type_name", "entity_type"}

// coerceFields checks caller data against the kind's fields and converts
// values to their storage types. It returns the fields to write. Generated
// fields may not be set; unknown fields are refused by name.
func coerceFields(k *domain.Kind, data map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(data))
	for name, v := range data {
		f, ok := k.Field(name)
		if !ok {
			if slices.Contains(bookkeeping, name) || (name == "organization_id" && k.Type == domain.Organization) {
				continue
			}
			return nil, fmt.Errorf("%w: data.%s is not a field of %s; accepted: %s", domain.ErrInvalid, name, k.Type, strings.Join(settableFields(k), ", "))
		}
		if f.Generated {
			return nil, fmt.Errorf("%w: data.%s of %s is generated and cannot be set", domain.ErrInvalid, name, k.Type)
		}
		cv, err := coerceValue(f, v)
		if err != nil {
			return nil, fmt.Errorf("%w: data.%s: %v", domain.ErrInvalid, name, err)
		}
		out[name] = cv
	}
	return out, nil
}

func settableFields(k *domain.Kind) []string {
	var names []string
	for _, f := range k.Fields {
		if !f.Generated {
			names = append(names, f.Name)
		}
	}
	return names
}

// coerceValue converts one JSON-decoded value to the field's storage type.
// Models often send numbers and booleans as strings; those are accepted
// when the conversion is exact.
func coerceValue(f domain.Field, v any) (any, error) {
	if v == nil {
		if f.Required {
			return nil, fmt.Errorf("is required and cannot be null")
		}
		return nil, nil
	}
	switch f.Kind {
	case domain.String, domain.Text, domain.Ref:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("must be a string, got %s", jsonType(v))
		}
		if f.Required && strings.TrimSpace(s) == "" {
			return nil, fmt.Errorf("is required and cannot be empty")
		}
		if len(f.Enum) > 0 && !slices.Contains(f.Enum, s) {
			return nil, fmt.Errorf("%q is not accepted; accepted: %s", s, strings.Join(f.Enum, ", "))
		}
		if f.Kind == domain.String && len(s) > MaxStringChars {
			return nil, fmt.Errorf("is %d characters long; at most %d are accepted (use a text field such as description for long text)", len(s), MaxStringChars)
		}
		if f.Kind == domain.Text && len(s) > MaxTextChars {
			if n := utf8.RuneCountInString(s); n > MaxTextChars {
				return nil, fmt.Errorf("is %d characters long; at most %d are accepted", n, MaxTextChars)
			}
		}
		return s, nil
	case domain.Int:
		switch n := v.(type) {
		case float64:
			if n != math.Trunc(n) || math.Abs(n) > 1<<53 {
				return nil, fmt.Errorf("must be a whole number, got %v", n)
			}
			return int64(n), nil
		case int:
			return int64(n), nil
		case int64:
			return n, nil
		case json.Number:
			i, err := n.Int64()
			if err != nil {
				return nil, fmt.Errorf("must be a whole number, got %s", n)
			}
			return i, nil
		case string:
			var i int64
			if _, err := fmt.Sscan(n, &i); err != nil || fmt.Sprint(i) != strings.TrimSpace(n) {
				return nil, fmt.Errorf("must be a whole number, got %q", n)
			}
			return i, nil
		}
		return nil, fmt.Errorf("must be a whole number, got %s", jsonType(v))
	case domain.Bool:
		switch b := v.(type) {
		case bool:
			return b, nil
		case string:
			switch strings.ToLower(b) {
			case "true":
				return true, nil
			case "false":
				return false, nil
			}
		}
		return nil, fmt.Errorf("must be true or false, got %s", jsonType(v))
	case domain.JSON:
		return v, nil
	}
	return nil, fmt.Errorf("unsupported field kind %v", f.Kind)
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case float64, int, int64, json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// applyDefaults fills absent fields that have a default and checks that
// every required field is present.
func applyDefaults(k *domain.Kind, fields map[string]any) error {
	for _, f := range k.Fields {
		if _, ok := fields[f.Name]; ok || f.Generated {
			continue
		}
		if f.Required {
			return fmt.Errorf("%w: data.%s is required to create a %s (required: %s)", domain.ErrInvalid, f.Name, k.Type, strings.Join(requiredFields(k), ", "))
		}
		if f.Default != nil {
			fields[f.Name] = f.Default
		}
	}
	return nil
}

func requiredFields(k *domain.Kind) []string {
	var names []string
	for _, f := range k.Fields {
		if f.Required {
			names = append(names, f.Name)
		}
	}
	return names
}
