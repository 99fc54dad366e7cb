package main

import (
	"fmt"
	"io"
	"strings"
)

// printTable prints one row per backend and one per replica.
func printTable(out io.Writer, rep *report) {
	fmt.Fprintf(out, "\nsoak %s, %d cores, load before %s, after %s\n\n", rep.Date.Format("2006-01-02 15:04 UTC"), rep.Cores, rep.Load[0], rep.Load[1])
	fmt.Fprintln(out, "| backend | replicas | sessions | calls (read/create/update) | errors | seconds | calls/s |")
	fmt.Fprintln(out, "|---|---:|---:|---|---:|---:|---:|")
	for _, r := range rep.Runs {
		fmt.Fprintf(out, "| %s | %d | %d | %d (%d/%d/%d) | %d | %.0f | %.0f |\n", r.Backend, len(r.Replicas), r.Sessions,
			r.Calls, r.Reads, r.Creates, r.Updates, r.Errors, r.Seconds, r.Rate())
	}
	fmt.Fprintln(out)
	fmt.Fprintln(out, "| replica | sessions | calls | VmRSS warm → end MiB (growth) | RssAnon warm → end MiB | SQLite page cache warm → end MiB | RssAnon less page cache warm → end MiB (growth) | Go heap in use warm → end MiB | peak VmRSS MiB | goroutines warm → end | sessions open at end | log WARN/ERROR |")
	fmt.Fprintln(out, "|---|---:|---:|---|---|---|---|---|---:|---|---:|---|")
	for _, r := range rep.Runs {
		for _, x := range r.Replicas {
			fmt.Fprintf(out, "| %s | %d | %d | %.1f → %.1f (%+.1f%%) | %.1f → %.1f | %.1f → %.1f | %.1f → %.1f (%+.1f%%) | %.1f → %.1f | %.1f | %d → %d | %d | %d/%d |\n", x.Name, x.Sessions, x.Calls,
				mib(x.Warm.Memory.RSS), mib(x.End.Memory.RSS), x.Growth()*100, mib(x.Warm.Memory.Anon), mib(x.End.Memory.Anon),
				mib(x.Warm.PageCache), mib(x.End.PageCache), mib(x.Warm.Held()), mib(x.End.Held()), x.HeldGrowth()*100,
				mib(x.Warm.HeapInuse), mib(x.End.HeapInuse), mib(x.PeakRSS),
				x.Warm.Goroutines, x.End.Goroutines, x.End.Sessions, x.LogWarn, x.LogErrors)
		}
	}
	for _, r := range rep.Runs {
		for _, x := range r.Replicas {
			if len(x.LogFirst) > 0 {
				fmt.Fprintf(out, "\n%s log, first lines of level WARN or ERROR:\n  %s\n", x.Name, strings.Join(x.LogFirst, "\n  "))
			}
		}
	}
	fmt.Fprintln(out)
}

func mib(kib int) float64 { return float64(kib) / 1024 }
