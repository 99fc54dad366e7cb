//go:build !linux

package atoms_test

import (
	"testing"
	"time"
)

// threadCPU is not measured outside Linux: the -cpu figures read 0.
func threadCPU(*testing.B) time.Duration { return 0 }
