package atoms

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/atomcp/atomcp/internal/domain"
)

func TestParseRequirementsMarkdown(t *testing.T) {
	in := "# Rover requirements\r\n" +
		"\n" +
		"- REQ-1: The rover shall stop within 2 m.\n" +
		"  Measured on dry asphalt.\n" +
		"\n" +
		"  At any speed up to 10 km/h.\n" +
		"* The battery lasts 8 hours.\n" +
		"Some paragraph that is not a requirement.\n" +
		"+ Note: colons without an id stay in the text\n" +
		"1. [ ] **SAF-3**: Brakes hold on a slope.\n" +
		"2) [x] [SAF-4] Lights work at night\n" +
		"    - nested items are requirements too\n" +
		"- **SAF-5:** bold with the colon inside\n" +
		"```\n" +
		"- not a requirement: inside a code block\n" +
		"```\n" +
		"- REQ-9:\n"
	items, info, err := parseRequirementsMarkdown(in, 100)
	if err != nil {
		t.Fatal(err)
	}
	want := []map[string]any{
		{"external_id": "REQ-1", "name": "The rover shall stop within 2 m.", "description": "Measured on dry asphalt.\nAt any speed up to 10 km/h."},
		{"name": "The battery lasts 8 hours."},
		{"name": "Note: colons without an id stay in the text"},
		{"external_id": "SAF-3", "name": "Brakes hold on a slope."},
		{"external_id": "SAF-4", "name": "Lights work at night"},
		{"name": "nested items are requirements too"},
		{"external_id": "SAF-5", "name": "bold with the colon inside"},
		{"external_id": "REQ-9", "name": ""},
	}
	if len(items) != len(want) {
		t.Fatalf("%d items; want %d: %v", len(items), len(want), items)
	}
	for i, w := range want {
		if !reflect.DeepEqual(items[i].data, w) {
			t.Errorf("item %d (%s) = %v; want %v", i, items[i].where, items[i].data, w)
		}
	}
	if items[0].where != "parameters.markdown line 3" || items[7].where != "parameters.markdown line 17" {
		t.Errorf("locations %q, %q", items[0].where, items[7].where)
	}
	if wantIgnored := []int{1, 8, 14, 15, 16}; !reflect.DeepEqual(info.ignoredLines, wantIgnored) {
		t.Errorf("ignored lines %v; want %v", info.ignoredLines, wantIgnored)
	}
	// The id without text is caught by the common check, at its line.
	invalid := checkImportItems(items)
	if len(invalid) != 1 || !strings.Contains(invalid[7].Error(), "parameters.markdown line 17: the name is empty") {
		t.Errorf("invalid = %v", invalid)
	}
}

func TestParseRequirementsMarkdownErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		bound    int
		want     []string
	}{
		{"no list", "# Title\nJust prose.\n", 10, []string{"no list items", "- REQ-1: text"}},
		{"empty", "", 10, []string{"no list items"}},
		{"over the bound", "- a\n- b\n- c\n", 2, []string{"line 3", "at most 2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := parseRequirementsMarkdown(tc.in, tc.bound)
			if !errors.Is(err, domain.ErrInvalid) {
				t.Fatalf("error %v; want ErrInvalid", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}
