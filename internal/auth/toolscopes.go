package auth

import "encoding/json"

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

// ScopePolicy maps tool calls to the scopes that grant them. An empty
// scope means that access needs no scope of its own (a remote identity
// provider that issues only OpenID Connect scopes).
type ScopePolicy struct {
	Read  string
	Write string
	// Access says what calling a tool with these arguments (the raw
	// JSON of params.arguments, nil when there are none) does; the tools
	// declare it (internal/atoms/tools.CallAccess), so that this package
	// knows no tool, and read the arguments as the call will (an old
	// client's call without "operation" is inferred there). It must
	// answer Write for a tool or operation it does not know. Nil means
	// every tool call writes (fail closed).
	Access func(tool string, arguments json.RawMessage) Access
}

// Enabled reports whether any per-tool check applies.
func (p ScopePolicy) Enabled() bool { return p.Read != "" || p.Write != "" }

// access is p.Access, or Write without one.
func (p ScopePolicy) access(tool string, arguments json.RawMessage) Access {
	if p.Access == nil {
		return Write
	}
	return p.Access(tool, arguments)
}

// scopeFor returns the scope access needs, or "".
func (p ScopePolicy) scopeFor(a Access) string {
	if a == Read {
		return p.Read
	}
	return p.Write
}
