//go:build ignore

// gotest-summary reads the output of `go test -json` on stdin and prints
// what plain `go test` prints: a line per package (ok, FAIL, no test
// files), the output of failed tests, build errors and panics. It writes
// the counts of top-level tests, "passed failed skipped", to the file named
// by its argument. A package that fails without a failed test (a build
// error, a crash in TestMain) counts as one failure. With -leaves it
// counts the innermost tests instead (subtests, and top-level tests that
// have none): the attack stage, whose attacks are subtests.
//
// scripts/test.sh runs it as: go test -json … | go run scripts/gotest-summary.go [-leaves] counts.txt
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// key names one test of one package.
type key struct{ pkg, test string }

type event struct {
	Action     string
	Package    string
	ImportPath string
	Test       string
	Output     string
}

func main() {
	args := os.Args[1:]
	leaves := len(args) > 0 && args[0] == "-leaves"
	if leaves {
		args = args[1:]
	}
	if len(args) != 1 {
		fmt.Fprintln(os.Stderr, "usage: go test -json ./... | go run scripts/gotest-summary.go [-leaves] COUNTS_FILE")
		os.Exit(2)
	}
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()

	buffered := map[key][]string{}  // output of running tests, printed if they fail
	failedTests := map[string]int{} // package -> failed top-level tests
	var passed, failed, skipped int
	ended := map[key]string{} // -leaves: every test's outcome, counted at the end

	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 16<<20)
	for in.Scan() {
		line := in.Text()
		var e event
		if !strings.HasPrefix(line, "{") || json.Unmarshal([]byte(line), &e) != nil {
			fmt.Fprintln(out, line) // not an event: pass it through
			continue
		}
		switch {
		case e.Action == "build-output":
			fmt.Fprint(out, e.Output)
		case e.Test == "" && e.Action == "output":
			if !noise(e.Output) {
				fmt.Fprint(out, e.Output)
			}
		case e.Test == "" && e.Action == "fail" && failedTests[e.Package] == 0:
			failed++ // the package failed with no failed test: build error, panic, TestMain
		case e.Test != "" && e.Action == "output":
			k := key{e.Package, e.Test}
			buffered[k] = append(buffered[k], e.Output)
		case e.Test != "" && (e.Action == "pass" || e.Action == "fail" || e.Action == "skip"):
			k := key{e.Package, e.Test}
			if e.Action == "fail" {
				for _, l := range buffered[k] {
					if !noise(l) {
						fmt.Fprint(out, l)
					}
				}
			}
			delete(buffered, k)
			if leaves {
				ended[k] = e.Action
				if e.Action == "fail" && !strings.Contains(e.Test, "/") {
					failedTests[e.Package]++
				}
				continue
			}
			if strings.Contains(e.Test, "/") {
				continue // subtests are counted through their top-level test
			}
			switch e.Action {
			case "pass":
				passed++
			case "fail":
				failed++
				failedTests[e.Package]++
			case "skip":
				skipped++
			}
		}
		out.Flush()
	}
	for k, action := range ended {
		if hasChild(ended, k.pkg, k.test) {
			continue
		}
		switch action {
		case "pass":
			passed++
		case "fail":
			failed++
		case "skip":
			skipped++
		}
	}
	if err := os.WriteFile(args[0], []byte(fmt.Sprintf("%d %d %d\n", passed, failed, skipped)), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "gotest-summary:", err)
		os.Exit(1)
	}
}

// noise is what `go test -json` reports that plain `go test` does not print.
func noise(s string) bool {
	for _, p := range []string{"=== RUN", "=== PAUSE", "=== CONT", "=== NAME", "--- PASS", "--- SKIP"} {
		if strings.HasPrefix(strings.TrimLeft(s, " "), p) {
			return true
		}
	}
	return s == "PASS\n"
}

// hasChild reports whether a subtest of test ended in pkg.
func hasChild(ended map[key]string, pkg, test string) bool {
	for k := range ended {
		if k.pkg == pkg && strings.HasPrefix(k.test, test+"/") {
			return true
		}
	}
	return false
}
