package atoms

import (
	"errors"
	"fmt"
	"strings"

	"github.com/atomcp/atomcp/internal/domain"
	"github.com/atomcp/atomcp/internal/store"
)

// maxListedErrors bounds the problems one error message lists.
const maxListedErrors = 20

// importRequirementsWorkflow: requirements into a document, from a list of
// objects, CSV text with a header row, or a Markdown list; external ids are
// kept. Every value is checked before the first write, so that in
// transaction mode a bad row costs nothing and all bad rows are reported
// at once.
func (s *Service) importRequirementsWorkflow(params map[string]any) (func(r *wfRun) map[string]any, error) {
	p, err := newWFParams(WorkflowImportRequirements, params, "document_id", "requirements", "csv", "markdown", "defaults")
	if err != nil {
		return nil, err
	}
	docRef, err := p.str("document_id")
	if err != nil {
		return nil, err
	}
	if docRef == "" {
		docRef = AutoID
	}
	var sources []string
	for _, name := range []string{"requirements", "csv", "markdown"} {
		if p.has(name) {
			sources = append(sources, name)
		}
	}
	if len(sources) != 1 {
		return nil, fmt.Errorf("%w: import_requirements needs exactly one of parameters.requirements (a list of requirement objects), parameters.csv (CSV text with a header row) or parameters.markdown (a Markdown list); got %d of them", domain.ErrInvalid, len(sources))
	}
	defaults, err := importDefaults(p)
	if err != nil {
		return nil, err
	}

	var items []importItem
	summary := map[string]any{"format": sources[0]}
	switch sources[0] {
	case "requirements":
		items, err = listItems(p)
	case "csv":
		var text string
		if text, err = p.importText("csv"); err == nil {
			var info *csvImport
			items, info, err = parseRequirementsCSV(text, MaxWorkflowItems)
			if err == nil {
				summary["columns"] = info.columns
				if len(info.extraColumns) > 0 {
					summary["columns_kept_in_properties"] = info.extraColumns
				}
				if info.blankRows > 0 {
					summary["blank_rows_skipped"] = info.blankRows
				}
			}
		}
	case "markdown":
		var text string
		if text, err = p.importText("markdown"); err == nil {
			var info *mdImport
			items, info, err = parseRequirementsMarkdown(text, MaxWorkflowItems)
			if err == nil && len(info.ignoredLines) > 0 {
				summary["ignored_lines"] = firstN(info.ignoredLines, 100)
				summary["ignored_line_count"] = len(info.ignoredLines)
			}
		}
	}
	if err != nil {
		return nil, err
	}
	for _, it := range items {
		for k, v := range defaults {
			if _, set := it.data[k]; !set {
				it.data[k] = v
				it.label[k] = "parameters.defaults." + k
			}
		}
	}
	invalid := checkImportItems(items)

	return func(r *wfRun) map[string]any {
		var doc *domain.Entity
		if !r.step("check_input", func(tx store.Ops) (map[string]any, error) {
			d, err := r.resolveLiveIn(tx, domain.Document, docRef, "document_id")
			if err != nil {
				return nil, err
			}
			if err := r.a.requireWriteIn(d.OrganizationID, d.ProjectID(), "import requirements"); err != nil {
				return nil, err
			}
			if err := r.checkExternalIDsFree(tx, d, items, invalid); err != nil {
				return nil, err
			}
			if r.atomic && len(invalid) > 0 {
				return nil, invalidItemsError(items, invalid)
			}
			doc = d
			return map[string]any{"document": Format(d, FormatSummary), "requirements": len(items), "invalid": len(invalid)}, nil
		}) {
			for _, it := range items {
				r.skip(importStep(it), "check_input")
			}
			return nil
		}
		imported := 0
		for i, it := range items {
			if err := invalid[i]; err != nil {
				r.fail(importStep(it), err)
				continue
			}
			if r.stepEntity(importStep(it), func(tx store.Ops) (*domain.Entity, error) {
				e, err := r.s.createIn(r.ctx, tx, r.a, domain.Requirement, withParent(it.data, "document_id", doc.ID))
				if err != nil {
					return nil, itemError(it, err)
				}
				return e, nil
			}) != nil {
				imported++
			}
			reportProgress(r.ctx, i+1, len(items))
		}
		summary["document"] = Format(doc, FormatSummary)
		summary["imported"] = imported
		summary["failed"] = len(items) - imported
		return summary
	}, nil
}

// itemError puts an item's location before an error of createIn, whose
// messages call fields data.<name>: in an import there is no data argument.
func itemError(it importItem, err error) error {
	msg := err.Error()
	for _, f := range mustKind(domain.Requirement).Fields {
		msg = strings.ReplaceAll(msg, "data."+f.Name, f.Name)
	}
	return &relabeledError{msg: it.where + ": " + msg, err: err}
}

// relabeledError rewords an error and keeps its chain for errors.Is/As.
type relabeledError struct {
	msg string
	err error
}

func (e *relabeledError) Error() string { return e.msg }
func (e *relabeledError) Unwrap() error { return e.err }

func importStep(it importItem) string {
	name := "create_requirement " + strings.TrimPrefix(it.where, "parameters.")
	if ext, _ := it.data["external_id"].(string); ext != "" {
		name += " (" + ext + ")"
	}
	return name
}

// importDefaults reads parameters.defaults: fields given to every imported
// requirement that does not set them itself.
func importDefaults(p *wfParams) (map[string]any, error) {
	d, err := p.object("defaults")
	if err != nil || d == nil {
		return nil, err
	}
	k := mustKind(domain.Requirement)
	out := map[string]any{}
	for _, name := range sortedKeys(d) {
		f, ok := k.Field(name)
		if !ok || f.Generated || name == "document_id" || name == "name" || name == "external_id" {
			return nil, fmt.Errorf("%w: parameters.defaults.%s is not accepted; defaults may set: description, content, status, priority, type, properties", domain.ErrInvalid, name)
		}
		v, err := coerceValue(f, d[name])
		if err != nil {
			return nil, fmt.Errorf("%w: parameters.defaults.%s: %v", domain.ErrInvalid, name, err)
		}
		if v != nil {
			out[name] = v
		}
	}
	return out, nil
}

// listItems reads parameters.requirements: objects of requirement fields
// (or bare names).
func listItems(p *wfParams) ([]importItem, error) {
	list, err := p.list("requirements")
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("%w: parameters.requirements is empty; give a list of requirement objects such as {\"name\": \"…\", \"external_id\": \"REQ-1\"}", domain.ErrInvalid)
	}
	if len(list) > MaxWorkflowItems {
		return nil, fmt.Errorf("%w: parameters.requirements has %d items; at most %d are accepted per call; split the list and import the parts one after the other", domain.ErrInvalid, len(list), MaxWorkflowItems)
	}
	k := mustKind(domain.Requirement)
	items := make([]importItem, len(list))
	for i, v := range list {
		where := fmt.Sprintf("parameters.requirements[%d]", i)
		data, err := nameOrObject(v, where)
		if err != nil {
			return nil, err
		}
		for _, name := range sortedKeys(data) {
			if f, ok := k.Field(name); !ok || f.Generated || name == k.ParentField {
				return nil, fmt.Errorf("%w: %s.%s is not accepted; a requirement to import may set: %s (the document is parameters.document_id)", domain.ErrInvalid, where, name, strings.Join(itemFields(k), ", "))
			}
		}
		copied := make(map[string]any, len(data)+1)
		for k, v := range data {
			copied[k] = v
		}
		if _, ok := copied["name"]; !ok {
			copied["name"] = "" // reported as a missing name, with the item's path
		}
		items[i] = importItem{where: where, fieldPaths: true, data: copied, label: map[string]string{}}
	}
	return items, nil
}

// checkImportItems checks every item's values against the requirement
// schema and external ids against each other, and returns the problems by
// item index. It writes nothing and reads nothing.
func checkImportItems(items []importItem) map[int]error {
	k := mustKind(domain.Requirement)
	invalid := map[int]error{}
	seenExt := map[string]int{}
	for i, it := range items {
		for _, name := range sortedKeys(it.data) {
			f, _ := k.Field(name)
			var v any
			var err error
			if s, isStr := it.data[name].(string); name == k.NameField && isStr && strings.TrimSpace(s) == "" {
				err = errors.New("the name is empty; every requirement needs one")
			} else {
				v, err = coerceValue(f, it.data[name])
			}
			if err != nil {
				invalid[i] = fmt.Errorf("%w: %s: %v", domain.ErrInvalid, it.at(name), err)
				break
			}
			it.data[name] = v
		}
		if invalid[i] != nil {
			continue
		}
		if ext, _ := it.data["external_id"].(string); ext != "" {
			if j, dup := seenExt[ext]; dup {
				invalid[i] = fmt.Errorf("%w: %s: external_id %q is also on %s; each requirement of a project needs its own", domain.ErrInvalid, it.at("external_id"), ext, strings.TrimPrefix(items[j].where, "parameters."))
				continue
			}
			seenExt[ext] = i
		}
	}
	return invalid
}

// checkExternalIDsFree marks items whose external id a live requirement of
// the document's project already has, so that transaction mode can report
// every clash at once rather than the first.
func (r *wfRun) checkExternalIDsFree(tx store.Ops, doc *domain.Entity, items []importItem, invalid map[int]error) error {
	want := map[string][]int{}
	for i, it := range items {
		if ext, _ := it.data["external_id"].(string); ext != "" && invalid[i] == nil {
			want[ext] = append(want[ext], i)
		}
	}
	if len(want) == 0 {
		return nil
	}
	page, err := tx.ListEntities(r.ctx, store.EntityQuery{
		Type: domain.Requirement, OrganizationIDs: []string{doc.OrganizationID},
		Equals: map[string]any{"project_id": doc.Str("project_id")},
	})
	if err != nil {
		return fmt.Errorf("check external ids: %w", err)
	}
	for _, e := range page.Items {
		for _, i := range want[e.Str("external_id")] {
			invalid[i] = fmt.Errorf("%w: %s: external_id %q is already used in this project by requirement %s (%q)", domain.ErrConflict, items[i].at("external_id"), e.Str("external_id"), e.ID, e.Name())
		}
	}
	return nil
}

// invalidItemsError lists the invalid items, in input order, in one error.
func invalidItemsError(items []importItem, invalid map[int]error) error {
	var msgs []string
	conflict := false
	for i := range items {
		err := invalid[i]
		if err == nil {
			continue
		}
		conflict = conflict || errors.Is(err, domain.ErrConflict)
		if len(msgs) < maxListedErrors {
			msg := err.Error()
			for _, prefix := range []string{domain.ErrInvalid.Error() + ": ", domain.ErrConflict.Error() + ": "} {
				msg = strings.TrimPrefix(msg, prefix)
			}
			msgs = append(msgs, msg)
		}
	}
	more := ""
	if len(invalid) > len(msgs) {
		more = fmt.Sprintf("; … and %d more", len(invalid)-len(msgs))
	}
	kind := domain.ErrInvalid
	if conflict {
		kind = domain.ErrConflict
	}
	return fmt.Errorf("%w: %d of %d requirements cannot be imported, so none was: %s%s", kind, len(invalid), len(items), strings.Join(msgs, "; "), more)
}

func firstN[T any](s []T, n int) []T {
	if len(s) > n {
		return s[:n]
	}
	return s
}
