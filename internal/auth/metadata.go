package auth

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/oauthex"
)

// Well-known paths served by this package's handlers.
const (
	PathProtectedResource = "/.well-known/oauth-protected-resource"
	PathAuthServer        = "/.well-known/oauth-authorization-server"
	PathOpenIDConfig      = "/.well-known/openid-configuration"
)

// ResourceMetadata serves the RFC 9728 protected-resource document at
// /.well-known/oauth-protected-resource and at the same path with the MCP
// path appended. The document is built for each request, because its
// "resource" is the URL the client used (see PublicURL). Preflights never
// reach it: the HTTP layer answers them, with the headers clients need.
type ResourceMetadata struct {
	Public *PublicURL
	// AuthorizationServers returns the issuers clients may get tokens
	// from; nil means none (static tokens only).
	AuthorizationServers func(r *http.Request) ([]string, error)
	Scopes               []string
	Name                 string
}

// ServeHTTP implements http.Handler.
func (m *ResourceMetadata) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != PathProtectedResource && r.URL.Path != PathProtectedResource+m.Public.MCPPath {
		writeJSON(w, http.StatusNotFound, map[string]string{
			"error":   "not_found",
			"message": "no protected resource at " + r.URL.Path + "; the document of this server's MCP endpoint is at " + PathProtectedResource + m.Public.MCPPath,
		})
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD, OPTIONS")
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method_not_allowed", "message": "use GET"})
		return
	}
	resource, err := m.Public.Resource(r)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "base_url_required", "message": err.Error()})
		return
	}
	doc := oauthex.ProtectedResourceMetadata{
		Resource:               resource,
		ScopesSupported:        slices.Clone(m.Scopes),
		BearerMethodsSupported: []string{"header"},
		ResourceName:           m.Name,
	}
	if m.AuthorizationServers != nil {
		if doc.AuthorizationServers, err = m.AuthorizationServers(r); err != nil {
			status := http.StatusInternalServerError
			if errors.Is(err, ErrNoBaseURL) {
				status = http.StatusBadRequest
			}
			writeJSON(w, status, map[string]string{"error": "metadata_unavailable", "message": err.Error()})
			return
		}
	}
	writeJSON(w, http.StatusOK, doc)
}

// metadataSuffixOK reports whether a well-known path is exactly prefix or
// prefix followed by the MCP path (the RFC 8414 path insertion some
// clients of the 2025-03-26 revision apply to the MCP URL).
func metadataSuffixOK(path, prefix, mcpPath string) bool {
	rest, ok := strings.CutPrefix(path, prefix)
	return ok && (rest == "" || rest == mcpPath)
}
