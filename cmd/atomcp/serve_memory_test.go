package main

import (
	"log/slog"
	"math"
	"os"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/atomcp/atomcp/internal/config"
)

// TestApplyMemorySettings: gc_percent and memory_limit reach the runtime;
// left at their defaults, GOGC and GOMEMLIMIT of the environment win.
func TestApplyMemorySettings(t *testing.T) {
	t.Cleanup(func() {
		debug.SetGCPercent(100)
		debug.SetMemoryLimit(math.MaxInt64)
	})
	for _, tc := range []struct {
		name        string
		env         []string
		wantGC      int
		wantLimit   int64
		presetGC    int   // the runtime's value before, as GOGC would have set it
		presetLimit int64 // likewise for GOMEMLIMIT
	}{
		{"defaults", nil, 100, math.MaxInt64, 80, 1 << 30},
		{"set", []string{"ATOMCP_GC_PERCENT=50", "ATOMCP_MEMORY_LIMIT=64MiB"}, 50, 64 << 20, 80, 1 << 30},
		{"GOGC and GOMEMLIMIT win over the defaults", []string{"GOGC=80", "GOMEMLIMIT=1GiB"}, 80, 1 << 30, 80, 1 << 30},
		{"the settings win over GOGC and GOMEMLIMIT", []string{"GOGC=80", "GOMEMLIMIT=1GiB", "ATOMCP_GC_PERCENT=30", "ATOMCP_MEMORY_LIMIT=32MiB"}, 30, 32 << 20, 80, 1 << 30},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, k := range []string{"GOGC", "GOMEMLIMIT"} { // as if unset, whatever runs the test
				t.Setenv(k, "")
				if err := os.Unsetenv(k); err != nil {
					t.Fatal(err)
				}
			}
			for _, kv := range tc.env {
				k, v, _ := strings.Cut(kv, "=")
				t.Setenv(k, v)
			}
			cfg, err := config.Load(nil, tc.env, "")
			if err != nil {
				t.Fatal(err)
			}
			debug.SetGCPercent(tc.presetGC)
			debug.SetMemoryLimit(tc.presetLimit)
			applyMemorySettings(cfg, slog.New(slog.DiscardHandler))
			if got := debug.SetGCPercent(100); got != tc.wantGC {
				t.Errorf("GC percent %d, want %d", got, tc.wantGC)
			}
			if got := debug.SetMemoryLimit(-1); got != tc.wantLimit { // -1 reads the limit
				t.Errorf("memory limit %d, want %d", got, tc.wantLimit)
			}
		})
	}
}
