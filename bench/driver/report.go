package main

import (
	"fmt"
	"io"
	"strings"
)

// reference returns atomcp's row to compare r with: the one of the same
// mode (the raw ceiling is compared with atomcp stateless).
func reference(rows []*row, r *row) *row {
	mode := r.spec.Mode
	if mode == "" {
		mode = "stateless"
	}
	for _, x := range rows {
		if strings.HasPrefix(x.Key, "atomcp") && x.spec.Mode == mode {
			return x
		}
	}
	return nil
}

func ratio(a, b float64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", a/b)
}

func mib(kib int) float64 { return float64(kib) / 1024 }

// printReport writes the table (Markdown, to paste into
// docs/performance.md), the session figures and the targets.
func printReport(w io.Writer, rep *report, smoke bool) {
	fmt.Fprintln(w)
	fmt.Fprintf(w, "date %s; %d cores (%s); load before %s, after %s; %s; %s",
		rep.Date.Format("2006-01-02 15:04 MST"), rep.Machine.Cores, rep.Machine.CPU, rep.Machine.LoadBefore, rep.Machine.LoadAfter,
		rep.Machine.Go, rep.Machine.Wrk)
	if rep.Machine.Node != "" {
		fmt.Fprintf(w, "; node %s", rep.Machine.Node)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "command: %s\n", rep.Command)
	fmt.Fprintf(w, "wrk -t%v -c%v, %v runs of %vs (medians), warm-up %vs; ratios: this server ÷ atomcp of the same mode\n\n",
		rep.Settings["threads"], rep.Settings["connections"], rep.Settings["runs"], rep.Settings["duration_s"], rep.Settings["warmup_s"])
	fmt.Fprintln(w, "| server | mode | auth | tool | req/s | p50 ms | p99 ms | errors | RSS MiB | req/s ÷ atomcp | p99 ÷ atomcp | RSS ÷ atomcp |")
	fmt.Fprintln(w, "|---|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|")
	for _, r := range rep.Rows {
		mode := r.spec.Mode
		if mode == "" {
			mode = "-"
		}
		rr, rp, rm := "-", "-", "-"
		if ref := reference(rep.Rows, r); ref != nil {
			rr, rp, rm = ratio(r.RPS, ref.RPS), ratio(float64(r.P99US), float64(ref.P99US)), ratio(float64(r.RSSKiB), float64(ref.RSSKiB))
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %.0f | %.2f | %.2f | %d | %.1f | %s | %s | %s |\n",
			r.spec.Label, mode, r.spec.Auth, r.spec.Tool, r.RPS, ms(r.P50US), ms(r.P99US), r.Errors, mib(r.RSSKiB), rr, rp, rm)
	}
	if len(rep.Sessions) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "| server (fresh process) | sessions | failed | sessions/s | RSS before MiB | RSS after MiB | KiB per session |")
		fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|--:|")
		for _, s := range rep.Sessions {
			fmt.Fprintf(w, "| %s | %d | %d | %.0f | %.1f | %.1f | %.1f |\n", s.Key, s.Sessions, s.Failed, s.Rate(),
				mib(s.RSSBeforeKiB), mib(s.RSSAfterKiB), s.PerSessionKiB())
		}
	}
	if rep.ExpiryCheck != "" {
		fmt.Fprintf(w, "\nsession expiry: %s\n", rep.ExpiryCheck)
	}
	if !smoke {
		printTargets(w, rep)
	}
	if len(rep.Failures) > 0 {
		fmt.Fprintln(w, "\nFAILURES:")
		for _, f := range rep.Failures {
			fmt.Fprintln(w, "  "+f)
		}
	}
}

// printTargets checks the ratios docs/performance.md ("Targets") sets for
// atomcp against the TypeScript SDK, the bare go-sdk and the raw ceiling.
func printTargets(w io.Writer, rep *report) {
	byKey := map[string]*row{}
	for _, r := range rep.Rows {
		byKey[r.Key] = r
	}
	fmt.Fprintln(w, "\ntargets (docs/performance.md):")
	check := func(what string, got float64, ok bool, goal string) {
		verdict := "met"
		if !ok {
			verdict = "NOT met"
		}
		fmt.Fprintf(w, "  %-62s %8.2f  (goal %s) %s\n", what, got, goal, verdict)
	}
	for _, mode := range []string{"stateful", "stateless"} {
		a := byKey["atomcp-"+mode]
		if a == nil || a.RPS == 0 {
			continue
		}
		if ts := byKey["ts-"+mode+"-jwt"]; ts != nil && ts.RPS > 0 {
			check(fmt.Sprintf("atomcp %s req/s ÷ TypeScript SDK (JWT) req/s", mode), a.RPS/ts.RPS, a.RPS/ts.RPS >= 3, "≥ 3")
			check(fmt.Sprintf("atomcp %s RSS ÷ TypeScript SDK RSS", mode), float64(a.RSSKiB)/float64(ts.RSSKiB),
				float64(a.RSSKiB)/float64(ts.RSSKiB) <= 0.2, "≤ 0.2")
		}
		if g := byKey["gosdk-"+mode+"-jwt"]; g != nil && g.RPS > 0 {
			check(fmt.Sprintf("atomcp %s req/s ÷ go-sdk (JWT) req/s", mode), a.RPS/g.RPS, a.RPS/g.RPS >= 1, "≥ 1.0")
			check(fmt.Sprintf("atomcp %s p99 ÷ go-sdk (JWT) p99 at %v connections", mode, rep.Settings["connections"]),
				float64(a.P99US)/float64(g.P99US), float64(a.P99US)/float64(g.P99US) <= 1.5, "≤ 1.5")
		}
		if raw := byKey["raw"]; raw != nil && raw.RPS > 0 {
			check(fmt.Sprintf("atomcp %s req/s ÷ raw ceiling (stretch)", mode), a.RPS/raw.RPS, a.RPS/raw.RPS >= 0.15, "≥ 0.15")
		}
	}
	for _, s := range rep.Sessions {
		if s.Key == "atomcp-stateful" {
			check("atomcp KiB per idle stateful session", s.PerSessionKiB(), s.PerSessionKiB() < 20, "< 20")
		}
	}
}
