package authserver

import (
	"fmt"
	"slices"
	"strings"
)

// The scopes of the embedded authorization server (the design notes, shared/DESIGN.md): read and
// query operations, and everything that changes data.
const (
	ScopeRead  = "atoms:read"
	ScopeWrite = "atoms:write"
)

// SupportedScopes lists every scope, in the order scope strings are
// normalised to. An authorization request without a scope gets all of them.
var SupportedScopes = []string{ScopeRead, ScopeWrite}

// parseScope validates a space-separated scope string and returns it
// normalised (known order, no duplicates). An empty string means the
// default scopes.
func parseScope(s string) (string, error) {
	fields := strings.Fields(s)
	if len(fields) == 0 {
		return strings.Join(SupportedScopes, " "), nil
	}
	for _, f := range fields {
		if !slices.Contains(SupportedScopes, f) {
			return "", fmt.Errorf("scope %q is not supported; supported scopes: %s (or none, for both)", f, strings.Join(SupportedScopes, " "))
		}
	}
	var out []string
	for _, sc := range SupportedScopes {
		if slices.Contains(fields, sc) {
			out = append(out, sc)
		}
	}
	return strings.Join(out, " "), nil
}

// scopeCovers reports whether every scope of want is in have.
func scopeCovers(have, want string) bool {
	h := strings.Fields(have)
	for _, w := range strings.Fields(want) {
		if !slices.Contains(h, w) {
			return false
		}
	}
	return true
}

// scopeUnion returns the normalised union of two valid scope strings.
func scopeUnion(a, b string) string {
	var out []string
	all := strings.Fields(a + " " + b)
	for _, sc := range SupportedScopes {
		if slices.Contains(all, sc) {
			out = append(out, sc)
		}
	}
	return strings.Join(out, " ")
}

// scopeDescriptions say on the consent page what a scope allows.
var scopeDescriptions = map[string]string{
	ScopeRead:  "read your organizations, projects, documents, requirements and tests",
	ScopeWrite: "create, change and delete them",
}
