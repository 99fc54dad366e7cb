package tools

import "github.com/atomcp/atomcp/internal/auth"

// op is one operation of a tool and what it does to data.
type op struct {
	name   string
	access auth.Access
}

// ops are a tool's operations, in the order its schema lists them. Each
// tool declares them once, in its own file; the enum of the tool's
// selecting argument and Access are both derived from that declaration,
// and TestEveryOperationHasAnAccess keeps the two in step.
type ops []op

// names lists the operations, for the schema's enum and error messages.
func (o ops) names() []string {
	out := make([]string, len(o))
	for i, x := range o {
		out[i] = x.name
	}
	return out
}

// every declares the operations names all with the same access.
func every(names []string, a auth.Access) ops {
	out := make(ops, len(names))
	for i, n := range names {
		out[i] = op{n, a}
	}
	return out
}

// uniform reports whether every operation has the same access, and which.
func (o ops) uniform() (auth.Access, bool) {
	if len(o) == 0 {
		return auth.Write, false
	}
	for _, x := range o[1:] {
		if x.access != o[0].access {
			return auth.Write, false
		}
	}
	return o[0].access, true
}

// declaration is what a tool declares about its operations: the argument
// that selects one, and the operations.
type declaration struct {
	tool string
	arg  string
	ops  ops
}

// declarations are the tools of Register and their operations (read
// only; a test checks them against the registered tools' schemas).
var declarations = []declaration{
	{"workspace_tool", operationArg, workspaceOps},
	{"entity_tool", operationArg, entityOps},
	{"relationship_tool", operationArg, relationshipOps},
	{"query_tool", "query_type", queryOps},
	{"workflow_tool", "workflow", workflowOps},
	{"context_tool", operationArg, contextOps},
	{"workflow_execute", "workflow_name", workflowExecuteOps},
	{"health_check", "", healthOps},
}

// operationArg is the argument the HTTP scope check reads
// (internal/auth): a tool whose operations differ in access must select
// them with it.
const operationArg = "operation"

// Access says what calling tool with operation (the call's "operation"
// argument, "" when it has none) does to data; internal/auth's scope check
// asks it of every tools/call. A tool whose operations all read, or all
// write, has that access whatever the argument says (an operation it does
// not have is refused by its schema). Anything else unknown, a tool or an
// operation, writes: fail closed, so that a new writing tool or operation
// cannot slip through under the read scope.
func Access(tool, operation string) auth.Access {
	for _, d := range declarations {
		if d.tool != tool {
			continue
		}
		if a, ok := d.ops.uniform(); ok {
			return a
		}
		if d.arg != operationArg {
			return auth.Write
		}
		for _, o := range d.ops {
			if o.name == operation {
				return o.access
			}
		}
		return auth.Write
	}
	return auth.Write
}
