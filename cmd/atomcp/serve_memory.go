package main

import (
	"log/slog"
	"math"
	"os"
	"runtime/debug"

	"github.com/atomcp/atomcp/internal/config"
)

// applyMemorySettings sets the garbage collector's target (gc_percent)
// and the runtime's soft memory limit (memory_limit) for `atomcp serve`.
// A setting left at its default gives way to the Go runtime's own
// variable (GOGC, GOMEMLIMIT), which the runtime has applied already.
func applyMemorySettings(cfg *config.Config, logger *slog.Logger) {
	if env, ok := os.LookupEnv("GOGC"); ok && cfg.IsDefault(config.KeyGCPercent) {
		logger.Info("the garbage collector's target is GOGC's, from the environment", "GOGC", env)
	} else {
		debug.SetGCPercent(cfg.GCPercent)
	}
	if env, ok := os.LookupEnv("GOMEMLIMIT"); ok && cfg.IsDefault(config.KeyMemoryLimit) {
		logger.Info("the memory limit is GOMEMLIMIT's, from the environment", "GOMEMLIMIT", env)
	} else if cfg.MemoryLimit > 0 {
		debug.SetMemoryLimit(cfg.MemoryLimit)
	} else {
		debug.SetMemoryLimit(math.MaxInt64) // the runtime's "no limit"
	}
}
