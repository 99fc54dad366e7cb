package auth

// Access is what a tool call does to data: read it or change it.
type Access int

const (
	Read Access = iota
	Write
)

func (a Access) String() string {
	if a == Read {
		return "read"
	}
	return "write"
}

// toolAccess classifies the operations of one tool. Operations not listed
// get Default.
type toolAccess struct {
	Default Access
	Read    []string
	Write   []string
}

// toolTable is the one place that says which tool operations read and
// which write. A tool missing here needs the write scope (fail closed), so
// that a new writing tool cannot slip through under the read scope; a test
// in internal/mcpserver checks that every registered tool is listed.
var toolTable = map[string]toolAccess{
	// set_context writes only the caller's own workspace context, which is
	// no change to shared data: a read-only token may set it.
	"workspace_tool": {Default: Read},
	"entity_tool": {
		Default: Write,
		Read:    []string{"read", "list", "search"},
		Write:   []string{"create", "update", "delete", "restore", "batch_create"},
	},
	"relationship_tool": {
		Default: Write,
		Read:    []string{"list", "check"},
		Write:   []string{"link", "unlink", "update"},
	},
	"workflow_tool": {Default: Write},
	"query_tool":    {Default: Read},
}

// ToolAccess returns what calling tool with operation does.
func ToolAccess(tool, operation string) Access {
	t, ok := toolTable[tool]
	if !ok {
		return Write
	}
	for _, op := range t.Read {
		if op == operation {
			return Read
		}
	}
	for _, op := range t.Write {
		if op == operation {
			return Write
		}
	}
	return t.Default
}

// KnownTool reports whether tool has an entry in the access table.
func KnownTool(tool string) bool {
	_, ok := toolTable[tool]
	return ok
}

// ScopePolicy maps tool access to the scopes that grant it. An empty
// scope means that access needs no scope of its own (a remote identity
// provider that issues only OpenID Connect scopes).
type ScopePolicy struct {
	Read  string
	Write string
}

// Enabled reports whether any per-tool check applies.
func (p ScopePolicy) Enabled() bool { return p.Read != "" || p.Write != "" }

// scopeFor returns the scope access needs, or "".
func (p ScopePolicy) scopeFor(a Access) string {
	if a == Read {
		return p.Read
	}
	return p.Write
}
