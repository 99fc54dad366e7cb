package doctor

import (
	"fmt"
	"io"
	"strings"
)

// Symbol is how a status is shown in the checklist.
func (s Status) Symbol() string {
	switch s {
	case Pass:
		return "✓"
	case Warn:
		return "⚠"
	case Fail:
		return "✗"
	}
	return "–"
}

// WriteText writes the report as a checklist grouped by area: one line
// per finding, and under each warning or failure what was observed and
// the fix; then a summary line.
func WriteText(w io.Writer, rep *Report) error {
	ew := &errWriter{w: w}
	switch {
	case rep.URL != "" && rep.Config != "":
		ew.printf("atomcp doctor %s --config %s\n", rep.URL, rep.Config)
	case rep.URL != "":
		ew.printf("atomcp doctor %s\n", rep.URL)
	default:
		ew.printf("atomcp doctor --config %s\n", rep.Config)
	}
	for _, area := range Areas {
		var fs []Finding
		for _, f := range rep.Findings {
			if f.Area == area && f.Client == "" {
				fs = append(fs, f)
			}
		}
		if len(fs) == 0 {
			continue
		}
		ew.printf("\n%s\n", area.Title())
		writeFindings(ew, fs)
	}
	for _, v := range rep.Clients {
		var fs []Finding
		for _, f := range rep.Findings {
			if f.Client == v.Name {
				fs = append(fs, f)
			}
		}
		verdict := "ready"
		if !v.Ready {
			verdict = "would fail (" + strings.Join(v.Failed, ", ") + ")"
		}
		ew.printf("\n%s [--client %s]: %s\n", v.Title, v.Name, verdict)
		writeFindings(ew, fs)
	}
	if len(rep.Clients) > 0 {
		var ready, failing []string
		for _, v := range rep.Clients {
			if v.Ready {
				ready = append(ready, v.Name)
			} else {
				failing = append(failing, v.Name)
			}
		}
		ew.printf("\nready: %s; would fail: %s\n", namesOrNone(ready), namesOrNone(failing))
	}
	s := rep.Summary
	ew.printf("\n%d passed, %d %s, %d failed, %d skipped\n", s.Pass, s.Warn, plural(s.Warn, "warning", "warnings"), s.Fail, s.Skip)
	return ew.err
}

// writeFindings writes one line per finding and, under each warning or
// failure, the evidence, the fix and the finding's ID.
func writeFindings(ew *errWriter, fs []Finding) {
	for _, f := range fs {
		ew.printf("  %s %s\n", f.Status.Symbol(), f.Title)
		if f.Status != Warn && f.Status != Fail {
			continue
		}
		if o := f.Observed.String(); o != "" {
			ew.write(wrap("observed: "+o, "      ", "        "))
		}
		if f.Fix != "" {
			ew.write(wrap("fix: "+f.Fix, "      ", "        "))
		}
		ew.printf("      [%s]\n", f.ID)
	}
}

func namesOrNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// String is the evidence on one line.
func (o *Observed) String() string {
	if o == nil {
		return ""
	}
	var parts []string
	req := strings.TrimSpace(o.Method + " " + o.URL)
	if o.Status != 0 {
		req += fmt.Sprintf(" → %d", o.Status)
	}
	if req != "" {
		parts = append(parts, req)
	}
	for _, k := range sortedKeys(o.Headers) {
		parts = append(parts, k+": "+o.Headers[k])
	}
	if o.Detail != "" {
		parts = append(parts, o.Detail)
	}
	return strings.Join(parts, "; ")
}

// WriteExchange writes one HTTP exchange for -v.
func WriteExchange(w io.Writer, x Exchange) {
	fmt.Fprintf(w, "> %s %s\n", x.Method, x.URL)
	for _, k := range sortedKeys(x.RequestHeaders) {
		fmt.Fprintf(w, "> %s: %s\n", k, x.RequestHeaders[k])
	}
	if x.RequestBody != "" {
		fmt.Fprintf(w, "> %s\n", x.RequestBody)
	}
	if x.Error != "" {
		fmt.Fprintf(w, "< error after %dms: %s\n\n", x.DurationMS, x.Error)
		return
	}
	fmt.Fprintf(w, "< %d (%dms)\n", x.Status, x.DurationMS)
	for _, k := range sortedKeys(x.ResponseHeaders) {
		fmt.Fprintf(w, "< %s: %s\n", k, x.ResponseHeaders[k])
	}
	if x.Body != "" {
		fmt.Fprintf(w, "< %s\n", strings.TrimRight(x.Body, "\n"))
	}
	fmt.Fprintln(w)
}

// wrap breaks text into lines of at most 100 columns, the first indented
// with first and the others with rest.
func wrap(text, first, rest string) string {
	const width = 100
	var b strings.Builder
	line := first
	for _, word := range strings.Fields(text) {
		if len(line) > len(rest) && len(line)+1+len(word) > width && strings.TrimSpace(line) != "" {
			b.WriteString(line + "\n")
			line = rest
		}
		if line != first && line != rest {
			line += " "
		}
		line += word
	}
	b.WriteString(line + "\n")
	return b.String()
}

// errWriter remembers the first write error.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}

func (e *errWriter) write(s string) {
	if e.err == nil {
		_, e.err = io.WriteString(e.w, s)
	}
}
