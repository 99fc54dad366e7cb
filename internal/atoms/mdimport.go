package atoms

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/atomcp/atomcp/internal/domain"
)

// Markdown import of requirements: one requirement per list item.
//
//	- REQ-1: The rover shall stop within 2 m.   external_id REQ-1
//	* The battery lasts 8 hours.                no external_id
//	1. [ ] **SAF-3**: Brakes hold on a slope.   numbered, task box and bold id
//	    Indented lines under an item             are its description.
//
// Headings, paragraphs and fenced code are not requirements; their line
// numbers are reported as ignored, so nothing is dropped without a word.

var (
	// mdBullet matches a list item: indentation, marker, at least one space.
	mdBullet = regexp.MustCompile(`^([ \t]*)(?:[-*+]|\d{1,9}[.)])[ \t]+(.*)$`)
	// mdTaskBox is the "[ ]" or "[x]" of a task list item.
	mdTaskBox = regexp.MustCompile(`^\[[ xX]\][ \t]+`)
	// mdExternalID matches "REQ-1: text", "**REQ-1**: text", "**REQ-1:** text"
	// and "[REQ-1] text". An id starts with a letter and has a digit, so
	// that "Note: text" stays text.
	mdExternalID = regexp.MustCompile(`^(?:\*\*|__)?([A-Za-z][A-Za-z0-9_.-]*[0-9][A-Za-z0-9_.-]*)(?:\*\*|__)?[ \t]*:(?:\*\*|__)?(?:[ \t]+(.*))?$`)
	mdBracketID  = regexp.MustCompile(`^\[([A-Za-z][A-Za-z0-9_.-]*[0-9][A-Za-z0-9_.-]*)\][ \t]*:?(?:[ \t]+(.*))?$`)
)

// mdImport is what parseRequirementsMarkdown learned besides the items.
type mdImport struct {
	ignoredLines []int // non-blank lines that are not list items nor their continuation
}

// parseRequirementsMarkdown reads requirements from the list items of
// Markdown text, at most maxItems of them.
func parseRequirementsMarkdown(text string, maxItems int) ([]importItem, *mdImport, error) {
	info := &mdImport{}
	var items []importItem
	var desc []string // continuation lines of the current item
	open := false     // an item is open: indented lines continue it
	fence := ""       // the fence of an open code block
	flush := func() {
		if open && len(desc) > 0 {
			items[len(items)-1].data["description"] = strings.Join(desc, "\n")
		}
		desc, open = nil, false
	}
	for n, line := range strings.Split(text, "\n") {
		lineNo := n + 1
		line = strings.TrimSuffix(line, "\r")
		if n == 0 {
			line = strings.TrimPrefix(line, "\ufeff")
		}
		trimmed := strings.TrimSpace(line)
		if fence != "" {
			if strings.HasPrefix(trimmed, fence) {
				fence = ""
			}
			if trimmed != "" {
				info.ignoredLines = append(info.ignoredLines, lineNo)
			}
			continue
		}
		if strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~") {
			flush()
			fence = trimmed[:3]
			info.ignoredLines = append(info.ignoredLines, lineNo)
			continue
		}
		if trimmed == "" {
			continue // a blank line keeps the item open: its next indented paragraph continues it
		}
		if m := mdBullet.FindStringSubmatch(line); m != nil {
			flush()
			body := mdTaskBox.ReplaceAllString(strings.TrimSpace(m[2]), "")
			if body == "" {
				info.ignoredLines = append(info.ignoredLines, lineNo)
				continue
			}
			if len(items) == maxItems {
				return nil, nil, fmt.Errorf("%w: parameters.markdown line %d: too many list items: at most %d requirements are accepted per call; split the text and import the parts one after the other", domain.ErrInvalid, lineNo, maxItems)
			}
			where := fmt.Sprintf("parameters.markdown line %d", lineNo)
			it := importItem{where: where, data: map[string]any{}, label: map[string]string{}}
			if m := mdExternalID.FindStringSubmatch(body); m != nil {
				it.data["external_id"], body = m[1], strings.TrimSpace(m[2])
			} else if m := mdBracketID.FindStringSubmatch(body); m != nil {
				it.data["external_id"], body = m[1], strings.TrimSpace(m[2])
			}
			it.data["name"] = body // empty after an id: reported as a missing name, at this line
			items = append(items, it)
			open = true
			continue
		}
		if open && (line[0] == ' ' || line[0] == '\t') {
			desc = append(desc, trimmed)
			continue
		}
		flush()
		info.ignoredLines = append(info.ignoredLines, lineNo)
	}
	flush()
	if len(items) == 0 {
		return nil, nil, fmt.Errorf("%w: parameters.markdown has no list items; write one requirement per line as \"- REQ-1: text\" or \"* text\"", domain.ErrInvalid)
	}
	return items, info, nil
}
