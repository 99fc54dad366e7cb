package tools

import (
	"encoding/json"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/atomcp/atomcp/internal/tasks"
)

// taskOps are the operations that may run as tasks (of the tasks
// extension), per tool: the long ones, whose client should be able to
// start them, go away, poll, cancel, and read the result later. The
// argument that selects the operation is the tool's, in declarations.
// Every one is Optional: a client without the extension still gets the
// synchronous call (with progress notifications) it always had.
// TestTaskOperationsExist keeps the names in step with the tools' ops.
var taskOps = map[string]map[string]tasks.Support{
	"workflow_tool": {
		"import_requirements": tasks.Optional, // up to 10000 rows in one transaction
		"bulk_status_update":  tasks.Optional, // up to 10000 entities
		"setup_test_matrix":   tasks.Optional, // a test per uncovered requirement
	},
	"query_tool": {
		"analyze": tasks.Optional, // traceability over a whole project
	},
}

// TaskSupport says whether calling tool with operation may run as a task.
func TaskSupport(tool, operation string) tasks.Support { return taskOps[tool][operation] }

// DeclareTasks declares the task operations of the Atoms tools in rt.
func DeclareTasks(rt *tasks.Runtime) {
	for _, d := range declarations {
		if _, ok := taskOps[d.tool]; !ok {
			continue
		}
		rt.Declare(d.tool, func(req *mcp.CallToolRequest) tasks.Support {
			return TaskSupport(d.tool, selected(req, d.arg))
		})
	}
}

// selected reads the operation from the call's arguments; arguments that
// do not decode select none, and the call stays synchronous, where the
// tool reports them.
func selected(req *mcp.CallToolRequest, arg string) string {
	var args map[string]json.RawMessage
	if json.Unmarshal(req.Params.Arguments, &args) != nil {
		return ""
	}
	var op string
	if json.Unmarshal(args[arg], &op) != nil {
		return ""
	}
	return op
}
