package atoms

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/atomcp/atomcp/internal/domain"
)

func readAll(text string) ([][]string, error) {
	r := &csvReader{src: text}
	var out [][]string
	for {
		rec, err := r.read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, rec.fields)
	}
}

func TestCSVReaderRecords(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want [][]string
	}{
		{"simple", "a,b\n1,2\n", [][]string{{"a", "b"}, {"1", "2"}}},
		{"no final newline", "a,b\n1,2", [][]string{{"a", "b"}, {"1", "2"}}},
		{"crlf", "a,b\r\n1,2\r\n", [][]string{{"a", "b"}, {"1", "2"}}},
		{"empty lines skipped", "a\n\n\r\nb\n", [][]string{{"a"}, {"b"}}},
		{"empty fields", ",,\n", [][]string{{"", "", ""}}},
		{"quoted comma and quote", `"x, ""y""",z` + "\n", [][]string{{`x, "y"`, "z"}}},
		{"quoted newline, crlf normalized", "\"line1\r\nline2\",b\n", [][]string{{"line1\nline2", "b"}}},
		{"empty quoted", `"",x`, [][]string{{"", "x"}}},
		{"trailing cr at end dropped", "a,b\r", [][]string{{"a", "b"}}},
		{"lone cr kept", "a\rb,c\n", [][]string{{"a\rb", "c"}}},
		{"spaces kept", " a , b \n", [][]string{{" a ", " b "}}},
		{"unicode", "café,naïve\n", [][]string{{"café", "naïve"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readAll(tc.in)
			if err != nil {
				t.Fatalf("error %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %q; want %q", got, tc.want)
			}
		})
	}
}

func TestCSVReaderErrorsLocateTheProblem(t *testing.T) {
	for _, tc := range []struct {
		name              string
		in                string
		row, line, column int
		msg               string
	}{
		{"unterminated quote", "name,description\nA,\"never closed\nB,ok\n", 2, 2, 2, "unterminated quote"},
		{"unterminated quote at end", "name\n\"", 2, 2, 1, "unterminated quote"},
		{"bare quote", "name,description\nA,say \"hi\"\n", 2, 2, 2, "does not start with one"},
		{"text after closing quote", "name\n\"a\"b\n", 2, 2, 1, "after the closing quote"},
		{"after a multi-line field", "name,d\n\"x\ny\",a\"b\n", 2, 3, 2, "does not start with one"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := readAll(tc.in)
			var ce *csvError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v; want a csvError", err)
			}
			if ce.row != tc.row || ce.line != tc.line || ce.column != tc.column {
				t.Errorf("at row %d line %d column %d; want row %d line %d column %d", ce.row, ce.line, ce.column, tc.row, tc.line, tc.column)
			}
			if !strings.Contains(err.Error(), tc.msg) || !errors.Is(err, domain.ErrInvalid) {
				t.Errorf("error %q: want it to mention %q and wrap ErrInvalid", err, tc.msg)
			}
		})
	}
}

func TestParseRequirementsCSV(t *testing.T) {
	items, info, err := parseRequirementsCSV("\ufeffExternal ID,Title,Description,Priority,Status,Type,Owner\n"+
		"REQ-1,Stop in time,\"Brakes, within 2 m\",High,Approved,safety,ana\n"+
		",,,,,,\n"+ // a blank spreadsheet row
		"REQ-2,Battery,,,,,\n", 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 2 || info.blankRows != 1 {
		t.Fatalf("%d items, %d blank rows; want 2 and 1", len(items), info.blankRows)
	}
	want := map[string]any{"external_id": "REQ-1", "name": "Stop in time", "description": "Brakes, within 2 m", "priority": "high", "status": "approved", "type": "safety", "properties": map[string]any{"owner": "ana"}}
	if !reflect.DeepEqual(items[0].data, want) {
		t.Errorf("row 2 = %v; want %v", items[0].data, want)
	}
	if want := map[string]any{"external_id": "REQ-2", "name": "Battery"}; !reflect.DeepEqual(items[1].data, want) {
		t.Errorf("row 4 = %v; want %v (empty cells take defaults)", items[1].data, want)
	}
	if items[1].where != "parameters.csv row 4" || items[0].at("priority") != "parameters.csv row 2, column 4 (Priority)" {
		t.Errorf("locations %q, %q", items[1].where, items[0].at("priority"))
	}
	if !reflect.DeepEqual(info.extraColumns, []string{"Owner"}) {
		t.Errorf("extra columns %v", info.extraColumns)
	}
}

func TestParseRequirementsCSVErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want []string
	}{
		{"empty", "  \n", []string{"parameters.csv is empty", "header row"}},
		{"missing header", "REQ-1,Stop in time\nREQ-2,Battery\n", []string{"row 1", "missing header row", `"REQ-1"`}},
		{"header without name", "id,priority\nREQ-1,high\n", []string{"row 1", "no name or title column"}},
		{"misspelt column", "name,priorty\nA,high\n", []string{"row 1, column 2 (priorty)", `did you mean "priority"`}},
		{"two name columns", "name,description,title\nA,b,c\n", []string{"column 3 (title)", "same field as column 1 (name)"}},
		{"too few fields", "id,name,description\nREQ-1,Login\n", []string{"row 2", "has 2 fields but the header row has 3", "double quotes"}},
		{"too many fields", "id,name\nREQ-1,Login, with comma\n", []string{"row 2", "has 3 fields"}},
		{"unterminated quote names the column", "id,name,description\nREQ-1,Login,\"oops\nREQ-2,x,y\n", []string{"row 2, column 3 (description)", "unterminated quote"}},
		{"header only", "name,description\n", []string{"no requirement rows"}},
		{"value without header", "name,\nA,b\n", []string{"row 2, column 2", "no header"}},
		{"row numbers count records, lines are given too", "name,d\n\"multi\nline\",x\nB,\"bad\"x\n", []string{"row 3 (line 4), column 2 (d)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := parseRequirementsCSV(tc.in, 100)
			if err == nil || !errors.Is(err, domain.ErrInvalid) {
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

func TestParseRequirementsCSVIsBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("id,name\n")
	for i := 1; i <= 100000; i++ {
		fmt.Fprintf(&b, "REQ-%d,Requirement %d\n", i, i)
	}
	items, _, err := parseRequirementsCSV(b.String(), MaxWorkflowItems)
	if err == nil || items != nil {
		t.Fatalf("100000 rows parsed into %d items; want an error", len(items))
	}
	// The error points at the first row over the bound: the header is row
	// 1, so requirement 10001 is row 10002.
	for _, w := range []string{"row 10002", "at most 10000"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
	items, _, err = parseRequirementsCSV(strings.Join(strings.SplitAfterN(b.String(), "\n", MaxWorkflowItems+2)[:MaxWorkflowItems+1], ""), MaxWorkflowItems)
	if err != nil || len(items) != MaxWorkflowItems {
		t.Fatalf("exactly %d rows: %d items, error %v", MaxWorkflowItems, len(items), err)
	}
}

func TestCheckImportItems(t *testing.T) {
	items, _, err := parseRequirementsCSV("id,name,priority,status\n"+
		"REQ-1,Fine,low,draft\n"+
		"REQ-2,Bad priority,urgent,draft\n"+
		"REQ-1,Duplicate id,low,draft\n"+
		"REQ-4,,low,draft\n"+
		"REQ-5,Bad status,low,pending\n", 100)
	if err != nil {
		t.Fatal(err)
	}
	invalid := checkImportItems(items)
	want := map[int][]string{
		1: {"row 3, column 3 (priority)", `"urgent" is not accepted`, "low, medium, high, critical"},
		2: {"row 4, column 1 (id)", `"REQ-1" is also on csv row 2`},
		3: {"row 5, column 2 (name)", "the name is empty"},
		4: {"row 6, column 4 (status)", "draft, active, approved, rejected, archived"},
	}
	if len(invalid) != len(want) {
		t.Fatalf("invalid = %v; want items %v", invalid, want)
	}
	for i, ws := range want {
		for _, w := range ws {
			if invalid[i] == nil || !strings.Contains(invalid[i].Error(), w) {
				t.Errorf("item %d: error %v does not mention %q", i, invalid[i], w)
			}
		}
	}
	all := invalidItemsError(items, invalid)
	if !strings.Contains(all.Error(), "4 of 5 requirements cannot be imported, so none was") {
		t.Errorf("summary error %q", all)
	}
}

// FuzzCSVReaderMatchesEncodingCSV holds the import's CSV reader to
// encoding/csv: the same records for what it accepts, an error for what it
// refuses. The reader exists only to report positions better.
func FuzzCSVReaderMatchesEncodingCSV(f *testing.F) {
	for _, s := range []string{
		"a,b\n1,2\n", "\"a\"\"b\",c", "\"unterminated", "a\"b", "\"a\"b", "\r\n\r\n", "a\r", "\"x\r\ny\"",
		"\"\"", ",", "\n\"a\n\n\",b\n", "a,\"b\r\"\r\n", "\"a\"\r", "é,\"ü\"\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, gotErr := readAll(in)
		ref := csv.NewReader(strings.NewReader(in))
		ref.FieldsPerRecord = -1
		want, wantErr := ref.ReadAll()
		if (gotErr != nil) != (wantErr != nil) {
			t.Fatalf("%q: error %v; encoding/csv error %v", in, gotErr, wantErr)
		}
		if gotErr != nil {
			if !errors.Is(gotErr, domain.ErrInvalid) {
				t.Fatalf("%q: error %v does not wrap ErrInvalid", in, gotErr)
			}
			return
		}
		if len(got) != len(want) || (len(got) > 0 && !reflect.DeepEqual(got, want)) {
			t.Fatalf("%q: records %q; encoding/csv %q", in, got, want)
		}
	})
}

// FuzzParseRequirements checks that no input makes the CSV or Markdown
// import panic, exceed its bound, or fail without an ErrInvalid error a
// caller can read.
func FuzzParseRequirements(f *testing.F) {
	for _, s := range []string{
		"id,name\nREQ-1,a\n", "name\n\"x", "- REQ-1: a\n* b\n  more\n", "```\n- x\n```\n- y", "1. [x] **A-1**: z",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		const bound = 50
		for name, parse := range map[string]func(string, int) ([]importItem, error){
			"csv": func(s string, n int) ([]importItem, error) {
				items, _, err := parseRequirementsCSV(s, n)
				return items, err
			},
			"markdown": func(s string, n int) ([]importItem, error) {
				items, _, err := parseRequirementsMarkdown(s, n)
				return items, err
			},
		} {
			items, err := parse(in, bound)
			if err != nil {
				if !errors.Is(err, domain.ErrInvalid) {
					t.Fatalf("%s %q: error %v does not wrap ErrInvalid", name, in, err)
				}
				continue
			}
			if len(items) == 0 || len(items) > bound {
				t.Fatalf("%s %q: %d items without an error", name, in, len(items))
			}
			for _, it := range items {
				if _, ok := it.data["name"]; !ok {
					t.Fatalf("%s %q: item %s has no name key: %v", name, in, it.where, it.data)
				}
			}
			_ = checkImportItems(items) // must not panic on anything a parser produced
		}
	})
}
