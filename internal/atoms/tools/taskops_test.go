package tools

import (
	"slices"
	"testing"
)

// A task operation that a tool does not have would never run as a task:
// the table must name real operations.
func TestTaskOperationsExist(t *testing.T) {
	for tool, opsOf := range taskOps {
		i := slices.IndexFunc(declarations, func(d declaration) bool { return d.tool == tool })
		if i < 0 {
			t.Errorf("taskOps names %s, which is not a declared tool", tool)
			continue
		}
		for op := range opsOf {
			if !slices.Contains(declarations[i].ops.names(), op) {
				t.Errorf("taskOps names %s %s, which the tool does not have", tool, op)
			}
		}
	}
}
