package atoms

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"

	"github.com/atomcp/atomcp/internal/domain"
)

// CSV import of requirements: a header row naming the columns, then one
// requirement per row.
//
// The reader below follows RFC 4180 exactly as encoding/csv does (with
// FieldsPerRecord -1 and LazyQuotes false: the same records, the same
// inputs refused; FuzzCSVReaderMatchesEncodingCSV holds it to that), but it
// is written here because an import error must say which row and which
// column (as a field number, and then by its header) is wrong, where
// encoding/csv reports only lines and byte offsets.

// csvRecord is one record of CSV text.
type csvRecord struct {
	row    int // 1-based record number: the header is row 1
	line   int // 1-based line on which the record starts
	fields []string
}

// csvError locates a problem in the CSV text of an import. It wraps
// domain.ErrInvalid: the caller can fix it.
type csvError struct {
	row, line int
	column    int    // 1-based field number; 0 when the problem is the whole row
	header    string // the column's header, when known
	msg       string
}

func (e *csvError) Error() string { return e.position() + ": " + e.msg }

// position is where the problem is: "parameters.csv row 4 (line 5),
// column 2 (priority)".
func (e *csvError) position() string {
	var b strings.Builder
	b.WriteString("parameters.csv")
	if e.row > 0 {
		fmt.Fprintf(&b, " row %d", e.row)
		if e.line != e.row {
			fmt.Fprintf(&b, " (line %d)", e.line)
		}
	}
	if e.column > 0 {
		fmt.Fprintf(&b, ", column %d", e.column)
		if e.header != "" {
			fmt.Fprintf(&b, " (%s)", e.header)
		}
	}
	return b.String()
}

func (e *csvError) Unwrap() error { return domain.ErrInvalid }

// csvReader reads records from CSV text.
type csvReader struct {
	src  string
	off  int // bytes consumed
	line int // physical lines read
	row  int // records read
}

// readLine returns the next physical line with its "\n" (normalized from
// "\r\n"), or ok=false at the end of the text. A "\r" just before the end of
// the text is dropped, as encoding/csv does.
func (r *csvReader) readLine() (line string, ok bool) {
	if r.off >= len(r.src) {
		return "", false
	}
	rest := r.src[r.off:]
	if i := strings.IndexByte(rest, '\n'); i >= 0 {
		line = rest[:i+1]
		r.off += i + 1
	} else {
		line = strings.TrimSuffix(rest, "\r")
		r.off = len(r.src)
	}
	r.line++
	if n := len(line); n >= 2 && line[n-2] == '\r' && line[n-1] == '\n' {
		line = line[:n-2] + "\n"
	}
	return line, true
}

// lengthNL is 1 if line ends with "\n", else 0.
func lengthNL(line string) int {
	if strings.HasSuffix(line, "\n") {
		return 1
	}
	return 0
}

// read returns the next record, skipping empty lines; io.EOF at the end.
func (r *csvReader) read() (csvRecord, error) {
	var line string
	for {
		l, ok := r.readLine()
		if !ok {
			return csvRecord{}, io.EOF
		}
		if len(l) != lengthNL(l) {
			line = l
			break
		}
	}
	r.row++
	rec := csvRecord{row: r.row, line: r.line}
	var field strings.Builder
	for col := 1; ; col++ {
		if len(line) == 0 || line[0] != '"' {
			// An unquoted field runs to the next comma or the end of the line.
			end := strings.IndexByte(line, ',')
			f := line
			if end >= 0 {
				f = line[:end]
			} else {
				f = line[:len(line)-lengthNL(line)]
			}
			if strings.IndexByte(f, '"') >= 0 {
				return rec, &csvError{row: rec.row, line: r.line, column: col,
					msg: `a quote (") inside a field that does not start with one; put the whole field in quotes and double every quote inside it ("")`}
			}
			rec.fields = append(rec.fields, f)
			if end < 0 {
				return rec, nil
			}
			line = line[end+1:]
			continue
		}
		// A quoted field runs to its closing quote, across lines.
		startLine := r.line
		line = line[1:]
		field.Reset()
		for {
			if i := strings.IndexByte(line, '"'); i >= 0 {
				field.WriteString(line[:i])
				line = line[i+1:]
				switch {
				case strings.HasPrefix(line, `"`): // "" is one quote
					field.WriteByte('"')
					line = line[1:]
					continue
				case strings.HasPrefix(line, ","):
					rec.fields = append(rec.fields, field.String())
					line = line[1:]
				case len(line) == lengthNL(line):
					rec.fields = append(rec.fields, field.String())
					return rec, nil
				default:
					return rec, &csvError{row: rec.row, line: r.line, column: col,
						msg: `text after the closing quote of a quoted field; a quote inside a quoted field must be doubled ("")`}
				}
				break
			}
			if len(line) > 0 {
				field.WriteString(line)
				next, ok := r.readLine()
				if ok {
					line = next
					continue
				}
			}
			return rec, &csvError{row: rec.row, line: startLine, column: col,
				msg: `unterminated quote: the quoted field that starts here is never closed, so everything after it would be read as one value; close it with a quote (")`}
		}
	}
}

// csvColumns maps accepted header names (normalized by normalizeHeader)
// to requirement fields.
var csvColumns = map[string]string{
	"name": "name", "title": "name", "requirement": "name", "requirement_name": "name", "summary": "name",
	"description": "description", "desc": "description", "details": "description",
	"content": "content", "text": "content", "body": "content",
	"external_id": "external_id", "id": "external_id", "ext_id": "external_id", "req_id": "external_id",
	"requirement_id": "external_id", "key": "external_id", "ref": "external_id", "reference": "external_id",
	"priority": "priority",
	"status":   "status",
	"type":     "type", "requirement_type": "type",
}

// csvAccepted describes the accepted columns for error messages.
const csvAccepted = "name or title (required), description, content, external_id or id, priority, status, type; other columns are kept in the requirement's properties"

// normalizeHeader turns "External ID" or "external-id" into "external_id".
func normalizeHeader(h string) string {
	var b strings.Builder
	sep := false
	for _, r := range strings.ToLower(strings.TrimSpace(h)) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if sep && b.Len() > 0 {
				b.WriteByte('_')
			}
			sep = false
			b.WriteRune(r)
		} else {
			sep = true
		}
	}
	return b.String()
}

// importItem is one requirement to import, with where it came from so that
// errors can point at it.
type importItem struct {
	where string            // "parameters.csv row 4", "parameters.markdown line 7", "parameters.requirements[3]"
	data  map[string]any    // requirement fields
	label map[string]string // field → where its value came from, when more precise than where
	// fieldPaths: a field is where + "." + field (items of a JSON list).
	fieldPaths bool
}

// at names where a field's value came from.
func (it importItem) at(field string) string {
	if l, ok := it.label[field]; ok {
		return l
	}
	if it.fieldPaths {
		return it.where + "." + field
	}
	return it.where
}

// csvImport is what parseRequirementsCSV learned besides the items.
type csvImport struct {
	columns      map[string]string // header → requirement field, or "properties.<name>"
	extraColumns []string          // headers kept in properties
	blankRows    int               // rows with no value at all, skipped
}

// parseRequirementsCSV reads requirements from CSV text with a header row.
// It reads at most maxRows requirement rows and fails on the next one, so
// that an oversized input costs no more than a bounded one. Any structural
// problem is an error locating it; values are checked later, with those of
// the other formats.
func parseRequirementsCSV(text string, maxRows int) ([]importItem, *csvImport, error) {
	text = strings.TrimPrefix(text, "\ufeff") // spreadsheet exports start with a byte order mark
	r := &csvReader{src: text}
	header, err := r.read()
	if errors.Is(err, io.EOF) || strings.TrimSpace(text) == "" {
		return nil, nil, fmt.Errorf("%w: parameters.csv is empty; give a header row (%s) and one row per requirement", domain.ErrInvalid, csvAccepted)
	}
	if err != nil {
		return nil, nil, err
	}
	info := &csvImport{columns: map[string]string{}}
	target := make([]string, len(header.fields)) // per column: field, "properties.x", or "" (no header)
	headers := make([]string, len(header.fields))
	byField := map[string]int{}
	for i, h := range header.fields {
		headers[i] = strings.TrimSpace(h)
		norm := normalizeHeader(h)
		if headers[i] == "" {
			continue
		}
		field, known := csvColumns[norm]
		if !known {
			if guess := nearestColumn(norm); guess != "" {
				return nil, nil, &csvError{row: header.row, line: header.line, column: i + 1, header: headers[i],
					msg: fmt.Sprintf("unknown column %q; did you mean %q? accepted: %s", headers[i], guess, csvAccepted)}
			}
			key := norm
			if key == "" {
				key = headers[i]
			}
			field = "properties." + key
			info.extraColumns = append(info.extraColumns, headers[i])
		}
		if j, dup := byField[field]; dup {
			return nil, nil, &csvError{row: header.row, line: header.line, column: i + 1, header: headers[i],
				msg: fmt.Sprintf("gives the same field as column %d (%s); keep one of them", j+1, headers[j])}
		}
		byField[field] = i
		target[i] = field
		info.columns[headers[i]] = field
	}
	if _, ok := byField["name"]; !ok {
		return nil, nil, missingHeaderError(header, len(byField) > len(info.extraColumns))
	}

	var items []importItem
	for {
		rec, err := r.read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var ce *csvError
			if errors.As(err, &ce) && ce.column > 0 && ce.column <= len(headers) {
				ce.header = headers[ce.column-1]
			}
			return nil, nil, err
		}
		if len(rec.fields) != len(header.fields) {
			return nil, nil, &csvError{row: rec.row, line: rec.line,
				msg: fmt.Sprintf("has %d fields but the header row has %d (%s); a value that contains a comma, a quote or a line break must be in double quotes", len(rec.fields), len(header.fields), strings.Join(headers, ", "))}
		}
		blank := true
		for _, f := range rec.fields {
			if strings.TrimSpace(f) != "" {
				blank = false
				break
			}
		}
		if blank {
			info.blankRows++
			continue
		}
		if len(items) == maxRows {
			return nil, nil, &csvError{row: rec.row, line: rec.line,
				msg: fmt.Sprintf("too many rows: at most %d requirement rows are accepted per call; split the file and import the parts one after the other", maxRows)}
		}
		it := importItem{where: rowWhere(rec), data: map[string]any{}, label: map[string]string{}}
		var props map[string]any
		for i, f := range rec.fields {
			v := strings.TrimSpace(f)
			loc := (&csvError{row: rec.row, line: rec.line, column: i + 1, header: headers[i]}).position()
			switch field := target[i]; {
			case field == "":
				if v != "" {
					return nil, nil, &csvError{row: rec.row, line: rec.line, column: i + 1,
						msg: "has a value but its column has no header; name the column in the header row, or remove it"}
				}
			case strings.HasPrefix(field, "properties."):
				if v != "" {
					if props == nil {
						props = map[string]any{}
					}
					props[strings.TrimPrefix(field, "properties.")] = v
				}
			default:
				it.label[field] = loc
				if v == "" {
					if field == "name" {
						it.data[field] = "" // reported as a missing name, at its cell
					}
					continue
				}
				if field == "status" || field == "priority" {
					v = strings.ToLower(v) // spreadsheets capitalize: "High" means high
				}
				it.data[field] = v
			}
		}
		if props != nil {
			it.data["properties"] = props
		}
		items = append(items, it)
	}
	if len(items) == 0 {
		return nil, nil, fmt.Errorf("%w: parameters.csv has a header row but no requirement rows", domain.ErrInvalid)
	}
	return items, info, nil
}

func rowWhere(rec csvRecord) string {
	return (&csvError{row: rec.row, line: rec.line}).position()
}

// missingHeaderError explains a first row without a name column: either it
// is not a header at all (data in the first row) or it lacks the column.
func missingHeaderError(header csvRecord, anyKnown bool) error {
	found := make([]string, 0, len(header.fields))
	for i, f := range header.fields {
		if i == 5 {
			found = append(found, "…")
			break
		}
		found = append(found, fmt.Sprintf("%q", strings.TrimSpace(f)))
	}
	msg := fmt.Sprintf("missing header row: the first row must name the columns (%s), but it names none of them (found %s); add a header row such as \"external_id,name,description,priority\"", csvAccepted, strings.Join(found, ", "))
	if anyKnown {
		msg = fmt.Sprintf("the header row has no name or title column (found %s); every requirement needs a name; accepted columns: %s", strings.Join(found, ", "), csvAccepted)
	}
	return &csvError{row: header.row, line: header.line, msg: msg}
}

// nearestColumn returns the accepted column a header is a likely misspelling
// of, or "": a typo such as "priorty" must not silently become a property.
func nearestColumn(norm string) string {
	// Short names only: a typo of a column name is short, and the edit
	// distance costs the product of the lengths.
	if len(norm) < 3 || len(norm) > 40 {
		return ""
	}
	best, bestScore := "", 0.0
	for alias := range csvColumns {
		if sc := similarity(norm, alias); sc > bestScore || (sc == bestScore && alias < best) {
			best, bestScore = alias, sc
		}
	}
	if bestScore >= 0.75 {
		return best
	}
	return ""
}
