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

// SupportedScopes lists every Atoms permission scope, in the order scope
// strings are normalised to. An authorization request without one gets
// all of them.
var SupportedScopes = []string{ScopeRead, ScopeWrite}

// ScopeOfflineAccess is how OAuth clients ask for a refresh token (OpenID
// Connect Core §11; the MCP authorization spec lets clients send it). It
// is accepted in authorization, token and registration requests and
// advertised in scopes_supported, but it is no Atoms permission: it is
// dropped from the granted scope, so it never reaches an access token or
// the consent page. Whether a refresh token is issued depends only on the
// client's grant_types (see issueTokens and docs/authserver.md).
const ScopeOfflineAccess = "offline_access"

// advertisedScopes are the scopes_supported of the metadata.
var advertisedScopes = append(append([]string(nil), SupportedScopes...), ScopeOfflineAccess)

// withoutOfflineAccess removes offline_access from a requested scope
// string, leaving the Atoms scopes for parseScope. Personal access tokens
// do not call it: for them offline_access means nothing and stays an
// error.
func withoutOfflineAccess(s string) string {
	fields := strings.Fields(s)
	return strings.Join(slices.DeleteFunc(fields, func(f string) bool { return f == ScopeOfflineAccess }), " ")
}

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

// scopeIntersection returns the normalised scopes in both a and b.
func scopeIntersection(a, b string) string {
	fa, fb := strings.Fields(a), strings.Fields(b)
	var out []string
	for _, sc := range SupportedScopes {
		if slices.Contains(fa, sc) && slices.Contains(fb, sc) {
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
