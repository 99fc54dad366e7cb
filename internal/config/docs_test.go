package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The tests in this file hold docs/configuration.md to the code: the
// settings table, the examples and the migration table must stay true.

const docPath = "../../docs/configuration.md"

func readDoc(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// tableRows returns the cells of the markdown table rows in text whose
// first cell is a backquoted setting key.
func tableRows(text string) map[string][]string {
	rows := make(map[string][]string)
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), " | ")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		rows[strings.Trim(cells[0], "`")] = cells
	}
	return rows
}

// section returns the text of doc from the heading to the next heading of
// the same or a higher level, outside code blocks.
func section(t *testing.T, doc, heading string) string {
	t.Helper()
	level := len(heading) - len(strings.TrimLeft(heading, "#"))
	var out []string
	in, fenced := false, false
	for _, line := range strings.Split(doc, "\n") {
		if strings.HasPrefix(line, "```") {
			fenced = !fenced
		}
		if !fenced && strings.HasPrefix(line, "#") {
			l := len(line) - len(strings.TrimLeft(line, "#"))
			switch {
			case line == heading:
				in = true
				continue
			case in && l <= level:
				return strings.Join(out, "\n")
			}
		}
		if in {
			out = append(out, line)
		}
	}
	if !in {
		t.Fatalf("no heading %q in %s", heading, docPath)
	}
	return strings.Join(out, "\n")
}

// codeBlocks returns the contents of the fenced blocks of the given
// language ("" for none) in text.
func codeBlocks(text, lang string) []string {
	var out []string
	var cur []string
	fenced, want := false, false
	for _, line := range strings.Split(text, "\n") {
		switch {
		case !fenced && strings.HasPrefix(line, "```"):
			fenced, want = true, line == "```"+lang
			cur = nil
		case fenced && line == "```":
			fenced = false
			if want {
				out = append(out, strings.Join(cur, "\n")+"\n")
			}
		case fenced:
			cur = append(cur, line)
		}
	}
	return out
}

func TestDocSettingsTable(t *testing.T) {
	rows := tableRows(section(t, readDoc(t), "## Settings"))
	if len(rows) != len(settings) {
		t.Errorf("settings table has %d rows, want %d", len(rows), len(settings))
	}
	for _, s := range settings {
		row, ok := rows[s.key]
		if !ok {
			t.Errorf("no row for %s", s.key)
			continue
		}
		flag, env, def := row[1], row[2], row[3]
		if s.flag == "" && flag != "—" || s.flag != "" && flag != "`--"+s.flag+"`" {
			t.Errorf("%s: flag cell %q, want --%s", s.key, flag, s.flag)
		}
		last := -1
		for _, name := range s.env {
			i := strings.Index(env, "`"+name+"`")
			if i <= last {
				t.Errorf("%s: %s missing or out of order in %q", s.key, name, env)
			}
			last = i
		}
		if strings.Count(env, "`") != 2*len(s.env) {
			t.Errorf("%s: environment cell %q names other variables", s.key, env)
		}
		if s.def != "" && !strings.Contains(def, "`"+s.def+"`") {
			t.Errorf("%s: default cell %q, want %s", s.key, def, s.def)
		}
	}
}

func TestDocDotenvFormatExample(t *testing.T) {
	blocks := codeBlocks(section(t, readDoc(t), "## The `.env` file"), "dotenv")
	if len(blocks) != 1 {
		t.Fatalf("%d dotenv blocks", len(blocks))
	}
	c := mustLoad(t, input{dotenv: blocks[0]})
	got := []any{c.Addr, c.BaseURL, c.StaticTokens["ci"].Reveal(), c.WorkOSAPIKey.Reveal(), c.Audience}
	want := []any{"0.0.0.0:8000", "https://mcp.example.com", "abc#def", "sk_$ecret", `a "quoted" value`}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestDocErrorExamples(t *testing.T) {
	doc := section(t, readDoc(t), "## Errors and warnings")
	blocks := codeBlocks(doc, "")
	if len(blocks) != 1 {
		t.Fatalf("%d plain code blocks", len(blocks))
	}
	_, err1 := Load(nil, []string{"ATOMS_FASTMCP_PORT=abc"}, "")
	path := filepath.Join(t.TempDir(), ".env")
	if err := os.WriteFile(path, []byte("# a\n# b\n\nATOMCP_LOG_LEVEL=verbose\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err2 := Load(nil, nil, path)
	_, _, err3 := load(t, input{args: []string{"--stateless=maybe"}})
	got := strings.Join([]string{err1.Error(), strings.Replace(err2.Error(), path, "/srv/atomcp/.env", 1), err3.Error()}, "\n") + "\n"
	if got != blocks[0] {
		t.Errorf("doc shows:\n%s\ncode says:\n%s", blocks[0], got)
	}
}

func TestDocPythonServerExample(t *testing.T) {
	doc := section(t, readDoc(t), "## Coming from the Python server")
	blocks := codeBlocks(doc, "dotenv")
	if len(blocks) != 1 {
		t.Fatalf("%d dotenv blocks", len(blocks))
	}
	c := mustLoad(t, input{dotenv: blocks[0]})
	if len(c.Warnings) != 0 {
		t.Errorf("warnings: %q", c.Warnings)
	}
	got := make(map[string][2]string)
	for _, a := range c.LogAttrs() {
		g := a.Value.Group()
		got[a.Key] = [2]string{g[0].Value.String(), g[1].Value.String()}
	}
	result := doc[strings.Index(doc, "runs with:"):]
	result = result[:strings.Index(result, "How the old names map")]
	rows := tableRows(result)
	if len(rows) < 5 {
		t.Fatalf("only %d rows in the table of the result", len(rows))
	}
	for key, row := range rows {
		if len(row) != 3 {
			t.Fatalf("row %q", row)
		}
		want := [2]string{strings.Trim(row[1], "`"), strings.Trim(row[2], "`")}
		if got[key] != want {
			t.Errorf("%s: doc says %q, code gives %q", key, want, got[key])
		}
	}
	// Every setting the example changes is in the table.
	for key, v := range got {
		if _, ok := rows[key]; !ok && v[1] != "default" {
			t.Errorf("%s (%q from %s) missing from the table", key, v[0], v[1])
		}
	}
	if !strings.Contains(doc, "`"+c.MCPURL()+"`") {
		t.Errorf("doc does not give the MCP URL %s", c.MCPURL())
	}
}
