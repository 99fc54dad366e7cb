package tools

import (
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

// DeclareTasks declares the task operations of the Atoms tools in rt. The
// tasks middleware decides before the compatibility layer rewrites the
// call (it must: the task keeps the call as the client sent it, and the
// result it stores gets the old envelope on the way), so the policy
// normalises a copy of the call first: an old-style call (a renamed tool
// such as workflow_execute, an old operation name) runs as a task exactly
// when its new-style equivalent would.
func DeclareTasks(rt *tasks.Runtime) {
	argOf := map[string]string{}
	for _, d := range declarations {
		argOf[d.tool] = d.arg
	}
	policy := func(req *mcp.CallToolRequest) tasks.Support {
		c, err := normaliseCall(req.Params.Name, req.Params.Arguments)
		if err != nil {
			return tasks.None // the tool reports the arguments, synchronously
		}
		return TaskSupport(c.tool, str(c.args, argOf[c.tool]))
	}
	for _, d := range declarations {
		rt.Declare(d.tool, policy)
	}
}
