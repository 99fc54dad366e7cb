//go:build ignore

// conformance-summary judges the results the MCP conformance suite wrote
// with -o DIR (a directory per scenario holding its checks.json), so that
// scripts/test.sh reads no tool's human-readable output. It prints a line
// for every scenario that did not simply pass and for every stale baseline
// entry, then "N passed, N failed, N skipped, N expected", and writes the
// counts "passed failed skipped expected" to the -counts file. It exits 1
// when a scenario failed, a baseline entry is stale, or DIR holds no result.
//
// A scenario counts as
//   - failed: a FAILURE or WARNING check that neither the baseline nor the
//     requirement set excuses, or a baseline entry that now passes (stale:
//     the suite fails the run for it, so an entry goes the day the feature
//     lands);
//   - expected: failures the suite excused, by the baseline
//     (-expected-failures) or because the requirement set (-requirements)
//     does not score the scenario;
//   - skipped: it ran no check that passed or failed;
//   - passed: everything else.
//
// These are the suite's own rules (its baseline applies to the scored
// scenarios of a requirement set only), so this program agrees with the
// suite's exit status. With -warnings any WARNING fails (the client stage's
// rule, docs/client.md).
//
//	go run scripts/conformance-summary.go -leg server -expected-failures conformance/baseline.yml \
//	    -requirements .../requirements/2026-07-28.yaml -counts counts.txt RESULTS_DIR...
//
// With -bench FILE it counts instead the servers of the benchmark driver's
// -json report (bench/driver): passed if it answered requests and none with
// an error.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

type check struct {
	ID           string `json:"id"`
	Status       string `json:"status"` // SUCCESS, FAILURE, WARNING, INFO, SKIPPED
	ErrorMessage string `json:"errorMessage"`
}

type scenario struct {
	name   string
	stamp  string  // the run's timestamp, from the directory name
	checks []check // nil: the directory holds no checks.json
}

type counts struct{ passed, failed, skipped, expected int }

func main() {
	leg := flag.String("leg", "server", "the suite's subcommand that wrote the results: server, client or authorization")
	baselineFile := flag.String("expected-failures", "", "the baseline passed to the suite (YAML, a list of scenario or scenario:check per leg)")
	reqFile := flag.String("requirements", "", "the suite's requirement set of the run (requirements/REVISION.yaml in its package)")
	warnings := flag.Bool("warnings", false, "fail on any WARNING check, excused or not")
	countsFile := flag.String("counts", "", "write \"passed failed skipped expected\" to this file")
	bench := flag.String("bench", "", "count the servers of this bench/driver -json report instead")
	flag.Parse()

	var c counts
	var err error
	if *bench != "" {
		c, err = benchCounts(*bench)
	} else {
		c, err = judge(*leg, *baselineFile, *reqFile, *warnings, flag.Args())
	}
	if *countsFile != "" {
		line := fmt.Sprintf("%d %d %d %d\n", c.passed, c.failed, c.skipped, c.expected)
		if werr := os.WriteFile(*countsFile, []byte(line), 0o644); werr != nil && err == nil {
			err = werr
		}
	}
	if err != nil {
		fmt.Println("conformance-summary:", err)
		os.Exit(1)
	}
}

func judge(leg, baselineFile, reqFile string, warnings bool, dirs []string) (counts, error) {
	var c counts
	if len(dirs) == 0 {
		return c, errors.New("no results directory named")
	}
	var baseline []string
	if baselineFile != "" {
		var err error
		if baseline, err = yamlList(baselineFile, leg); err != nil {
			return c, err
		}
	}
	var scored map[string]bool // nil: every scenario is scored
	if reqFile != "" {
		list, err := yamlList(reqFile, leg)
		if err != nil {
			return c, err
		}
		scored = map[string]bool{}
		for _, s := range list {
			scored[s] = true
		}
	}
	whole := map[string]bool{}               // baseline entries naming a scenario
	perCheck := map[string]map[string]bool{} // scenario -> check ids
	for _, e := range baseline {
		if s, id, ok := strings.Cut(e, ":"); ok {
			if perCheck[s] == nil {
				perCheck[s] = map[string]bool{}
			}
			perCheck[s][id] = true
		} else {
			whole[e] = true
		}
	}

	scenarios, err := readResults(leg, dirs)
	if err != nil {
		return c, err
	}
	if len(scenarios) == 0 {
		return c, fmt.Errorf("no scenario results under %s: did the suite run?", strings.Join(dirs, " "))
	}
	var stale []string
	nwarn := 0
	for _, s := range scenarios {
		checks := worstPerID(s.checks)
		var bad []check
		ran := false
		for _, ch := range checks {
			switch ch.Status {
			case "FAILURE", "WARNING":
				bad = append(bad, ch)
			}
			if ch.Status == "WARNING" {
				nwarn++
			}
			ran = ran || ch.Status == "SUCCESS" || ch.Status == "FAILURE"
		}
		switch {
		case scored != nil && !scored[s.name]:
			if len(bad) > 0 {
				c.expected++
				fmt.Printf("  expected  %s (not scored by %s)\n", s.name, filepath.Base(reqFile))
				continue
			}
		case whole[s.name]:
			if len(bad) > 0 {
				c.expected++
				fmt.Printf("  expected  %s (%s)\n", s.name, filepath.Base(baselineFile))
			} else {
				c.failed++
				stale = append(stale, s.name)
			}
			continue
		case perCheck[s.name] != nil:
			excused := perCheck[s.name]
			var unexcused []check
			for _, ch := range bad {
				if !excused[ch.ID] {
					unexcused = append(unexcused, ch)
				}
			}
			staleHere := false
			for _, ch := range checks {
				if excused[ch.ID] && ch.Status == "SUCCESS" {
					stale = append(stale, s.name+":"+ch.ID)
					staleHere = true
				}
			}
			if len(unexcused) > 0 || staleHere {
				c.failed++
				printFailed(s.name, unexcused)
				continue
			}
			if len(bad) > 0 {
				c.expected++
				fmt.Printf("  expected  %s (%d checks in %s)\n", s.name, len(bad), filepath.Base(baselineFile))
				continue
			}
		default:
			if len(bad) > 0 {
				c.failed++
				printFailed(s.name, bad)
				continue
			}
		}
		if ran {
			c.passed++
		} else {
			c.skipped++
			fmt.Printf("  skipped   %s (no check passed or failed)\n", s.name)
		}
	}
	if len(stale) > 0 {
		fmt.Printf("Stale baseline entries (now passing: remove them from %s):\n", baselineFile)
		for _, e := range stale {
			fmt.Println("  " + e)
		}
	}
	fmt.Printf("%d passed, %d failed, %d skipped, %d expected (scenarios)\n", c.passed, c.failed, c.skipped, c.expected)
	switch {
	case c.failed > 0:
		return c, fmt.Errorf("%d scenarios failed", c.failed)
	case warnings && nwarn > 0:
		c.failed++
		return c, fmt.Errorf("%d warnings; fix them, or baseline an extension scenario with its reason (docs/client.md)", nwarn)
	}
	return c, nil
}

func printFailed(name string, bad []check) {
	fmt.Printf("  FAILED    %s\n", name)
	for _, ch := range bad {
		fmt.Printf("            %s %s: %s\n", ch.Status, ch.ID, ch.ErrorMessage)
	}
}

// stampSuffix is the suffix the suite gives each scenario's directory:
// new Date().toISOString() with ':' and '.' replaced by '-'.
var stampSuffix = regexp.MustCompile(`-(\d{4}-\d{2}-\d{2}T[\d-]+Z)$`)

// readResults finds the scenario directories under dirs. The suite names
// them LEGPREFIX-SCENARIO-TIMESTAMP ("server-", "authorization-server-", no
// prefix for client scenarios), SCENARIO possibly with a slash ("auth/…").
// A scenario found twice (a directory reused across runs) counts once, from
// its newest run.
func readResults(leg string, dirs []string) ([]scenario, error) {
	prefix := map[string]string{"server": "server-", "authorization": "authorization-server-"}[leg]
	byName := map[string]scenario{}
	for _, root := range dirs {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || !d.IsDir() {
				return err
			}
			rel, err := filepath.Rel(root, path)
			if err != nil {
				return err
			}
			m := stampSuffix.FindStringSubmatch(rel)
			if m == nil {
				return nil // the results root, or a scenario group such as auth/
			}
			s := scenario{name: strings.TrimPrefix(strings.TrimSuffix(filepath.ToSlash(rel), m[0]), prefix), stamp: m[1]}
			b, err := os.ReadFile(filepath.Join(path, "checks.json"))
			switch {
			case errors.Is(err, fs.ErrNotExist):
				s.checks = nil // skipped by the suite (not applicable at the revision)
			case err != nil:
				return err
			default:
				if err := json.Unmarshal(b, &s.checks); err != nil {
					return fmt.Errorf("%s: %w", filepath.Join(path, "checks.json"), err)
				}
			}
			if old, ok := byName[s.name]; !ok || old.stamp < s.stamp {
				byName[s.name] = s
			}
			return filepath.SkipDir
		})
		if err != nil {
			return nil, fmt.Errorf("read results: %w", err)
		}
	}
	out := make([]scenario, 0, len(byName))
	for _, s := range byName {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out, nil
}

// worstPerID keeps one check per id, the worst (FAILURE, then WARNING,
// then SUCCESS), as the suite does before applying per-check baseline
// entries; INFO checks are dropped.
func worstPerID(checks []check) []check {
	rank := map[string]int{"FAILURE": 3, "WARNING": 2, "SUCCESS": 1}
	idx := map[string]int{}
	var out []check
	for _, ch := range checks {
		if ch.Status == "INFO" {
			continue
		}
		if i, ok := idx[ch.ID]; ok {
			if rank[ch.Status] >= rank[out[i].Status] {
				out[i] = ch
			}
			continue
		}
		idx[ch.ID] = len(out)
		out = append(out, ch)
	}
	return out
}

// yamlList reads the string items of the top-level key of a YAML file, in
// the one shape the suite's baselines and requirement sets use for them:
//
//	key:
//	  - item # comment
//
// Items that are mappings (`- scenario: x`) belong to other keys
// (not_scored) and are not read.
func yamlList(path, key string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var items []string
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.Index(line, " #"); i >= 0 {
			line = line[:i]
		}
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "" || strings.HasPrefix(trimmed, "#"):
		case line[0] != ' ' && line[0] != '-':
			in = trimmed == key+":"
		case in && strings.HasPrefix(trimmed, "- "):
			item := strings.Trim(strings.TrimSpace(trimmed[2:]), `"'`)
			if item == "" {
				return nil, fmt.Errorf("%s: an empty item under %s", path, key)
			}
			items = append(items, item)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return items, nil
}

// benchCounts counts the servers of a bench/driver -json report.
func benchCounts(path string) (counts, error) {
	var c counts
	b, err := os.ReadFile(path)
	if err != nil {
		return c, err
	}
	var rep struct {
		Rows []struct {
			Server string  `json:"server"`
			RPS    float64 `json:"rps_median"`
			Errors int64   `json:"errors"`
		} `json:"rows"`
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		return c, fmt.Errorf("%s: %w", path, err)
	}
	for _, r := range rep.Rows {
		if r.RPS > 0 && r.Errors == 0 {
			c.passed++
		} else {
			c.failed++
			fmt.Printf("  FAILED    %s: %.0f req/s, %d errors\n", r.Server, r.RPS, r.Errors)
		}
	}
	if len(rep.Rows) == 0 {
		return c, fmt.Errorf("%s: no server in the report", path)
	}
	return c, nil
}
