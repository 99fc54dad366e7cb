package atoms

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/atomcp/atomcp/internal/domain"
)

// wfParams reads the parameters object of a workflow. Every error wraps
// domain.ErrInvalid and names the parameter as parameters.<name>, with what
// would be accepted, so that a model can correct its call.
type wfParams struct {
	workflow string
	m        map[string]any
}

// newWFParams refuses parameters the workflow does not know: a misspelt
// optional parameter would otherwise be ignored without a word.
func newWFParams(workflow string, m map[string]any, accepted ...string) (*wfParams, error) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !slices.Contains(accepted, k) {
			return nil, fmt.Errorf("%w: parameters.%s is not a parameter of %s; accepted: %s", domain.ErrInvalid, k, workflow, strings.Join(accepted, ", "))
		}
	}
	if m == nil {
		m = map[string]any{}
	}
	return &wfParams{workflow: workflow, m: m}, nil
}

func (p *wfParams) has(name string) bool {
	v, ok := p.m[name]
	return ok && v != nil
}

func (p *wfParams) missing(name, hint string) error {
	return fmt.Errorf("%w: parameters.%s is required for %s: %s", domain.ErrInvalid, name, p.workflow, hint)
}

// str returns a string parameter, trimmed; "" when absent.
func (p *wfParams) str(name string) (string, error) {
	s, err := p.text(name)
	return strings.TrimSpace(s), err
}

// text returns a string parameter as given: the line numbers of CSV and
// Markdown errors count from its first line, blank or not.
func (p *wfParams) text(name string) (string, error) {
	v, ok := p.m[name]
	if !ok || v == nil {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%w: parameters.%s must be a string, got %s", domain.ErrInvalid, name, jsonType(v))
	}
	return s, nil
}

// MaxImportBytes bounds the CSV or Markdown text of one import, beside
// its limit of MaxWorkflowItems rows (about 400 bytes for each): it is the
// default request body limit, and holds when ATOMCP_MAX_BODY_BYTES is raised.
const MaxImportBytes = 4 << 20

// importText returns the text of a CSV or Markdown import, refused when it
// is longer than MaxImportBytes.
func (p *wfParams) importText(name string) (string, error) {
	s, err := p.text(name)
	if err == nil && len(s) > MaxImportBytes {
		return "", fmt.Errorf("%w: parameters.%s is %d bytes long; the limit is %d bytes: split the file and import the parts one after the other", domain.ErrInvalid, name, len(s), MaxImportBytes)
	}
	return s, err
}

// requiredStr returns a string parameter that must be present and not blank.
func (p *wfParams) requiredStr(name, hint string) (string, error) {
	s, err := p.str(name)
	if err != nil {
		return "", err
	}
	if s == "" {
		return "", p.missing(name, hint)
	}
	return s, nil
}

// boolean returns a boolean parameter, def when absent. "true" and "false"
// as strings are accepted, as coerceValue does, since models send them.
func (p *wfParams) boolean(name string, def bool) (bool, error) {
	v, ok := p.m[name]
	if !ok || v == nil {
		return def, nil
	}
	b, err := coerceValue(domain.Field{Name: name, Kind: domain.Bool}, v)
	if err != nil {
		return false, fmt.Errorf("%w: parameters.%s %v", domain.ErrInvalid, name, err)
	}
	return b.(bool), nil
}

// list returns a list parameter, nil when absent.
func (p *wfParams) list(name string) ([]any, error) {
	v, ok := p.m[name]
	if !ok || v == nil {
		return nil, nil
	}
	l, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%w: parameters.%s must be a list, got %s", domain.ErrInvalid, name, jsonType(v))
	}
	return l, nil
}

// object returns an object parameter, nil when absent.
func (p *wfParams) object(name string) (map[string]any, error) {
	v, ok := p.m[name]
	if !ok || v == nil {
		return nil, nil
	}
	o, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: parameters.%s must be an object, got %s", domain.ErrInvalid, name, jsonType(v))
	}
	return o, nil
}

// nameOrObject reads an item that may be given as a bare name or as an
// object of fields (an initial document, a first project): the bare name
// stands for {"name": it}.
func nameOrObject(v any, where string) (map[string]any, error) {
	switch x := v.(type) {
	case string:
		if strings.TrimSpace(x) == "" {
			return nil, fmt.Errorf("%w: %s is empty; give a name or an object with a name", domain.ErrInvalid, where)
		}
		return map[string]any{"name": strings.TrimSpace(x)}, nil
	case map[string]any:
		return x, nil
	}
	return nil, fmt.Errorf("%w: %s must be a name or an object of fields, got %s", domain.ErrInvalid, where, jsonType(v))
}

// checkItemFields validates an object of entity fields given inside a
// workflow's parameters, so that a bad field is reported with its path
// before anything is written. The parent field is set by the workflow and
// may not be given.
func checkItemFields(k *domain.Kind, data map[string]any, where string) error {
	for _, name := range sortedKeys(data) {
		if name == k.ParentField {
			return fmt.Errorf("%w: %s.%s is set by the workflow; leave it out", domain.ErrInvalid, where, name)
		}
		f, ok := k.Field(name)
		if !ok || f.Generated {
			return fmt.Errorf("%w: %s.%s is not a field of %s; accepted: %s", domain.ErrInvalid, where, name, k.Type, strings.Join(itemFields(k), ", "))
		}
		if _, err := coerceValue(f, data[name]); err != nil {
			return fmt.Errorf("%w: %s.%s: %v", domain.ErrInvalid, where, name, err)
		}
	}
	if name, _ := data[k.NameField].(string); strings.TrimSpace(name) == "" {
		return fmt.Errorf("%w: %s.%s is required", domain.ErrInvalid, where, k.NameField)
	}
	return nil
}

// itemFields are the fields a workflow item may set: the settable fields
// but the parent, which the workflow sets.
func itemFields(k *domain.Kind) []string {
	var names []string
	for _, n := range settableFields(k) {
		if n != k.ParentField {
			names = append(names, n)
		}
	}
	return names
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// withParent copies data and sets the parent field.
func withParent(data map[string]any, field, id string) map[string]any {
	out := make(map[string]any, len(data)+1)
	for k, v := range data {
		out[k] = v
	}
	out[field] = id
	return out
}
