package doctor

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestTroubleshootingDoc keeps docs/troubleshooting.md in step with the
// code: every finding ID declared in ids.go has its section (cause and
// fix), every section is a declared ID, every link to a section works,
// and the client error messages of the troubleshooting guide are mapped to findings.
func TestTroubleshootingDoc(t *testing.T) {
	data, err := os.ReadFile("../../docs/troubleshooting.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	ids := knownIDs(t)
	headings := map[string]bool{}
	anchors := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^#### `([a-z_.]+)`$").FindAllStringSubmatch(doc, -1) {
		headings[m[1]] = true
		anchors[strings.ReplaceAll(m[1], ".", "")] = true
	}
	for _, id := range ids {
		if !headings[id] {
			t.Errorf("docs/troubleshooting.md has no section #### `%s`", id)
			continue
		}
		section := doc[strings.Index(doc, "#### `"+id+"`"):]
		if next := strings.Index(section[1:], "\n#"); next > 0 {
			section = section[:next]
		}
		if !strings.Contains(section, "**Cause:**") || !strings.Contains(section, "**Fix:**") {
			t.Errorf("the section of %s lacks a cause or a fix", id)
		}
	}
	for h := range headings {
		if !slices.Contains(ids, h) {
			t.Errorf("docs/troubleshooting.md documents %s, which the code does not use", h)
		}
	}
	for _, m := range regexp.MustCompile(`\]\(#([a-z_]+)\)`).FindAllStringSubmatch(doc, -1) {
		if !anchors[m[1]] {
			t.Errorf("link to #%s, which is no section", m[1])
		}
	}
	for _, msg := range []string{
		"No 'Access-Control-Allow-Origin' header",
		"Request header field mcp-protocol-version is not allowed",
		"Cannot transition from step: client_registration",
		"Redirect is not allowed for a preflight request",
		"The response redirected too many times",
		"a 404 on `/.well-known/openid-configuration`",
	} {
		row := ""
		for _, line := range strings.Split(doc, "\n") {
			if strings.HasPrefix(line, "| ") && strings.Contains(line, msg) {
				row = line
				break
			}
		}
		if row == "" {
			t.Errorf("the message table does not map %q", msg)
		} else if !regexp.MustCompile(`\(#[a-z_]+\)`).MatchString(row) {
			t.Errorf("the row of %q names no finding", msg)
		}
	}
}
