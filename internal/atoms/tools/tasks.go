package tools

import (
	"encoding/json"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/atomcp/atomcp/internal/tasks"
)

// TaskDeclaration says which operations of a tool may run as tasks (of
// the tasks extension): the long ones, whose client should be able to
// start them, go away, poll, cancel, and read the result later. Field is
// the argument that names the operation.
type TaskDeclaration struct {
	Tool       string
	Field      string
	Operations map[string]tasks.Support
}

// TaskDeclarations is the table of the Atoms tools' task operations. Every
// one is Optional: a client without the extension still gets the
// synchronous call (with progress notifications) it always had.
func TaskDeclarations() []TaskDeclaration {
	return []TaskDeclaration{
		{Tool: "workflow_tool", Field: "workflow", Operations: map[string]tasks.Support{
			"import_requirements": tasks.Optional, // up to 10000 rows in one transaction
			"bulk_status_update":  tasks.Optional, // up to 10000 entities
			"setup_test_matrix":   tasks.Optional, // a test per uncovered requirement
		}},
		{Tool: "query_tool", Field: "query_type", Operations: map[string]tasks.Support{
			"analyze": tasks.Optional, // traceability over a whole project
		}},
	}
}

// DeclareTasks declares the table in rt.
func DeclareTasks(rt *tasks.Runtime) {
	for _, d := range TaskDeclarations() {
		rt.Declare(d.Tool, d.policy)
	}
}

// policy reads the operation from the call's arguments; arguments that do
// not decode leave the call synchronous, where the tool reports them.
func (d TaskDeclaration) policy(req *mcp.CallToolRequest) tasks.Support {
	var args map[string]json.RawMessage
	if json.Unmarshal(req.Params.Arguments, &args) != nil {
		return tasks.None
	}
	var op string
	if json.Unmarshal(args[d.Field], &op) != nil {
		return tasks.None
	}
	return d.Operations[op]
}
