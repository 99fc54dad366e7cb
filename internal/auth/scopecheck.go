package auth

import (
	"net/http"
	"slices"
	"strings"
)

// requireToolScopes is the stage after peekMCP: it refuses, with 403
// insufficient_scope, a request with a tools/call whose access (read or
// write, as the tools declare it) needs a scope the token lacks.
func (m *Middleware) requireToolScopes(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := verifiedOf(r.Context())
		if v == nil {
			// Not behind Wrap's bearer check: nothing was verified.
			m.refuse(w, r, invalidToken(nil, "the token could not be verified"), nil)
			return
		}
		if e := m.checkToolScopes(v); e != nil {
			m.refuse(w, r, e, v.info)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// checkToolScopes returns the refusal for the tool calls of v, or nil.
func (m *Middleware) checkToolScopes(v *verified) *Error {
	var need []string
	var what []string
	for _, c := range v.calls {
		s := m.o.Tools.scopeFor(m.o.Tools.access(c.tool, c.arguments))
		if s != "" && !slices.Contains(v.info.Scopes, s) {
			if !slices.Contains(need, s) {
				need = append(need, s)
			}
			what = append(what, c.String())
		}
	}
	if len(need) == 0 {
		return nil
	}
	// RFC 6750 and the MCP spec's recommended approach: ask for what the
	// call needs plus what the token already has that this server uses,
	// so that stepping up does not lose earlier grants.
	scopes := slices.Clone(m.o.RequiredScopes)
	for _, s := range []string{m.o.Tools.Read, m.o.Tools.Write} {
		if s != "" && (slices.Contains(v.info.Scopes, s) || slices.Contains(need, s)) && !slices.Contains(scopes, s) {
			scopes = append(scopes, s)
		}
	}
	return &Error{Status: http.StatusForbidden, Code: CodeInsufficientScope, Scopes: scopes,
		Description: strings.Join(what, ", ") + " needs the scope " + strings.Join(need, " ")}
}
